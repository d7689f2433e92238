"""Builds the core's configuration from settings; every bot process's assembly point uses it."""

from __future__ import annotations

from bots.core.moderation import Rules
from bots.core.service import CoreConfig
from clipbot.settings import Settings


def core_config(settings: Settings) -> CoreConfig:
    return CoreConfig(
        limits=settings.limits,
        gpu_seconds_per_full_clip=settings.gpu_seconds_per_full_clip,
        admins=frozenset(settings.admin_ids),
        rules=Rules.load(settings.rules_file),
    )
