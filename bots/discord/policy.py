"""Pure decisions about one Discord server's settings: where ``/video`` may run, which
shared pool a request draws from, what an admin may set. No discord.py, no Redis."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.models import GuildSettings, SharedPool

PLATFORM = "discord"
MAX_POOL = 100_000  # clips per day shared by a whole server; more is a typo, not a plan
MAX_CHANNELS = 50


@dataclass(frozen=True)
class Admission:
    """Whether a request may go ahead here; ``pool`` is the server's shared pool to charge,
    ``channels`` where requests are welcome when this one is refused."""

    allowed: bool
    pool: SharedPool | None = None
    channels: tuple[str, ...] = ()


def guild_name(guild_id: str) -> str:
    """The storage name of a Discord server (its settings and its pool)."""
    return f"{PLATFORM}:{guild_id}"


def ordered(channel_ids: Iterable[str]) -> tuple[str, ...]:
    """Snowflakes in creation order (numeric order without parsing them)."""
    return tuple(sorted(channel_ids, key=lambda c: (len(c), c)))


def admission(
    guild_id: str | None, settings: GuildSettings, channel_id: str, parent_id: str | None = None
) -> Admission:
    """Decide a request in ``channel_id`` (a thread also counts as its ``parent_id``).

    Direct messages (no guild) are never limited by a server's settings."""
    if guild_id is None:
        return Admission(True)
    where = {channel_id, parent_id} - {None, ""}
    if settings.channels and settings.channels.isdisjoint(where):
        return Admission(False, channels=ordered(settings.channels))
    pool = SharedPool(guild_name(guild_id), settings.daily_clips)
    return Admission(True, pool if settings.daily_clips > 0 else None)


def pool_ok(clips: int) -> bool:
    """A pool size an admin may set: 0 (off) up to MAX_POOL."""
    return 0 <= clips <= MAX_POOL


def mentions(channel_ids: Iterable[str]) -> str:
    """Channel mentions Discord renders as clickable names: ``<#1>, <#2>``."""
    return ", ".join(f"<#{c}>" for c in ordered(channel_ids))
