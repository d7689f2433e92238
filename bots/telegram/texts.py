"""Telegram's user-facing strings: the shared catalogs, plus English fallbacks for the few
keys the catalogs do not have yet (to be added to bots/i18n/catalogs)."""

from __future__ import annotations

from typing import Any

from bots.i18n import available, catalog, t

# Keys proposed for the shared catalogs; used until a catalog defines them.
FALLBACK: dict[str, str] = {
    "cmd_video": "Make a video from a description",
    "cmd_help": "How to use this bot",
    "cmd_quota": "What is left today",
    "cmd_status": "My recent clips",
    "cmd_cancel": "Stop my clip",
    "cmd_lang": "Change language",
    "cmd_forget": "Delete my clips and history",
    "stats": "Queue: {queued} waiting, {running} generating, {engines} engine(s) online.",
    "grant_usage": "Usage: /grant <user id> <clips per day>",
    "ban_usage": "Usage: /ban <user id> (add “off” to lift the ban)",
    "group_video_hint": "In groups, send /video followed by your description.",
}

# The command menu, in the order Telegram shows it.
MENU = ("video", "help", "quota", "status", "cancel", "lang", "forget")


def say(locale: str | None, key: str, **params: Any) -> str:
    text = t(locale, key, **params)
    if text == key and key in FALLBACK:
        return FALLBACK[key].format(**params)
    return text


def menu(lang: str) -> list[tuple[str, str]]:
    return [(name, say(lang, f"cmd_{name}")) for name in MENU]


def language_names() -> list[tuple[str, str]]:
    """(code, name in that language) for the /lang picker."""
    return [(lang, catalog(lang).get("_language", lang)) for lang in available()]
