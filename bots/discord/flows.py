"""The conversations behind the commands and buttons: parse → core → render."""

from __future__ import annotations

import contextlib
import io
import logging
import time

import discord

from bots.core.commands import Reply, answer
from bots.core.early import early_refusal
from bots.core.options import VideoOptions, parse_request
from bots.core.service import Refusal, Submitted, Who
from bots.discord import embeds, policy, views
from bots.discord.deps import Deps
from bots.discord.layout import ReplyContext
from bots.i18n import DEFAULT, first_supported, t

log = logging.getLogger("clipbot.discord")
PLATFORM = policy.PLATFORM


def locale_of(interaction: discord.Interaction) -> str:
    """The user's app language, else CLIPBOT_DEFAULT_LOCALE (not the server's language:
    Discord gives every server en-US unless its owner changed it)."""
    deps = getattr(interaction.client, "deps", None)
    return first_supported(interaction.locale.value,
                           default=deps.default_locale if deps else DEFAULT)


def who_of(interaction: discord.Interaction) -> Who:
    # The server's id is a wider scope: operator rules listing it apply in all its channels.
    return Who(
        platform=PLATFORM,
        user_id=str(interaction.user.id),
        chat_id=str(interaction.channel_id or interaction.user.id),
        locale=locale_of(interaction),
        scopes=(str(interaction.guild_id),) if interaction.guild_id else (),
    )


def idem_key(interaction: discord.Interaction) -> str:
    # Discord's own id: a re-delivered interaction maps to the job it already created.
    return f"{PLATFORM}:{interaction.id}"


def reply_context(interaction: discord.Interaction, status_message_id: str | None) -> ReplyContext:
    return ReplyContext(
        app_id=str(interaction.application_id),
        token=interaction.token,
        created_at=min(interaction.created_at.timestamp(), time.time()),
        channel_id=str(interaction.channel_id or ""),
        user_id=str(interaction.user.id),
        guild_id=str(interaction.guild_id) if interaction.guild_id else None,
        status_message_id=status_message_id,
        upload_limit=interaction.filesize_limit,
    )


async def defer_visible(interaction: discord.Interaction) -> str | None:
    """Answer at once with a public 'thinking…' reply; its message id, or None when the
    interaction was already answered (a re-delivery) or has expired."""
    try:
        res = await interaction.response.defer(thinking=True)
    except discord.HTTPException as exc:
        log.info("could not defer interaction %s: %s", interaction.id, exc)
        return None
    if res is not None and res.message_id is not None:
        return str(res.message_id)
    try:
        return str((await interaction.original_response()).id)
    except discord.HTTPException:
        return None


async def defer_private(interaction: discord.Interaction) -> bool:
    try:
        await interaction.response.defer(ephemeral=True, thinking=True)
    except discord.HTTPException as exc:
        log.info("could not defer interaction %s: %s", interaction.id, exc)
        return False
    return True


async def answer_private(interaction: discord.Interaction, reply: Reply | str) -> None:
    """Replace a private deferred reply with a core reply (its file attached) or a text."""
    if isinstance(reply, str):
        reply = Reply(reply)
    try:
        if reply.file is None:
            await interaction.edit_original_response(content=reply.text)
        else:
            text = f"{reply.text}\n{reply.file.caption}" if reply.file.caption else reply.text
            file = discord.File(io.BytesIO(reply.file.data), filename=reply.file.name)
            await interaction.edit_original_response(content=text, attachments=[file])
    except discord.HTTPException as exc:
        log.warning("could not answer interaction %s: %s", interaction.id, exc)


async def refuse_now(interaction: discord.Interaction, text: str) -> None:
    """An immediate private refusal, before anything was deferred or queued."""
    try:
        await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:
        log.info("could not refuse interaction %s: %s", interaction.id, exc)


async def admit(interaction: discord.Interaction, deps: Deps) -> policy.Admission:
    """Apply the server's settings before anything public appears: outside its allowed
    channels the user is told privately where to go, and nothing is queued or charged."""
    guild_id = str(interaction.guild_id) if interaction.guild_id else None
    if guild_id is None:
        return policy.Admission(True)
    settings = await deps.storage.guilds.get(policy.guild_name(guild_id))
    channel = interaction.channel
    parent = getattr(channel, "parent_id", None) if isinstance(channel, discord.Thread) else None
    verdict = policy.admission(
        guild_id, settings, str(interaction.channel_id or ""), str(parent) if parent else None
    )
    if not verdict.allowed:
        locale = locale_of(interaction)
        await refuse_now(interaction, t(locale, "dc_channel_not_allowed",
                                        channels=policy.mentions(verdict.channels)))
    return verdict


