"""Pure decisions of the Telegram adapter: idempotency keys, button data, commands, locale."""

from __future__ import annotations

import datetime as dtm
import re
from dataclasses import dataclass
from enum import StrEnum

from bots.i18n import normalize

PLATFORM = "telegram"
# Telegram refuses callback data longer than 64 bytes.
MAX_CALLBACK_BYTES = 64


class Action(StrEnum):
    RETRY = "r"  # same prompt, new seed
    VARY = "v"  # new seed plus a small change of shot
    CANCEL = "c"  # stop a queued or running job
    LANG = "l"  # the user picked a language


@dataclass(frozen=True)
class Button:
    action: Action
    arg: str


def message_key(chat_id: int | str, message_id: int | str) -> str:
    """Idempotency key of a prompt: a re-delivered update carries the same message."""
    return f"tg:m:{chat_id}:{message_id}"


def callback_key(query_id: str) -> str:
    """Idempotency key of a button press (Telegram gives each press its own id)."""
    return f"tg:q:{query_id}"


def button_data(action: Action, arg: str) -> str:
    data = f"{action.value}:{arg}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def parse_button(data: str | None) -> Button | None:
    action, sep, arg = (data or "").partition(":")
    if not sep or not arg:
        return None
    try:
        return Button(Action(action), arg)
    except ValueError:
        return None


def locale_for(chosen: str | None, language_code: str | None, default: str = "en") -> str:
    """The user's /lang choice, else their Telegram app language, else the server default."""
    for candidate in (chosen, language_code):
        if candidate and normalize(candidate) == candidate.replace("_", "-").split("-")[0].lower():
            return normalize(candidate)
    return normalize(default)


def command_of(text: str) -> tuple[str, str, str]:
    """'/Video@MyBot  a cat' -> ('video', 'mybot', 'a cat'); not a command -> ('', '', text)."""
    if not text.startswith("/"):
        return "", "", text
    head, _, rest = text.partition(" ")
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = more + (" " + rest if rest else "")
    name, _, target = head[1:].partition("@")
    return name.lower(), target.lower(), rest.strip()


def addressed_to_us(target: str, username: str | None, *, private: bool) -> bool:
    """In groups a bare /command may be meant for another bot; answer only our own."""
    if target:
        return target == (username or "").lower()
    return private


def without_mention(text: str, username: str | None) -> str:
    """'@MyBot a cat on a roof' -> 'a cat on a roof' (the mention anywhere, any case)."""
    if not username:
        return text.strip()
    return " ".join(re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE)
                    .split())


def retry_seconds(value: int | float | dtm.timedelta) -> float:
    """RetryAfter's period as seconds (PTB gives int or timedelta depending on PTB_TIMEDELTA)."""
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)
