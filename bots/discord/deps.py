"""What the handlers need, handed to the client once at assembly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bots.core.commands import Commands
from bots.core.service import ClipService
from storage import Storage

if TYPE_CHECKING:
    from bots.discord.delivery import DiscordSink


@dataclass(frozen=True)
class Deps:
    service: ClipService
    storage: Storage
    sink: DiscordSink
    window_s: float
    commands: Commands
    default_locale: str = "en"  # CLIPBOT_DEFAULT_LOCALE: for a language we don't speak


def deps_of(interaction: discord.Interaction) -> Deps:
    deps = getattr(interaction.client, "deps", None)
    if deps is None:
        raise RuntimeError("the Discord client was started without its dependencies")
    return deps
