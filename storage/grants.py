"""Pure checks of an operator's grant (per-user daily limits) and user names.

Every way an operator can grant (``clipbot admin grant``, a chat command) should accept the
same ranges; larger numbers are typos, not plans.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_DAILY_CLIPS = 100_000
MAX_DAILY_GPU_S = 10_000_000.0
MAX_INFLIGHT = 100
_MAX_USER_LEN = 200


@dataclass(frozen=True)
class GrantValues:
    """Checked limits; ``None`` leaves that limit unchanged."""

    daily_clips: int | None = None
    daily_gpu_s: float | None = None
    max_inflight: int | None = None


class GrantError(ValueError):
    """A grant or user name an operator typed that is refused (the message says why)."""


def check_user(user: str) -> str:
    """``platform:id`` with both parts non-empty and printable, e.g. ``telegram:12345``."""
    platform, sep, ident = user.partition(":")
    if not sep or not platform.strip() or not ident.strip():
        raise GrantError(f"users are named platform:id, e.g. telegram:12345 (got {user!r})")
    if len(user) > _MAX_USER_LEN or not user.isprintable() or user != user.strip():
        raise GrantError(f"not a user name: {user!r}")
    return user


def _whole(name: str, raw: str | None, low: int, high: int) -> int | None:
    if raw is None:
        return None
    text = raw.strip()
    if not text.removeprefix("-").isdecimal():
        raise GrantError(f"{name} must be a whole number from {low} to {high} (got {raw!r})")
    value = int(text)
    if not low <= value <= high:
        raise GrantError(f"{name} must be from {low} to {high} (got {value})")
    return value


def _seconds(name: str, raw: str | None, high: float) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise GrantError(f"{name} must be a number of seconds (got {raw!r})") from None
    if not math.isfinite(value) or not 0 <= value <= high:
        raise GrantError(f"{name} must be from 0 to {high:.0f} (got {raw.strip()})")
    return value


def check_grant(
    clips: str | int | None = None,
    gpu_seconds: str | float | None = None,
    inflight: str | int | None = None,
) -> GrantValues:
    """Range-checks a grant given as text (a command line) or numbers; raises GrantError."""
    return GrantValues(
        daily_clips=_whole("--clips", _text(clips), 0, MAX_DAILY_CLIPS),
        daily_gpu_s=_seconds("--gpu-seconds", _text(gpu_seconds), MAX_DAILY_GPU_S),
        max_inflight=_whole("--inflight", _text(inflight), 1, MAX_INFLIGHT),
    )


def _text(value: str | float | None) -> str | None:
    return None if value is None else str(value)
