"""Waiting users see their place move: a queue that drains updates their status message.

The acknowledgement states a position and an ETA; a user at number 9 should not read
"number 9" until their clip starts. ``follow_queue`` walks the queue now and then and
tells the adapter about each of its jobs whose place changed since the last look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from storage import JobRecord, JobState, Storage
from storage.connection import TRANSIENT

log = logging.getLogger("clipbot.bots")
QUEUE_TICK_S = 10.0
# Status edits for positions past this are not worth their API calls; they get the next one.
SCAN_LIMIT = 500


@dataclass(frozen=True)
class QueuePlace:
    position: int  # 1 = next to start
    eta_s: float
    engines_online: int


class QueueSink(Protocol):
    async def on_queue_place(self, job: JobRecord, place: QueuePlace) -> None: ...


async def follow_queue(
    storage: Storage,
    platform: str,
    sink: QueueSink,
    stop: asyncio.Event,
    eta: Callable[[int], Awaitable[float]],
    every_s: float = QUEUE_TICK_S,
) -> None:
    """Until ``stop``: every ``every_s``, report this platform's queued jobs whose position
    moved since the previous look (best effort, like progress: a missed tick costs nothing).
    A job's first sighting only records its place: the acknowledgement already said it.
    With no engine online nothing is said: there is no honest ETA, and the acknowledgement
    told the user that their clip starts when an engine is back."""
    last: dict[str, int] = {}
    while not stop.is_set():
        try:
            last = await _tick(storage, platform, sink, eta, last)
        except TRANSIENT as exc:
            log.warning("queue positions unavailable (%s); retrying", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


async def _tick(
    storage: Storage,
    platform: str,
    sink: QueueSink,
    eta: Callable[[int], Awaitable[float]],
    last: dict[str, int],
) -> dict[str, int]:
    seen: dict[str, int] = {}
    engines = len(await storage.engines.live())
    for position, job_id in enumerate(await storage.jobs.queued_ids(SCAN_LIMIT), start=1):
        before = last.get(job_id)
        seen[job_id] = position
        if before is None or before == position or not engines:
            continue
        job = await storage.jobs.get(job_id)
        if job is None or job.request.platform != platform or job.state is not JobState.QUEUED:
            continue
        try:
            await sink.on_queue_place(job, QueuePlace(position, await eta(position), engines))
        except Exception:  # one chat's failure must not stop the others' updates
            log.exception("queue update for job %s failed", job_id)
    return seen
