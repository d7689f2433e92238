"""Engine heartbeats: the only evidence the reclaimer trusts that an engine is alive."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import cast

from redis.asyncio import Redis

from storage.keys import Keys
from storage.models import EngineInfo
from storage.scripts import source

# A drain request outlives any sensible wait for the current job; an engine that restarts
# under the same id clears a leftover one when it starts.
DRAIN_TTL_MS = 3600_000


class EngineRegistry:
    def __init__(self, redis: Redis, keys: Keys, *, ttl_ms: int = 15000) -> None:
        self.redis = redis
        self.keys = keys
        self.ttl_ms = ttl_ms
        self._drain = redis.register_script(source("drain"))

    async def beat(self, info: EngineInfo) -> bool:
        """Announce the engine and keep its heartbeat alive for ``ttl_ms``.

        Returns whether an operator asked this engine to drain (same round trip)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.heartbeat(info.engine_id), info.busy_job or "-", px=self.ttl_ms)
            pipe.hset(self.keys.engines, info.engine_id, json.dumps(asdict(info)))
            pipe.exists(self.keys.drain(info.engine_id))
            *_, draining = await pipe.execute()
        return bool(draining)

    async def leave(self, engine_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.keys.heartbeat(engine_id))
            pipe.hdel(self.keys.engines, engine_id)
            pipe.delete(self.keys.drain(engine_id))
            await pipe.execute()

    async def request_drain(self, engine_id: str) -> str | None:
        """Ask a live engine to drain. None (and nothing written) if no such engine is live;
        else its heartbeat: '-' when idle, or the id of the job it is busy with."""
        keys = [self.keys.heartbeat(engine_id), self.keys.drain(engine_id)]
        return cast("str | None", await self._drain(keys=keys, args=[DRAIN_TTL_MS]))

    async def drain_requested(self, engine_id: str) -> bool:
        return bool(await self.redis.exists(self.keys.drain(engine_id)))

    async def clear_drain(self, engine_id: str) -> None:
        await self.redis.delete(self.keys.drain(engine_id))

    async def live(self) -> list[EngineInfo]:
        """Engines with a live heartbeat; forgets announcements of dead ones."""
        raw = cast("dict[str, str]", await self.redis.hgetall(self.keys.engines))
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
        raw = cast("list[str]", await self.redis.hkeys(self.keys.engines))
        dead = [e for e in raw if not await self.redis.exists(self.keys.heartbeat(e))]
        if dead:
            await self.redis.hdel(self.keys.engines, *dead)
        return len(dead)
