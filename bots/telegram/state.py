"""What the Telegram adapter remembers in Redis: which message shows a job's status,
which jobs were already sent (a restart between upload and ack must not send twice), and
each user's /lang choice."""

from __future__ import annotations

import secrets
from typing import cast

from redis.asyncio import Redis

from storage import Keys

STATUS_TTL_S = 8 * 86400  # outlives the job record
LANG_TTL_S = 365 * 86400
CLAIM = "claim:"  # a claimed ack whose message id is not known yet

# The ack of a job is claimed once per bot process. A claim left by another process (one
# that died between claiming and sending) is taken over, so a restarted bot acknowledges the
# update Telegram serves again; a re-delivery inside the same process is a duplicate. The
# worst case, two processes alive and racing on one update, is two acks instead of none.
_CLAIM_ACK = """
local v = redis.call('GET', KEYS[1])
if v and (string.sub(v, 1, 6) ~= 'claim:' or v == ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


def tg_key(keys: Keys, kind: str, ident: str) -> str:
    """The one place Telegram key names are built: ``{prefix}:tg:<kind>:<ident>``."""
    return f"{keys.base}tg:{kind}:{ident}"


class TelegramState:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._claim_token = CLAIM + secrets.token_hex(8)  # this process
        self._claim_ack = redis.register_script(_CLAIM_ACK)

    async def claim_ack(self, job_id: str) -> bool:
        """True for the handler that should acknowledge this job: False once it has been
        acknowledged, or while this process is already doing it (a re-delivered update)."""
        key = tg_key(self.keys, "status", job_id)
        return bool(await self._claim_ack(keys=[key], args=[self._claim_token, STATUS_TTL_S]))

    async def set_status_message(self, job_id: str, message_id: int) -> None:
        await self.redis.set(tg_key(self.keys, "status", job_id), str(message_id),
                             ex=STATUS_TTL_S)

    async def status_message(self, job_id: str) -> int | None:
        raw = cast("str | None", await self.redis.get(tg_key(self.keys, "status", job_id)))
        return int(raw) if raw and not raw.startswith(CLAIM) else None

    async def mark_sent(self, job_id: str) -> None:
        await self.redis.set(tg_key(self.keys, "sent", job_id), "1", ex=STATUS_TTL_S)

    async def was_sent(self, job_id: str) -> bool:
        return bool(await self.redis.exists(tg_key(self.keys, "sent", job_id)))

    async def lang(self, user_id: int | str) -> str | None:
        return cast("str | None", await self.redis.get(tg_key(self.keys, "lang", str(user_id))))

    async def set_lang(self, user_id: int | str, lang: str) -> None:
        await self.redis.set(tg_key(self.keys, "lang", str(user_id)), lang, ex=LANG_TTL_S)

    async def forget(self, user_id: int | str) -> None:
        await self.redis.delete(tg_key(self.keys, "lang", str(user_id)))
