"""Pure pieces of Discord messages: progress bars, timestamps, the stored reply context."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024  # Discord's attachment limit without boosts
BAR_WIDTH = 12
# Stop using an interaction token a little before Discord does, so that an edit or upload
# already under way does not straddle the deadline.
TOKEN_MARGIN_S = 30.0


def progress_bar(percent: float, width: int = BAR_WIDTH) -> str:
    """``▰▰▰▱▱▱ 50%``; clamps to 0..100."""
    p = min(100.0, max(0.0, percent))
    filled = math.floor(width * p / 100 + 1e-9)
    return "▰" * filled + "▱" * (width - filled) + f" {round(p)}%"


def relative_time(unix_s: float) -> str:
    """A Discord timestamp each viewer's app shows as 'in 2 minutes', in their language."""
    return f"<t:{math.ceil(unix_s)}:R>"


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def token_margin(window_s: float) -> float:
    return min(TOKEN_MARGIN_S, window_s / 4)


@dataclass(frozen=True)
class ReplyContext:
    """Where a job's replies go; stored with the job so that a restarted bot can deliver."""

    app_id: str
    token: str  # the interaction token: valid for ``window_s`` after ``created_at``
    created_at: float  # unix seconds, from the interaction id (a snowflake)
    channel_id: str
    user_id: str
    guild_id: str | None = None
    status_message_id: str | None = None
    upload_limit: int = DEFAULT_UPLOAD_LIMIT

    def token_alive(self, now: float, window_s: float) -> bool:
        return now - self.created_at < window_s - token_margin(window_s)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReplyContext | None:
        """None for a job another adapter created (or a malformed context)."""
        try:
            return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except TypeError:
            return None
