"""Clicks on Retry / Vary / Cancel, routed by custom id (so they work after a restart)."""

from __future__ import annotations

import re
from typing import Any

import discord

from bots.discord import flows
from bots.discord.deps import deps_of
from bots.discord.views import CUSTOM_ID, custom_id


class ClipButton(discord.ui.DynamicItem[discord.ui.Button], template=CUSTOM_ID):
    def __init__(self, action: str, job_id: str) -> None:
        super().__init__(discord.ui.Button(custom_id=custom_id(action, job_id)))
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ClipButton:
        return cls(match["action"], match["job_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        deps = deps_of(interaction)
        if self.action == "cancel":
            await flows.cancel(interaction, deps, self.job_id)
        else:
            await flows.again(interaction, deps, self.job_id, vary=self.action == "vary")
