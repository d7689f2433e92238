"""The bots' side of the result stream: a consumer group per platform, so a bot restarted
mid-job still gets (and delivers) every result."""

from __future__ import annotations

from typing import cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from storage.keys import BOT_GROUP, Keys
from storage.models import JobState, ResultEvent

# Another bot process that held an event this long without acking it is presumed dead.
STALE_BOT_MS = 120_000


class ResultReader:
    def __init__(self, redis: Redis, keys: Keys, platform: str, consumer: str) -> None:
        self.redis = redis
        self.stream = keys.results(platform)
        self.consumer = consumer
        self._backlog = True  # first re-read what this consumer got but never acked

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.stream, BOT_GROUP, "0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def retry_later(self) -> None:
        """Re-read this consumer's unacked events on the next ``read``."""
        self._backlog = True

    async def read(self, block_ms: int = 5000, count: int = 16) -> list[ResultEvent]:
        if self._backlog:
            got = await self._read("0", count, None)
            if got:
                return got
            self._backlog = False
            stolen = await self.redis.xautoclaim(
                self.stream, BOT_GROUP, self.consumer, STALE_BOT_MS, "0-0", count=count
            )
            if stolen[1]:
                return [_event(i, f) for i, f in stolen[1] if f]
        return await self._read(">", count, block_ms)

    async def _read(self, start: str, count: int, block: int | None) -> list[ResultEvent]:
        reply = await self.redis.xreadgroup(
            BOT_GROUP, self.consumer, {self.stream: start}, count=count, block=block
        )
        res = cast("list[tuple[str, list[tuple[str, dict[str, str]]]]]", reply)  # decoded
        if not res:
            return []
        return [_event(i, f) for i, f in res[0][1] if f]


def _event(entry_id: str, fields: dict[str, str]) -> ResultEvent:
    return ResultEvent(
        entry_id=entry_id,
        job_id=fields["job"],
        state=JobState(fields["state"]),
        error=fields.get("error", ""),
    )
