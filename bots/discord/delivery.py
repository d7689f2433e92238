"""Status edits and clip delivery for Discord jobs.

While the interaction token lives (15 minutes) everything goes through it: the status
message (the deferred reply) is edited, the clip is a follow-up. After that the clip is
posted in the channel mentioning the user (or sent by DM if the channel refuses us).
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from typing import Any

import discord

from bots.core import render
from bots.core.delivery import Progress
from bots.core.service import Submitted
from bots.core.throttle import EditThrottle
from bots.core.waiting import QueuePlace
from bots.discord import embeds, views
from bots.discord.layout import ReplyContext, mention
from bots.i18n import t
from clipbot.media import fit_to_size
from storage import JobRecord, Storage

log = logging.getLogger("clipbot.discord")
EDIT_INTERVAL_S = 5.0
CLOSED_MEMORY = 4096  # finished jobs remembered so that a late progress edit is dropped
INVALID_TOKEN = (50027, 10015)  # "Invalid Webhook Token", "Unknown Webhook"


class DiscordSink:
    """The adapter's ``Deliverer`` and ``ProgressSink``: the only writer of status messages."""

    def __init__(
        self,
        client: discord.Client,
        storage: Storage,
        *,
        window_s: float,
        edit_interval_s: float = EDIT_INTERVAL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.storage = storage
        self.window_s = window_s
        self.clock = clock
        self.throttle = EditThrottle(edit_interval_s)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._closed: OrderedDict[str, None] = OrderedDict()

    def can_use_token(self, ctx: ReplyContext) -> bool:
        return ctx.status_message_id is not None and ctx.token_alive(self.clock(), self.window_s)

    # ---- status message ------------------------------------------------------------------
    async def show_status(
        self, job_id: str, ctx: ReplyContext, embed: discord.Embed, *,
        view: discord.ui.View | None = None, force: bool = False, final: bool = False,
    ) -> bool:
        """Edit the status message: throttled unless ``force``; ``final`` ends the job's
        edits. Returns False when nothing was sent."""
        if not self.can_use_token(ctx):
            return False
        async with self._locks[job_id]:
            if job_id in self._closed:
                return False
            now = time.monotonic()
            if not self.throttle.should_edit(job_id, embed.description or "", now,
                                             force=force or final):
                return False
            if final:
                self._close(job_id)
            await self._webhook(ctx).edit_message(
                int(ctx.status_message_id or 0), content=None, embed=embed, view=view
            )
            return True

    async def on_progress(self, progress: Progress) -> None:
        job = await self.storage.jobs.get(progress.job_id)
        if job is None or job.state.final:
            return
        ctx = ReplyContext.from_dict(job.request.reply)
        if ctx is None:
            return
        r = job.request
        try:
            await self.show_status(job.id, ctx, embeds.running(r.locale, r.prompt, progress),
                                   view=views.cancel_view(r.locale, job.id))
        except discord.HTTPException as exc:
            # Progress is best effort; the result still arrives through the stream.
            log.warning("progress edit for job %s failed: %s", job.id, exc)

    async def on_queue_place(self, job: JobRecord, place: QueuePlace) -> None:
        ctx = ReplyContext.from_dict(job.request.reply)
        if ctx is None:
            return
        r = job.request
        res = Submitted(job.id, place.position, place.eta_s, engines_online=place.engines_online)
        embed = embeds.queued(r.locale, r.prompt, res, self.clock())
        try:
            await self.show_status(job.id, ctx, embed, view=views.cancel_view(r.locale, job.id))
        except discord.HTTPException as exc:
            log.warning("queue update for job %s failed: %s", job.id, exc)

    # ---- results (called by ResultPump; raising makes it retry) ----------------------------
    async def deliver_clip(self, job: JobRecord, clip: bytes, thumb: bytes | None) -> None:
        ctx = ReplyContext.from_dict(job.request.reply)
        if ctx is None:
            log.error("job %s has no Discord reply context; dropping its clip", job.id)
            return
        data = await asyncio.to_thread(fit_to_size, clip, ctx.upload_limit)
        r = job.request

        def attachment() -> discord.File:
            return discord.File(io.BytesIO(data), filename=f"clip-{job.id}.mp4",
                                description=r.prompt[:1000])

        caption = render.caption(job)
        if self.can_use_token(ctx):
            try:
                await self._webhook(ctx).send(
                    caption, file=attachment(), view=views.clip_view(r.locale, job.id), wait=True
                )
            except discord.HTTPException as exc:
                if exc.code not in INVALID_TOKEN:
                    raise
                log.info("token of job %s expired early; posting in the channel", job.id)
            else:
                await self._finish_status(job, ctx, t(r.locale, "state_done"), ok=True)
                return
        await self._post_late(ctx, f"{mention(ctx.user_id)} {caption}", attachment,
                              views.clip_view(r.locale, job.id))
        self._close(job.id)

    async def deliver_failure(self, job: JobRecord) -> None:
        ctx = ReplyContext.from_dict(job.request.reply)
        if ctx is None:
            return
        text = render.failure(job)
        if self.can_use_token(ctx):
            try:
                await self._finish_status(job, ctx, text, ok=False)
                return
            except discord.HTTPException as exc:
                if exc.code not in INVALID_TOKEN:
                    raise
        await self._post_late(ctx, f"{mention(ctx.user_id)} {text}", None, None)
        self._close(job.id)

    # ---- helpers -------------------------------------------------------------------------
    async def _finish_status(self, job: JobRecord, ctx: ReplyContext, text: str, *,
                             ok: bool) -> None:
        await self.show_status(job.id, ctx, embeds.final(job.request.prompt, text, ok=ok),
                               final=True)

    async def _post_late(
        self,
        ctx: ReplyContext,
        content: str,
        attachment: Callable[[], discord.File] | None,
        view: discord.ui.View | None,
    ) -> None:
        """A normal message in the channel, pinging only the requester; DM if refused."""
        allowed = discord.AllowedMentions(
            everyone=False, roles=False, users=[discord.Object(int(ctx.user_id))]
        )
        kwargs: dict[str, Any] = {"allowed_mentions": allowed}
        if view is not None:
            kwargs["view"] = view
        if attachment is not None:
            kwargs["file"] = attachment()
        channel = self.client.get_partial_messageable(
            int(ctx.channel_id), guild_id=int(ctx.guild_id) if ctx.guild_id else None
        )
        try:
            await channel.send(content, **kwargs)
        except (discord.Forbidden, discord.NotFound) as exc:
            log.info("channel %s refused the late delivery (%s); sending a DM", ctx.channel_id, exc)
            dm = await self.client.create_dm(discord.Object(int(ctx.user_id)))
            if attachment is not None:
                kwargs["file"] = attachment()  # the first upload consumed the stream
            await dm.send(content, **kwargs)

    def _webhook(self, ctx: ReplyContext) -> discord.Webhook:
        return discord.Webhook.partial(int(ctx.app_id), ctx.token, client=self.client)

    def _close(self, job_id: str) -> None:
        self._closed[job_id] = None
        while len(self._closed) > CLOSED_MEMORY:
            self._closed.popitem(last=False)
        self.throttle.forget(job_id)
        self._locks.pop(job_id, None)
