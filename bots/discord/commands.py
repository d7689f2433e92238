"""Slash commands. Each defers (or answers) at once, then calls the core and renders."""

from __future__ import annotations

from dataclasses import replace

import discord
from discord import app_commands

from bots.core import render
from bots.core.commands import Commands, Style
from bots.core.operator import Action
from bots.core.options import (
    MAX_NEGATIVE_CHARS,
    MAX_SECONDS,
    InputError,
    VideoOptions,
    clean_negative,
    parse_aspect,
    parse_request,
    parse_seconds,
)
from bots.core.service import ClipService, Refusal
from bots.discord import flows, settings
from bots.discord.deps import deps_of
from bots.discord.translator import localised as _s

MAX_SEED = 2**32 - 1
AUTOCOMPLETE_MAX = 100
AUTOCOMPLETE_CHOICES = 25
DISCORD_TEXT = 2000  # characters in one message
FILE_NOTE = 200  # room left for the line that points at the attached file


def commands(service: ClipService) -> Commands:
    """The core's command table, answering privately (every answer here is ephemeral)."""
    return Commands(service, style=Style(text_max=DISCORD_TEXT - FILE_NOTE,
                                         private_replies=True))


ASPECT_CHOICES = [
    app_commands.Choice(name=_s("dc_aspect_landscape"), value="16:9"),
    app_commands.Choice(name=_s("dc_aspect_portrait"), value="9:16"),
    app_commands.Choice(name=_s("dc_aspect_square"), value="1:1"),
]


def video_defaults(
    aspect: str | None, seconds: int | None, seed: int | None, negative: str | None
) -> VideoOptions:
    """Slash options as core options; raises InputError as the text syntax does.

    Discord's app enforces choices and ranges, but the server must not rely on that.
    """
    opts = VideoOptions()
    if aspect is not None:
        opts = replace(opts, aspect=parse_aspect(aspect))
    if seconds is not None:
        opts = replace(opts, seconds=parse_seconds(str(seconds)))
    if seed is not None:
        if not 0 <= seed <= MAX_SEED:
            raise InputError("bad_seed", value=str(seed)[:20], min=0, max=MAX_SEED)
        opts = replace(opts, seed=seed)
    if negative is not None and negative.strip():
        opts = replace(opts, negative=clean_negative(negative))
    return opts


@app_commands.command(name="video", description=_s("dc_cmd_video"))
@app_commands.describe(
    prompt=_s("dc_opt_prompt"), aspect=_s("dc_opt_aspect"), seconds=_s("dc_opt_seconds"),
    seed=_s("dc_opt_seed"), negative=_s("dc_opt_negative"), image=_s("dc_opt_image"),
)
@app_commands.choices(aspect=ASPECT_CHOICES)
async def video(
    interaction: discord.Interaction,
    prompt: app_commands.Range[str, 1, 2000],
    aspect: str | None = None,
    seconds: app_commands.Range[int, 1, MAX_SECONDS] | None = None,
    seed: app_commands.Range[int, 0, MAX_SEED] | None = None,
    negative: app_commands.Range[str, 1, MAX_NEGATIVE_CHARS] | None = None,
    image: discord.Attachment | None = None,
) -> None:
    who = flows.who_of(interaction)
    deps = deps_of(interaction)
    try:
        defaults = video_defaults(aspect, seconds, seed, negative)
        parse_request(prompt, defaults)  # pure; refuse before anything public appears
    except InputError as exc:
        text = render.refusal(who.locale, Refusal(exc.key, exc.params))
        await flows.refuse_now(interaction, text)
        return
    if image is not None:
        # Before anything public appears: an engine that animates images, a size in range.
        refusal = await deps.service.image_refusal(who, image.size)
        if refusal is not None:
            await flows.refuse_now(interaction, render.refusal(who.locale, refusal))
            return
    await flows.start_video(interaction, deps, prompt, defaults, image=image)


