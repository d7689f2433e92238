"""Live job updates for the browsers connected to this process.

The result pump and the progress channel publish ``JobUpdate``s per user; each open
WebSocket holds a small queue. A browser that was away re-reads its jobs through
``/api/history`` when it reconnects, so nothing here has to be durable. With several web
processes behind a load balancer, the queue watcher also notices jobs that another
process delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bots.core.delivery import Progress
from bots.web.context import UNAVAILABLE
from bots.web.views import JobUpdate
from storage import JobRecord, JobState, Storage

log = logging.getLogger("clipbot.web")
QUEUE_SIZE = 64
Eta = Callable[[int], Awaitable[float]]
WATCH_INTERVAL_S = 2.0


class Subscriber:
    def __init__(self, user: str, locale: str) -> None:
        self.user = user
        self.locale = locale
        self.queue: asyncio.Queue[JobUpdate] = asyncio.Queue(QUEUE_SIZE)

    def push(self, update: JobUpdate) -> None:
        if self.queue.full():  # a stalled browser loses old progress, never the newest state
            self.queue.get_nowait()
        self.queue.put_nowait(update)


class EventHub:
    def __init__(self) -> None:
        self._subs: dict[str, set[Subscriber]] = {}
        # Unfinished jobs of this process's users: user -> job id -> last queue position.
        self._pending: dict[str, dict[str, int]] = {}

    def subscribe(self, user: str, locale: str) -> Subscriber:
        sub = Subscriber(user, locale)
        self._subs.setdefault(user, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self._subs.get(sub.user)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.user]

    def connected(self, user: str) -> bool:
        return bool(self._subs.get(user))

    def publish(self, user: str, update: JobUpdate) -> None:
        if update.job.state.final:
            self._pending.get(user, {}).pop(update.job.id, None)
        for sub in self._subs.get(user, ()):
            sub.push(update)

    def track(self, user: str, job_id: str, position: int) -> None:
        self._pending.setdefault(user, {})[job_id] = position

    def watched(self) -> list[tuple[str, str, int]]:
        """(user, job id, last position) of unfinished jobs whose owner is connected."""
        return [
            (user, job_id, pos)
            for user, jobs in self._pending.items()
            if self.connected(user)
            for job_id, pos in jobs.items()
        ]

    def forget(self, user: str, job_id: str) -> None:
        self._pending.get(user, {}).pop(job_id, None)


class WebSink:
    """The ResultPump's and progress follower's target for platform "web"."""

    def __init__(self, storage: Storage, hub: EventHub) -> None:
        self.storage = storage
        self.hub = hub

    async def deliver_clip(self, job: JobRecord, clip: bytes, thumb: bytes | None) -> None:
        # The browser streams the clip from storage; once this returns the pump commits
        # the charge, and the clip is ready for its owner.
        self.hub.publish(job.user, JobUpdate(job))

    async def deliver_failure(self, job: JobRecord) -> None:
        self.hub.publish(job.user, JobUpdate(job))

    async def on_progress(self, progress: Progress) -> None:
        job = await self.storage.jobs.get(progress.job_id)
        if job is None or not self.hub.connected(job.user) or job.state.final:
            return
        if job.state is JobState.QUEUED:  # progress can overtake the claim's record write
            return
        self.hub.publish(job.user, JobUpdate(job, progress=progress))


async def watch_queue(storage: Storage, hub: EventHub, eta: Eta, stop: asyncio.Event) -> None:
    """Tell waiting users when their place in the queue moves (every couple of seconds)."""
    while not stop.is_set():
        try:
            await _watch_once(storage, hub, eta)
        except UNAVAILABLE as exc:
            log.warning("queue watch failed (%s); retrying", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), WATCH_INTERVAL_S)


async def _watch_once(storage: Storage, hub: EventHub, eta: Eta) -> None:
    for user, job_id, last in hub.watched():
        job = await storage.jobs.get(job_id)
        if job is None:
            hub.forget(user, job_id)
            continue
        if job.state.final:
            # Normally this process's result pump has already told the browser; with
            # several web processes another one may have delivered it.
            if job.delivered:
                hub.publish(user, JobUpdate(job))
            continue
        if job.state is JobState.RUNNING:
            if last != 0:
                hub.track(user, job_id, 0)
                hub.publish(user, JobUpdate(job))
            continue
        position = await storage.jobs.position(job_id)
        if position != last:
            hub.track(user, job_id, position)
            hub.publish(user, JobUpdate(job, position=position, eta_s=await eta(position)))
