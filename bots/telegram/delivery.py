"""Sending results and progress back to Telegram chats.

The result pump calls ``deliver_clip``/``deliver_failure`` and retries when they raise, so
everything before the user-visible send is safe to repeat, and everything after it is best
effort (a retry would send the clip twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup, InputFile, ReplyParameters
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bots.core import render
from bots.core.delivery import Progress
from bots.core.throttle import EditThrottle
from bots.core.waiting import QueuePlace
from bots.telegram.buttons import again_keyboard, cancel_keyboard
from bots.telegram.parse import retry_seconds
from bots.telegram.state import TelegramState
from clipbot.media import fit_to_size, probe_mp4
from storage import JobRecord, JobState, Storage

log = logging.getLogger("clipbot.telegram")

T = TypeVar("T")
# A send that matters (the clip, a failure notice) waits out flood control this many times.
MAX_FLOOD_WAITS = 5
MAX_FLOOD_WAIT_S = 120.0
UPLOAD_TIMEOUT_S = 300.0  # a 2000 MB upload to a local Bot API server takes a while


async def with_flood_control(call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call``, sleeping as long as Telegram's 429 ``retry_after`` asks, then retrying."""
    for _ in range(MAX_FLOOD_WAITS):
        try:
            return await call()
        except RetryAfter as exc:
            wait = retry_seconds(exc.retry_after)
            log.info("flood control: waiting %.1f s", wait)
            await asyncio.sleep(min(wait, MAX_FLOOD_WAIT_S))
    return await call()


class TelegramSink:
    def __init__(self, bot: Bot, storage: Storage, state: TelegramState, *,
                 upload_limit_bytes: int, edit_interval_s: float = 4.0) -> None:
        self.bot = bot
        self.storage = storage
        self.state = state
        self.upload_limit_bytes = upload_limit_bytes
        self.throttle = EditThrottle(edit_interval_s)
        # chat id -> monotonic time before which Telegram asked us not to edit there.
        self._quiet_until: dict[str, float] = {}
        self._sending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def idle(self) -> None:
        """Wait until no clip or notice is being sent (safe moment to stop the pump)."""
        await self._idle.wait()

    @contextlib.asynccontextmanager
    async def _send_guard(self) -> AsyncIterator[None]:
        self._sending += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._sending -= 1
            if not self._sending:
                self._idle.set()

    async def deliver_clip(self, job: JobRecord, clip: bytes, thumb: bytes | None) -> None:
        async with self._send_guard(), self._unreachable_is_final(job):
            await self._deliver_clip(job, clip, thumb)

    async def deliver_failure(self, job: JobRecord) -> None:
        async with self._send_guard(), self._unreachable_is_final(job):
            await self._deliver_failure(job)

    @contextlib.asynccontextmanager
    async def _unreachable_is_final(self, job: JobRecord) -> AsyncIterator[None]:
        """A user who blocked the bot (or a group that removed it) stays unreachable:
        retrying would only delay the other results."""
        try:
            yield
        except Forbidden as exc:
            log.info("chat of job %s unreachable (%s); result dropped", job.id, exc)

    async def _deliver_clip(self, job: JobRecord, clip: bytes, thumb: bytes | None) -> None:
        if await self.state.was_sent(job.id):
            return
        r = job.request
        if len(clip) > self.upload_limit_bytes:
            clip = await asyncio.to_thread(fit_to_size, clip, self.upload_limit_bytes)
        # Describe the bytes we send (fitting may have shrunk the frame), not the job.
        info = await asyncio.to_thread(probe_mp4, clip)
        await self._best_effort(self.bot.send_chat_action(r.chat_id, ChatAction.UPLOAD_VIDEO))
        await with_flood_control(lambda: self.bot.send_video(
            r.chat_id,
            InputFile(clip, filename=f"clip-{job.id}.mp4"),
            caption=render.caption(job),
            width=info.width,
            height=info.height,
            duration=max(1, round(info.duration_s)),
            supports_streaming=True,
            thumbnail=InputFile(thumb, filename="thumb.jpg") if thumb else None,
            reply_markup=again_keyboard(r.locale, job.id),
            reply_parameters=_reply_to(job),
            write_timeout=UPLOAD_TIMEOUT_S,
            read_timeout=UPLOAD_TIMEOUT_S,
        ))
        await self.state.mark_sent(job.id)
        await self._close_status(job)

    async def _deliver_failure(self, job: JobRecord) -> None:
        if await self.state.was_sent(job.id):
            return
        text = render.failure(job)
        keyboard = None if job.state is JobState.CANCELLED else again_keyboard(
            job.request.locale, job.id)
        # The status message becomes the failure notice: one message, not two.
        if not await self._edit_status(job, text, keyboard):
            await with_flood_control(lambda: self.bot.send_message(
                job.request.chat_id, text, reply_markup=keyboard,
                reply_parameters=_reply_to(job),
            ))
        await self.state.mark_sent(job.id)
        self.throttle.forget(job.id)

    async def on_progress(self, progress: Progress) -> None:
        job = await self.storage.jobs.get(progress.job_id)
        if job is None or job.state.final:
            return
        await self._edit_progress(job, render.progress(job.request.locale, progress))

    async def on_queue_place(self, job: JobRecord, place: QueuePlace) -> None:
        await self._edit_progress(
            job, render.queued(job.request.locale, place.position, place.eta_s))

    async def _edit_progress(self, job: JobRecord, text: str) -> None:
        """Edit the status message, at most every interval, only on change, never in a
        chat where Telegram told us to wait (best effort: a missed edit costs nothing)."""
        message_id = await self.state.status_message(job.id)
        if message_id is None:
            return
        chat, locale = job.request.chat_id, job.request.locale
        now = time.monotonic()
        if now < self._quiet_until.get(chat, 0.0):
            return
        if not self.throttle.should_edit(job.id, text, now):
            return
        try:
            await self.bot.edit_message_text(text, chat, message_id,
                                             reply_markup=cancel_keyboard(locale, job.id))
        except RetryAfter as exc:
            self._quiet_until[chat] = time.monotonic() + retry_seconds(exc.retry_after)
            self.throttle.forget(job.id)  # the text never arrived; send it when allowed
        except TelegramError as exc:
            log.debug("progress edit failed: %s", exc)

    async def _edit_status(self, job: JobRecord, text: str,
                           keyboard: InlineKeyboardMarkup | None) -> bool:
        message_id = await self.state.status_message(job.id)
        if message_id is None:
            return False
        try:
            await with_flood_control(lambda: self.bot.edit_message_text(
                text, job.request.chat_id, message_id, reply_markup=keyboard))
        except BadRequest as exc:
            log.info("status message of job %s not editable: %s", job.id, exc)
            return False
        return True

    async def _close_status(self, job: JobRecord) -> None:
        """The clip is posted; the status message (and its Cancel button) has served."""
        self.throttle.forget(job.id)
        message_id = await self.state.status_message(job.id)
        if message_id is not None:
            await self._best_effort(self.bot.delete_message(job.request.chat_id, message_id))

    @staticmethod
    async def _best_effort(call: Awaitable[object]) -> None:
        try:
            await call
        except (TelegramError, NetworkError) as exc:
            log.debug("best-effort call failed: %s", exc)


def _reply_to(job: JobRecord) -> ReplyParameters | None:
    message_id = job.request.reply.get("message_id")
    if not message_id:
        return None
    return ReplyParameters(int(message_id), allow_sending_without_reply=True)

