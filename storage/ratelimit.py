"""Sliding-window rate limits in Redis: an attempt is counted in all of its windows (a
client's own and a global one) by one script, or refused by it, so parallel requests can
never slip past the limit between a check and a write."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from storage.keys import Keys
from storage.scripts import source


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_in_s: float  # 0 when allowed


@dataclass(frozen=True)
class Limit:
    attempts: int  # at most this many ...
    window_s: float  # ... in any window this long


class RateLimiter:
    """Attempts of one kind (``name``), limited per client and for all clients together."""

    def __init__(self, redis: Redis, keys: Keys, name: str, *, per_client: Limit,
                 overall: Limit) -> None:
        if per_client.window_s != overall.window_s:
            raise ValueError("both limits of one kind share their window")
        self.redis = redis
        self.keys = keys
        self.name = name
        self.per_client = per_client
        self.overall = overall
        self._script: AsyncScript = redis.register_script(source("ratelimit"))

    async def attempt(self, client: str) -> Verdict:
        """Count one attempt by ``client``, or refuse it with the time until one is allowed."""
        allowed, wait_ms = await self._script(
            keys=[self.keys.rate(self.name, client), self.keys.rate(self.name, "*")],
            args=[int(self.overall.window_s * 1000), secrets.token_hex(8),
                  self.per_client.attempts, self.overall.attempts],
        )
        return Verdict(bool(int(allowed)), int(wait_ms) / 1000)