@video.autocomplete("prompt")
async def recent_prompts(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The user's own recent prompts that contain what they typed (to tweak and resend)."""
    jobs = await deps_of(interaction).service.my_jobs(flows.who_of(interaction), 25)
    needle = current.casefold().strip()
    prompts: list[str] = []
    for job in jobs:
        p = job.request.prompt
        # Discord caps autocomplete values at 100 characters; a cut prompt is no help.
        if len(p) <= AUTOCOMPLETE_MAX and needle in p.casefold() and p not in prompts:
            prompts.append(p)
    return [app_commands.Choice(name=p, value=p) for p in prompts[:AUTOCOMPLETE_CHOICES]]


async def _run(interaction: discord.Interaction, name: str) -> None:
    """A command of the core's table, answered privately."""
    if await flows.defer_private(interaction):
        reply = await deps_of(interaction).commands.run(flows.who_of(interaction), name)
        await flows.answer_private(interaction, reply)


@app_commands.command(name="quota", description=_s("dc_cmd_quota"))
async def quota(interaction: discord.Interaction) -> None:
    await _run(interaction, "quota")


@app_commands.command(name="status", description=_s("dc_cmd_status"))
async def status(interaction: discord.Interaction) -> None:
    await _run(interaction, "status")


@app_commands.command(name="cancel", description=_s("dc_cmd_cancel"))
async def cancel(interaction: discord.Interaction) -> None:
    await flows.cancel(interaction, deps_of(interaction), None)


@app_commands.command(name="forget", description=_s("dc_cmd_forget"))
async def forget(interaction: discord.Interaction) -> None:
    await _run(interaction, "forget")


@app_commands.command(name="mydata", description=_s("dc_cmd_mydata"))
async def mydata(interaction: discord.Interaction) -> None:
    """What is stored about the caller, privately; the whole export as a JSON file when the
    text can't hold it all."""
    await _run(interaction, "mydata")


async def _order(interaction: discord.Interaction, action: Action, user: str = "",
                 *args: str) -> None:
    """An operator command, its options handed to the core as words (checked there)."""
    if await flows.defer_private(interaction):
        words = [user, *args] if user else list(args)
        reply = await deps_of(interaction).commands.operator_text(
            flows.who_of(interaction), action.value, words)
        await flows.answer_private(interaction, reply)


def _word(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


# Hidden from members without Manage Server by default; the operator list is still checked.
@app_commands.command(name="grant", description=_s("dc_cmd_grant"))
@app_commands.default_permissions(manage_guild=True)
@app_commands.describe(user=_s("dc_opt_user"), clips=_s("dc_opt_clips"),
                       gpu_seconds=_s("dc_opt_gpu_seconds"), inflight=_s("dc_opt_inflight"))
async def grant(
    interaction: discord.Interaction,
    user: discord.User,
    clips: app_commands.Range[int, 0, 100_000] | None = None,
    gpu_seconds: app_commands.Range[float, 0, 10_000_000] | None = None,
    inflight: app_commands.Range[int, 1, 100] | None = None,
) -> None:
    # Options left out keep their limit: "-" is the core's "unchanged".
    words = [_word(v) or "-" for v in (clips, gpu_seconds, inflight)]
    await _order(interaction, Action.GRANT, str(user.id), *words)


@app_commands.command(name="ban", description=_s("dc_cmd_ban"))
@app_commands.default_permissions(manage_guild=True)
@app_commands.describe(user=_s("dc_opt_user"), unban=_s("dc_opt_unban"))
async def ban(interaction: discord.Interaction, user: discord.User, unban: bool = False) -> None:
    await _order(interaction, Action.UNBAN if unban else Action.BAN, str(user.id))


@app_commands.command(name="stats", description=_s("dc_cmd_stats"))
@app_commands.default_permissions(manage_guild=True)
async def stats(interaction: discord.Interaction) -> None:
    await _order(interaction, Action.STATS)


COMMANDS: tuple[app_commands.Command | app_commands.Group, ...] = (
    video, quota, status, cancel, mydata, forget, grant, ban, stats, settings.group,
)
