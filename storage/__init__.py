"""Everything clipbot keeps in Redis."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import cast

from redis.asyncio import Redis

from storage.accounts import Accounts
from storage.clips import ClipStore, FolderClipStore, RedisClipStore
from storage.connection import connect, connect_binary
from storage.engines import EngineRegistry
from storage.guilds import Guilds
from storage.jobs import JobStore
from storage.keys import Keys
from storage.models import (
    Accepted,
    Claim,
    ClipMeta,
    GuildSettings,
    JobRecord,
    JobRequest,
    JobState,
    QuotaLimits,
    QuotaView,
    Refused,
    ResultEvent,
    SharedPool,
)
from storage.results import ResultReader

__all__ = [
    "Accepted",
    "Accounts",
    "Claim",
    "ClipMeta",
    "ClipStore",
    "EngineRegistry",
    "GuildSettings",
    "Guilds",
    "JobRecord",
    "JobRequest",
    "JobState",
    "JobStore",
    "Keys",
    "QuotaLimits",
    "QuotaView",
    "Refused",
    "ResultEvent",
    "ResultReader",
    "SharedPool",
    "Storage",
]


@dataclass
class Storage:
    """All Redis-backed services of one process, sharing two connection pools."""

    jobs: JobStore
    accounts: Accounts
    engines: EngineRegistry
    guilds: Guilds
    clips: ClipStore
    keys: Keys
    blobs: Redis  # returns bytes: clips and input images
    _stack: AsyncExitStack

    @classmethod
    async def open(
        cls,
        url: str,
        prefix: str,
        *,
        clip_store: str = "redis",
        clip_ttl_s: int = 86400,
        record_ttl_s: int = 7 * 86400,
        max_attempts: int = 3,
        heartbeat_ttl_ms: int = 15000,
    ) -> Storage:
        """Connect and check Redis answers; raises redis ConnectionError if it does not."""
        stack = AsyncExitStack()
        redis = connect(url)
        stack.push_async_callback(redis.aclose)
        blobs = connect_binary(url)
        stack.push_async_callback(blobs.aclose)
        probe = connect(url, retries=1)  # fail fast at start-up; retries are for later
        try:
            await probe.ping()
        except BaseException:
            await stack.aclose()
            raise
        finally:
            await probe.aclose()
        keys = Keys(prefix)
        clips: ClipStore = (
            RedisClipStore(blobs, keys, ttl_s=clip_ttl_s)
            if clip_store == "redis"
            else FolderClipStore(Path(clip_store), ttl_s=clip_ttl_s)
        )
        jobs = JobStore(redis, keys, record_ttl_s=record_ttl_s, max_attempts=max_attempts)
        await jobs.ensure_groups()
        return cls(
            jobs=jobs,
            accounts=Accounts(redis, keys),
            engines=EngineRegistry(redis, keys, ttl_ms=heartbeat_ttl_ms),
            guilds=Guilds(redis, keys),
            clips=clips,
            keys=keys,
            blobs=blobs,
            _stack=stack,
        )

    @property
    def redis(self) -> Redis:
        return self.jobs.redis

    async def image(self, job_id: str) -> bytes | None:
        """The photo a job animates, if it has one."""
        return cast("bytes | None", await self.blobs.get(self.keys.image(job_id)))

    async def close(self) -> None:
        await self._stack.aclose()

    async def __aenter__(self) -> Storage:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
