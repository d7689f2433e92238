"""Telegram's command menu and language picker, built from the shared catalogs."""

from __future__ import annotations

from bots.i18n import available, catalog, t

# The command menu, in the order Telegram shows it.
MENU = ("video", "help", "quota", "status", "cancel", "lang", "mydata", "forget")


def menu(lang: str) -> list[tuple[str, str]]:
    return [(name, t(lang, f"cmd_{name}")) for name in MENU]


def language_names() -> list[tuple[str, str]]:
    """(code, name in that language) for the /lang picker."""
    return [(lang, catalog(lang).get("_language", lang)) for lang in available()]
