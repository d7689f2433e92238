"""Sending finished jobs back to WhatsApp users, inside the 24-hour window or later.

The result pump calls ``deliver_clip``/``deliver_failure``; raising makes it retry, so
every step before the user-visible send is safe to repeat.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp

from bots.core import render
from bots.core.delivery import Progress
from bots.core.throttle import EditThrottle
from bots.i18n import t
from bots.whatsapp.graph import GraphClient, GraphError
from bots.whatsapp.phrases import again_buttons
from bots.whatsapp.state import ChatState, Held, inside_window
from clipbot.media import fit_to_size
from storage import JobRecord, Storage

log = logging.getLogger("clipbot.whatsapp")

VIDEO_LIMIT_BYTES = 16_000_000  # WhatsApp's video limit (16 MB)
# The typing indicator lasts 25 s; refresh it a little before it fades.
TYPING_REFRESH_S = 20.0


class WhatsAppSink:
    def __init__(self, storage: Storage, graph: GraphClient, state: ChatState, *,
                 video_limit: int = VIDEO_LIMIT_BYTES) -> None:
        self.storage = storage
        self.graph = graph
        self.state = state
        self.video_limit = video_limit
        self.throttle = EditThrottle(TYPING_REFRESH_S)

    async def deliver_clip(self, job: JobRecord, clip: bytes, thumb: bytes | None) -> None:
        data = await asyncio.to_thread(fit_to_size, clip, self.video_limit)
        # Uploading is allowed outside the window, and the media id lives for 30 days:
        # a held clip needs nothing but that id.
        media_id = await self.graph.upload(data, "video/mp4", f"clip-{job.id}.mp4")
        held = Held(job_id=job.id, locale=job.request.locale, media_id=media_id,
                    text=render.caption(job))
        await self._send_or_hold(job, held)

    async def deliver_failure(self, job: JobRecord) -> None:
        held = Held(job_id=job.id, locale=job.request.locale, text=render.failure(job))
        await self._send_or_hold(job, held)

    async def _send_or_hold(self, job: JobRecord, item: Held) -> None:
        to = job.request.chat_id
        self.throttle.forget(job.id)
        seen = await self.state.last_seen(to)
        if not inside_window(seen, time.time()):
            await self.state.hold(to, item)
            log.info("window closed; result held for the next message", extra={"job": job.id})
        else:
            try:
                await send_result(self.graph, to, item)
                return
            except GraphError as exc:
                if not exc.outside_window:
                    raise
                await self.state.hold(to, item)
                log.info("Meta says the window closed; result held", extra={"job": job.id})
        # A message that arrived while we were holding it found nothing to release: send now.
        if await self.state.last_seen(to) != seen:
            try:
                await release_held(self.graph, self.state, to)
            except Exception:  # it is held: the user's next message brings it
                log.exception("releasing held results failed", extra={"job": job.id})

    async def on_progress(self, progress: Progress) -> None:
        """WhatsApp cannot edit messages: keep the typing indicator alive instead."""
        job = await self.storage.jobs.get(progress.job_id)
        wamid = job.request.reply.get("wamid") if job else None
        if not wamid:
            return
        mark = f"{progress.phase}:{progress.step}"
        if not self.throttle.should_edit(progress.job_id, mark, time.monotonic()):
            return
        try:
            await self.graph.mark_read(wamid, typing=True)
        except (GraphError, aiohttp.ClientError) as exc:
            log.debug("typing indicator failed: %s", exc)


async def send_result(graph: GraphClient, to: str, item: Held) -> None:
    """The clip with its caption, then Retry/Vary buttons; or the failure notice."""
    if not item.media_id:
        await graph.send_text(to, item.text)
        return
    await graph.send_video(to, item.media_id, item.text)
    try:
        await graph.send_buttons(to, t(item.locale, "wa_again"),
                                 again_buttons(item.locale, item.job_id))
    except (GraphError, aiohttp.ClientError) as exc:
        # The clip is out; failing here would make the pump send it a second time.
        log.warning("buttons not sent: %s", exc, extra={"job": item.job_id})


async def release_held(graph: GraphClient, state: ChatState, wa_id: str) -> None:
    """Send what was held for the user; whatever cannot be sent now is held again."""
    held = await state.take_held(wa_id)
    for i, item in enumerate(held):
        try:
            await graph.send_text(wa_id, t(item.locale, "wa_held"))
            await send_result(graph, wa_id, item)
        except (GraphError, aiohttp.ClientError):
            log.exception("could not send a held result; keeping it")
            for rest in held[i:]:
                await state.hold(wa_id, rest)
            return
