"""Engine heartbeats: the only evidence the reclaimer trusts that an engine is alive."""

from __future__ import annotations

import json
from dataclasses import asdict

from redis.asyncio import Redis

from storage.keys import Keys
from storage.models import EngineInfo


class EngineRegistry:
    def __init__(self, redis: Redis, keys: Keys, *, ttl_ms: int = 15000) -> None:
        self.redis = redis
        self.keys = keys
        self.ttl_ms = ttl_ms

    async def beat(self, info: EngineInfo) -> None:
        """Announce the engine and keep its heartbeat alive for ``ttl_ms``."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.heartbeat(info.engine_id), info.busy_job or "-", px=self.ttl_ms)
            pipe.hset(self.keys.engines, info.engine_id, json.dumps(asdict(info)))
            await pipe.execute()

    async def leave(self, engine_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.keys.heartbeat(engine_id))
            pipe.hdel(self.keys.engines, engine_id)
            await pipe.execute()

    async def live(self) -> list[EngineInfo]:
        """Engines with a live heartbeat; forgets announcements of dead ones."""
        raw = await self.redis.hgetall(self.keys.engines)
        alive: list[EngineInfo] = []
        for engine_id, blob in raw.items():
            beat = await self.redis.get(self.keys.heartbeat(engine_id))
            if beat is None:
                continue
            data = json.loads(blob)
            data["busy_job"] = "" if beat == "-" else beat
            alive.append(EngineInfo(**data))
        return alive

    async def prune(self) -> int:
        """Drop announcements whose heartbeat expired (their jobs are reclaimed separately)."""
        raw = await self.redis.hkeys(self.keys.engines)
        dead = [e for e in raw if not await self.redis.exists(self.keys.heartbeat(e))]
        if dead:
            await self.redis.hdel(self.keys.engines, *dead)
        return len(dead)
