"""The discord.py client: no privileged intents, slash commands, persistent buttons."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bots.discord import commands
from bots.discord.buttons import ClipButton
from bots.discord.deps import Deps
from bots.discord.flows import locale_of
from bots.discord.translator import CatalogTranslator
from bots.i18n import t

log = logging.getLogger("clipbot.discord")


def intents() -> discord.Intents:
    # Slash commands and buttons arrive as interactions, which need no intent at all;
    # 'guilds' keeps discord.py's guild/channel cache sane. Nothing privileged.
    return discord.Intents(guilds=True)


class ClipTree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError, /
    ) -> None:
        """Log it, and tell the user something polite instead of an endless 'thinking…'."""
        name = interaction.command.name if interaction.command else "?"
        log.error("/%s failed", name, exc_info=error)
        text = t(locale_of(interaction), "dc_error")
        try:
            if interaction.response.is_done():
                await interaction.edit_original_response(content=text, embed=None, view=None)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("could not report the failure of /%s: %s", name, exc)


class ClipClient(discord.AutoShardedClient):
    """Asks Discord (GET /gateway/bot) for the gateway URL and shard count, so one process
    scales to many guilds; ``deps`` is set by the assembly point before login."""

    def __init__(self, *, guild_ids: list[int] | None = None) -> None:
        super().__init__(intents=intents(), max_messages=None)
        self.tree = ClipTree(self)
        self.guild_ids = guild_ids or []
        self.deps: Deps | None = None

    async def setup_hook(self) -> None:
        await self.tree.set_translator(CatalogTranslator())
        for command in commands.COMMANDS:
            self.tree.add_command(command)
        self.add_dynamic_items(ClipButton)
        if self.guild_ids:
            # Guild commands appear at once; handy while testing a bot on one server.
            for guild_id in self.guild_ids:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()
        log.info("slash commands synced (%s)", self.guild_ids or "global")
