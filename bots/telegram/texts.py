"""Telegram's command menu, built from the shared catalogs."""

from __future__ import annotations

from bots.i18n import t

# The command menu, in the order Telegram shows it.
MENU = ("video", "help", "quota", "status", "cancel", "lang", "mydata", "forget")


def menu(lang: str) -> list[tuple[str, str]]:
    return [(name, t(lang, f"cmd_{name}")) for name in MENU]

