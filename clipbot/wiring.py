"""Opens the shared storage from settings; every process's assembly point uses it."""

from __future__ import annotations

from clipbot.settings import Settings
from storage import Storage


async def open_storage(settings: Settings) -> Storage:
    """Connected storage (use as ``async with await open_storage(s) as storage``)."""
    return await Storage.open(
        settings.redis_url,
        settings.redis_prefix,
        clip_store=settings.clip_store,
        clip_ttl_s=settings.clip_ttl_s,
        record_ttl_s=settings.record_ttl_s,
        max_attempts=settings.max_attempts,
        heartbeat_ttl_ms=int(settings.heartbeat_ttl_s * 1000),
    )

