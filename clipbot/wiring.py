"""Builds shared services from settings; every process's assembly point uses these."""

from __future__ import annotations

from bots.core.moderation import Rules
from bots.core.service import CoreConfig
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


def core_config(settings: Settings) -> CoreConfig:
    return CoreConfig(
        limits=settings.limits,
        gpu_seconds_per_full_clip=settings.gpu_seconds_per_full_clip,
        admins=frozenset(settings.admin_ids),
        rules=Rules.load(settings.rules_file),
    )
