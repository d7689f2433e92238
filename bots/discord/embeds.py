"""The status embed of a job: queued (position + countdown), running (bar), final."""

from __future__ import annotations

import discord

from bots.core import render
from bots.core.delivery import Progress
from bots.core.service import Submitted
from bots.discord.layout import progress_bar, relative_time

QUEUED_COLOUR = 0x5865F2
RUNNING_COLOUR = 0xFEE75C
DONE_COLOUR = 0x57F287
FAILED_COLOUR = 0xED4245
TITLE_MAX = 256  # Discord's limit for embed titles


def title(prompt: str) -> str:
    text = f"“{prompt}”"
    return text if len(text) <= TITLE_MAX else text[: TITLE_MAX - 2] + "…”"


def queued(locale: str, prompt: str, res: Submitted, now: float) -> discord.Embed:
    lines = [render.ack(locale, res)]
    if res.engines_online and res.position > 0:
        # Discord renders this as a live countdown in each viewer's own language.
        lines.append(f"⏱ {relative_time(now + res.eta_s)}")
    lines.append(progress_bar(0))
    return discord.Embed(title=title(prompt), description="\n".join(lines), colour=QUEUED_COLOUR)


def running(locale: str, prompt: str, p: Progress) -> discord.Embed:
    percent = 100 if p.phase == "encoding" else p.percent
    text = f"{render.progress(locale, p)}\n{progress_bar(percent)}"
    return discord.Embed(title=title(prompt), description=text, colour=RUNNING_COLOUR)


def final(prompt: str, text: str, *, ok: bool) -> discord.Embed:
    if ok:
        text = f"{text}\n{progress_bar(100)}"
    colour = DONE_COLOUR if ok else FAILED_COLOUR
    return discord.Embed(title=title(prompt), description=text, colour=colour)
