"""Following jobs after submission: results from the stream, progress from pub/sub.

An adapter implements ``Deliverer``; the pumps call it and take care of acking, charging
(commit once per job) and retrying, so a bot restarted mid-job still delivers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Protocol

from clipbot.metrics import METRICS
from storage import JobRecord, JobState, ResultEvent, ResultReader, Storage
from storage.connection import TRANSIENT

log = logging.getLogger("clipbot.bots")
MAX_DELIVERY_TRIES = 5


class Deliverer(Protocol):
    async def deliver_clip(self, job: JobRecord, clip: bytes, thumb: bytes | None) -> None: ...
    async def deliver_failure(self, job: JobRecord) -> None: ...


@dataclass(frozen=True)
class Progress:
    job_id: str
    phase: str  # running | encoding
    step: int
    total: int

    @property
    def percent(self) -> int:
        return int(100 * self.step / self.total) if self.total else 0


class ResultPump:
    def __init__(
        self, storage: Storage, platform: str, consumer: str, sink: Deliverer,
        *, retry_base_s: float = 2.0,
    ) -> None:
        self.storage = storage
        self.retry_base_s = retry_base_s
        self.platform = platform
        self.sink = sink
        self.reader = ResultReader(storage.redis, storage.keys, platform, consumer)
        self._tries: dict[str, int] = {}

    async def run(self, stop: asyncio.Event, block_ms: int = 1000) -> None:
        """Deliver results until ``stop``; ``block_ms`` bounds how long stopping takes."""
        await self.reader.ensure_group()
        while not stop.is_set():
            try:
                for event in await self.reader.read(block_ms=block_ms):
                    await self.handle(event)
            except TRANSIENT as exc:
                # Unacked events stay pending for this consumer and are read again.
                log.warning("result stream unavailable (%s); retrying", exc)
                self.reader.retry_later()
                await asyncio.sleep(1.0)

    async def handle(self, event: ResultEvent) -> None:
        job = await self.storage.jobs.get(event.job_id)
        if job is None or job.delivered:
            await self.storage.jobs.deliver(event.job_id, self.platform, event.entry_id)
            return
        try:
            if job.state is JobState.DONE:
                clip = await self.storage.clips.get(job.clip_id)
                if clip is None:
                    raise RuntimeError(f"clip {job.clip_id} missing")
                await self.sink.deliver_clip(job, clip, await self.storage.clips.thumb(job.clip_id))
            else:
                await self.sink.deliver_failure(job)
        except Exception:
            tries = self._tries.get(event.entry_id, 0) + 1
            self._tries[event.entry_id] = tries
            log.exception("delivery of job %s failed (try %d)", job.id, tries)
            if tries < MAX_DELIVERY_TRIES:
                self.reader.retry_later()
                await asyncio.sleep(min(30.0, self.retry_base_s**tries))
                return
            self._tries.pop(event.entry_id, None)
            await self._give_up(job, event)
            return
        self._tries.pop(event.entry_id, None)
        await self.storage.jobs.deliver(job.id, self.platform, event.entry_id)
        METRICS.outcome("delivered" if job.state is JobState.DONE else "failure_reported")
        if job.finished_at_ms:
            METRICS.observe_stage("deliver", max(0.0, time.time() - job.finished_at_ms / 1000))

    async def _give_up(self, job: JobRecord, event: ResultEvent) -> None:
        """Never charge for a clip the user did not get: refund, then try to say so."""
        await self.storage.jobs.undeliverable(job.id, self.platform, event.entry_id)
        failed = await self.storage.jobs.get(job.id)
        if failed is None:
            return
        try:
            await self.sink.deliver_failure(failed)
        except Exception:
            log.exception("could not tell the user job %s failed", job.id)


async def follow_progress(
    storage: Storage, platform: str, sink: ProgressSink, stop: asyncio.Event,
    poll_s: float = 1.0,
) -> None:
    """Forward the engines' progress messages for ``platform`` (best effort)."""
    while not stop.is_set():
        try:
            async with storage.redis.pubsub() as ps:
                await ps.subscribe(storage.keys.progress_channel(platform))
                while not stop.is_set():
                    msg = await ps.get_message(ignore_subscribe_messages=True, timeout=poll_s)
                    if msg is None:
                        continue
                    data = json.loads(msg["data"])
                    await sink.on_progress(
                        Progress(data["job"], data["phase"], data["step"], data["total"])
                    )
        except TRANSIENT as exc:
            log.warning("progress channel unavailable (%s); retrying", exc)
            await asyncio.sleep(1.0)


class ProgressSink(Protocol):
    async def on_progress(self, progress: Progress) -> None: ...
