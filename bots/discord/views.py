"""Buttons under our messages. Their custom ids carry the job id, so they keep working
after a bot restart (``buttons.py`` parses them back)."""

from __future__ import annotations

import discord

from bots.i18n import t

ACTIONS = ("retry", "vary", "cancel")
# Job ids are URL-safe base64 (storage.jobs.new_id); Discord allows 100 characters.
CUSTOM_ID = r"clip:(?P<action>retry|vary|cancel):(?P<job_id>[A-Za-z0-9_-]{1,80})"


def custom_id(action: str, job_id: str) -> str:
    return f"clip:{action}:{job_id}"


def _view(locale: str, job_id: str, actions: tuple[tuple[str, discord.ButtonStyle], ...]):
    view = discord.ui.View(timeout=None)
    for action, style in actions:
        view.add_item(
            discord.ui.Button(label=t(locale, f"btn_{action}"), style=style,
                              custom_id=custom_id(action, job_id))
        )
    # The view is only a template for the components: clicks are routed by custom id
    # (DynamicItem), so a stopped view keeps discord.py from caching one per message.
    view.stop()
    return view


def cancel_view(locale: str, job_id: str) -> discord.ui.View:
    return _view(locale, job_id, (("cancel", discord.ButtonStyle.secondary),))


def clip_view(locale: str, job_id: str) -> discord.ui.View:
    return _view(
        locale, job_id,
        (("retry", discord.ButtonStyle.primary), ("vary", discord.ButtonStyle.secondary)),
    )
