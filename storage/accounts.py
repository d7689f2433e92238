"""Per-user quota views and admin overrides (grants, bans)."""

from __future__ import annotations

import time

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from storage.keys import Keys
from storage.models import QuotaLimits, QuotaView


def seconds_to_utc_midnight(now_s: float) -> int:
    return int(86400 - now_s % 86400) or 86400


class Accounts:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    async def limits_for(self, user: str, defaults: QuotaLimits) -> QuotaLimits:
        g = await self.redis.hgetall(self.keys.grant(user))
        return QuotaLimits(
            daily_gpu_s=float(g.get("daily_gpu_s", defaults.daily_gpu_s)),
            daily_clips=int(g.get("daily_clips", defaults.daily_clips)),
            max_inflight=int(g.get("max_inflight", defaults.max_inflight)),
            max_queue=defaults.max_queue,
        )

    async def quota(self, user: str, defaults: QuotaLimits) -> QuotaView:
        secs, _ = await self.redis.time()
        today = str(int(secs) // 86400)
        day, gpu_s, clips = await self.redis.hmget(self.keys.quota(user), "day", "gpu_s", "clips")
        used = (float(gpu_s or 0), int(clips or 0)) if day == today else (0.0, 0)
        return QuotaView(
            used_gpu_s=max(0.0, used[0]),
            used_clips=max(0, used[1]),
            limits=await self.limits_for(user, defaults),
            reset_in_s=seconds_to_utc_midnight(secs),
            inflight=await self.redis.scard(self.keys.active(user)),
            banned=await self.redis.hget(self.keys.grant(user), "banned") == "1",
        )

    async def grant(
        self,
        user: str,
        *,
        daily_clips: int | None = None,
        daily_gpu_s: float | None = None,
        max_inflight: int | None = None,
    ) -> None:
        fields: dict[FieldT, EncodableT] = {
            name: value
            for name, value in (
                ("daily_clips", daily_clips),
                ("daily_gpu_s", daily_gpu_s),
                ("max_inflight", max_inflight),
            )
            if value is not None
        }
        if fields:
            await self.redis.hset(self.keys.grant(user), mapping=fields)

    async def set_banned(self, user: str, banned: bool) -> None:
        if banned:
            await self.redis.hset(self.keys.grant(user), "banned", "1")
        else:
            await self.redis.hdel(self.keys.grant(user), "banned")

    async def now(self) -> float:
        secs, micros = await self.redis.time()
        return secs + micros / 1e6 if secs else time.time()
