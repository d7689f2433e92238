"""What the WhatsApp adapter remembers in Redis: seen message ids, when each user last
wrote (the 24-hour customer-service window), results held for later, language choice.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import cast

from redis.asyncio import Redis

from storage import Keys

WINDOW_S = 24 * 3600
# Sending takes a moment and clocks differ; treat the window as closing a little early.
WINDOW_MARGIN_S = 300
SEEN_TTL_S = 48 * 3600  # Meta retries a webhook for up to about a day
HELD_TTL_S = 14 * 86400  # uploaded media stay on Meta's side for 30 days
LANG_TTL_S = 365 * 86400

# Keeps the newest time only: a late-retried webhook must not move the window backwards.
_SAW_USER = """
local old = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > old then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
"""


def wa_key(keys: Keys, kind: str, ident: str) -> str:
    """The one place WhatsApp key names are built: ``{prefix}:wa:<kind>:<ident>``."""
    return f"{keys.base}wa:{kind}:{ident}"


def inside_window(last_seen: float | None, now: float, *, margin_s: float = WINDOW_MARGIN_S
                  ) -> bool:
    """Whether a free-form message may still be sent (the user wrote in the last 24 h)."""
    return last_seen is not None and now - last_seen < WINDOW_S - margin_s


@dataclass(frozen=True)
class Held:
    """A result that finished while the user's window was closed, sent when they write."""

    job_id: str
    locale: str
    media_id: str = ""  # an uploaded clip (with ``text`` as its caption) ...
    text: str = ""  # ... or only a message (a failure notice)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> Held:
        return cls(**json.loads(raw))


class ChatState:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._saw_user = redis.register_script(_SAW_USER)

    def key(self, kind: str, ident: str) -> str:
        return wa_key(self.keys, kind, ident)

    async def first_sight(self, message_id: str) -> bool:
        """True once per WhatsApp message id; Meta's retries get False."""
        return bool(await self.redis.set(self.key("msg", message_id), "1", nx=True,
                                         ex=SEEN_TTL_S))

    async def saw_user(self, wa_id: str, at: float) -> None:
        await self._saw_user(keys=[self.key("seen", wa_id)], args=[repr(float(at)), WINDOW_S])

    async def last_seen(self, wa_id: str) -> float | None:
        raw = await self.redis.get(self.key("seen", wa_id))
        return float(raw) if raw else None

    async def hold(self, wa_id: str, item: Held) -> None:
        key = self.key("held", wa_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, item.to_json())
            pipe.expire(key, HELD_TTL_S)
            await pipe.execute()

    async def take_held(self, wa_id: str) -> list[Held]:
        """Everything held for the user, removed in the same step (two messages arriving
        together must not both announce it)."""
        key = self.key("held", wa_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lrange(key, 0, -1)
            pipe.delete(key)
            raw, _ = await pipe.execute()
        # A delivery retried after holding holds the same job twice; announce it once.
        items = {item.job_id: item for item in map(Held.from_json, raw)}
        return list(items.values())

    async def language(self, wa_id: str) -> str | None:
        return cast("str | None", await self.redis.get(self.key("lang", wa_id)))

    async def set_language(self, wa_id: str, lang: str) -> None:
        await self.redis.set(self.key("lang", wa_id), lang, ex=LANG_TTL_S)

    set_lang = set_language  # the command table's name for it

    async def forget(self, wa_id: str) -> None:
        await self.redis.delete(*(self.key(k, wa_id) for k in ("seen", "held", "lang")))
