"""Localised command descriptions and choice names, from the shared catalogs.

Command and option *names* stay English on purpose: they are what people type and what
our docs show; Discord shows each user the description in their own language.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bots.i18n import DEFAULT, catalog, normalize, t

# Discord rejects a whole command sync if one localisation is longer than this.
MAX_CHARS = 100


def localised(key: str) -> app_commands.locale_str:
    """A command text by catalog key: English, which Discord shows by default, plus the key
    that CatalogTranslator looks up for every other language."""
    return app_commands.locale_str(t(DEFAULT, key), key=key)


class CatalogTranslator(app_commands.Translator):
    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        lang = normalize(locale.value)
        if not key or lang == DEFAULT:
            return None
        text = catalog(lang).get(key)
        return text[:MAX_CHARS] if text else None