async def start_video(
    interaction: discord.Interaction, deps: Deps, prompt: str, defaults: VideoOptions,
    *, image: discord.Attachment | None = None,
) -> None:
    verdict = await admit(interaction, deps)
    if not verdict.allowed:
        return
    who = who_of(interaction)
    parsed = parse_request(prompt, defaults).prompt  # checked by the command already
    if await _refused_early(interaction, deps, who, verdict, prompt=parsed):
        return
    message_id = await defer_visible(interaction)
    ctx = reply_context(interaction, message_id)
    data = None
    if image is not None:
        try:  # after deferring: a download may take longer than Discord's 3 s
            data = await image.read()
        except discord.HTTPException as exc:
            log.info("could not fetch the attachment of interaction %s: %s", interaction.id, exc)
            await show_submitted(interaction, deps, who, ctx, Refusal("image_bad"), prompt)
            return
    res = await deps.service.request_video(
        who, prompt, idem_key=idem_key(interaction), reply=ctx.to_dict(), defaults=defaults,
        image=data, pool=verdict.pool,
    )
    await show_submitted(interaction, deps, who, ctx, res, prompt)


async def again(interaction: discord.Interaction, deps: Deps, job_id: str, *, vary: bool) -> None:
    verdict = await admit(interaction, deps)
    if not verdict.allowed:
        return
    who = who_of(interaction)
    if await _refused_early(interaction, deps, who, verdict, again_of=job_id):
        return
    message_id = await defer_visible(interaction)
    ctx = reply_context(interaction, message_id)
    res = await deps.service.again(
        who, job_id, vary=vary, idem_key=idem_key(interaction), reply=ctx.to_dict(),
        pool=verdict.pool,
    )
    prompt = ""
    if isinstance(res, Submitted):
        job = await deps.storage.jobs.get(res.job_id)
        prompt = job.request.prompt if job else ""
    await show_submitted(interaction, deps, who, ctx, res, prompt)


async def _refused_early(interaction: discord.Interaction, deps: Deps, who: Who,
                         verdict: policy.Admission, *, again_of: str | None = None,
                         prompt: str | None = None) -> bool:
    """Decide before deferring: a refusal the core already knows (a rule, quota, ban, the
    server's pool, someone else's clip) is answered privately at once, with no public
    'thinking…'."""
    refusal = await early_refusal(deps.service, who, pool=verdict.pool, again_of=again_of,
                                  prompt=prompt)
    if refusal is None:
        return False
    await refuse_now(interaction, answer(who, refusal).text)
    return True


async def cancel(interaction: discord.Interaction, deps: Deps, job_id: str | None) -> None:
    who = who_of(interaction)
    if not await defer_private(interaction):
        return
    await answer_private(interaction, await deps.commands.cancel(who, job_id))


async def show_submitted(
    interaction: discord.Interaction,
    deps: Deps,
    who: Who,
    ctx: ReplyContext,
    res: Submitted | Refusal,
    prompt: str,
) -> None:
    if isinstance(res, Refusal):
        await _refuse_after_defer(interaction, answer(who, res).text)
        return
    if res.duplicate:
        # The first delivery of this interaction owns its messages; leave them alone.
        log.info("interaction %s re-delivered; job %s already exists", interaction.id, res.job_id)
        return
    embed = embeds.queued(who.locale, prompt, res, time.time())
    await deps.sink.show_status(
        res.job_id, ctx, embed, view=views.cancel_view(who.locale, res.job_id), force=True
    )


async def _refuse_after_defer(interaction: discord.Interaction, text: str) -> None:
    # The public 'thinking…' reply goes away; the refusal is for the requester only.
    with contextlib.suppress(discord.HTTPException):
        await interaction.delete_original_response()
    try:
        await interaction.followup.send(text, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not refuse interaction %s: %s", interaction.id, exc)
