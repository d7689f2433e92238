"""Localised command descriptions and choice names, from the shared catalogs.

Command and option *names* stay English on purpose: they are what people type and what
our docs show; Discord shows each user the description in their own language.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bots.i18n import DEFAULT, catalog, normalize

# Discord rejects a whole command sync if one localisation is longer than this.
MAX_CHARS = 100


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
