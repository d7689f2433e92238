"""What the Telegram adapter remembers in Redis: which message shows a job's status,
which jobs were already sent (a restart between upload and ack must not send twice), and
each user's /lang choice."""

from __future__ import annotations

from redis.asyncio import Redis

from storage import Keys

STATUS_TTL_S = 8 * 86400  # outlives the job record
LANG_TTL_S = 365 * 86400


def tg_key(keys: Keys, kind: str, ident: str) -> str:
    """The one place Telegram key names are built: ``{prefix}:tg:<kind>:<ident>``."""
    return f"{keys.base}tg:{kind}:{ident}"


class TelegramState:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    async def claim_ack(self, job_id: str) -> bool:
        """True for the one handler that should acknowledge this job (re-deliveries get False)."""
        key = tg_key(self.keys, "status", job_id)
        return bool(await self.redis.set(key, "", nx=True, ex=STATUS_TTL_S))

    async def set_status_message(self, job_id: str, message_id: int) -> None:
        await self.redis.set(tg_key(self.keys, "status", job_id), str(message_id),
                             ex=STATUS_TTL_S)

    async def status_message(self, job_id: str) -> int | None:
        raw = await self.redis.get(tg_key(self.keys, "status", job_id))
        return int(raw) if raw else None

    async def mark_sent(self, job_id: str) -> None:
        await self.redis.set(tg_key(self.keys, "sent", job_id), "1", ex=STATUS_TTL_S)

    async def was_sent(self, job_id: str) -> bool:
        return bool(await self.redis.exists(tg_key(self.keys, "sent", job_id)))

    async def lang(self, user_id: int | str) -> str | None:
        return await self.redis.get(tg_key(self.keys, "lang", str(user_id)))

    async def set_lang(self, user_id: int | str, lang: str) -> None:
        await self.redis.set(tg_key(self.keys, "lang", str(user_id)), lang, ex=LANG_TTL_S)

    async def forget(self, user_id: int | str) -> None:
        await self.redis.delete(tg_key(self.keys, "lang", str(user_id)))
