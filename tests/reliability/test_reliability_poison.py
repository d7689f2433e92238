"""A poison job that kills every engine that takes it: dead-lettered, refunded, user told.

Three engines take the job and die holding it (their heartbeats never come back); a real
engine worker then reclaims it, the claim finds the attempts used up, and a real result
pump tells the user, in their language, with nothing charged.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bots.core.delivery import ResultPump
from bots.core.render import failure
from bots.core.service import ClipService, CoreConfig, Submitted, Who
from bots.i18n import t
from storage import JobRecord, JobState, QuotaLimits, Storage

pytestmark = pytest.mark.slow
LIMITS = QuotaLimits(daily_gpu_s=1000, daily_clips=5, max_inflight=5, max_queue=100)


class Sink:
    def __init__(self) -> None:
        self.failures: list[JobRecord] = []
        self.clips: list[JobRecord] = []

    async def deliver_clip(self, job: JobRecord, clip: bytes, thumb: bytes | None) -> None:
        self.clips.append(job)

    async def deliver_failure(self, job: JobRecord) -> None:
        self.failures.append(job)


async def die_holding(storage: Storage, engine_id: str, job_id: str) -> None:
    """What an engine does before a crash: read the entry and claim the job, then nothing."""
    entry = await storage.jobs.read_next(engine_id, 100) or await storage.jobs.reclaim(engine_id)
    assert entry is not None and entry[1] == job_id, entry
    claim = await storage.jobs.claim(entry[0], job_id, engine_id)
    assert not isinstance(claim, str), claim


async def test_poison_job_is_dead_lettered_refunded_and_explained(
    storage: Storage, preview_generator
) -> None:
    from engine.worker import Worker, WorkerConfig

    service = ClipService(storage, CoreConfig(limits=LIMITS))
    who = Who("cli", "u", "c", "es")
    res = await service.request_video(who, "un pastel que explota", idem_key="tg:1")
    assert isinstance(res, Submitted)
    assert (await service.quota(who)).used_clips == 1
    for n in range(storage.jobs.max_attempts):
        await die_holding(storage, f"crashed-{n}", res.job_id)  # no heartbeat: dead at once

    sink, stop = Sink(), asyncio.Event()
    worker = Worker(storage, preview_generator, WorkerConfig(
        engine_id=f"survivor-{uuid.uuid4().hex[:6]}", profile="preview", default_steps=2,
        heartbeat_ttl_s=1.5, block_ms=200))
    tasks = [asyncio.create_task(worker.run(stop)),
             asyncio.create_task(ResultPump(storage, "cli", "bot-1", sink).run(stop))]
    try:
        async with asyncio.timeout(30):
            while not sink.failures:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # a second delivery would show up now
    finally:
        stop.set()
        await asyncio.wait(tasks, timeout=30)

    job = await storage.jobs.get(res.job_id)
    assert job is not None and job.state is JobState.FAILED and job.error == "poison"
    assert job.delivered and len(sink.failures) == 1 and not sink.clips
    assert worker.handled == 0  # the survivor never ran it
    text = failure(sink.failures[0])
    assert t("es", "error_poison") in text and t("en", "error_poison") not in text
    view = await service.quota(who)
    assert (view.used_clips, view.used_gpu_s, view.inflight) == (0, 0.0, 0)
    dead = await storage.redis.xrange(storage.keys.dead)
    assert [e[1]["job"] for e in dead] == [res.job_id]
    assert await storage.redis.xlen(storage.keys.lane()) == 0  # not offered to anyone again


async def die_holding_own(storage: Storage, engine_id: str, job_id: str) -> None:
    """An engine with a fixed id (CLIPBOT_ENGINE_ID) restarted after a crash: it first
    serves what it still has pending, claims the job again, and crashes again."""
    pending = await storage.jobs.read_own_pending(engine_id)
    entry = pending[0] if pending else await storage.jobs.read_next(engine_id, 100)
    assert entry is not None and entry[1] == job_id, entry
    claim = await storage.jobs.claim(entry[0], job_id, engine_id)
    assert not isinstance(claim, str), claim


async def test_poison_job_on_an_engine_with_a_fixed_id_is_still_dead_lettered(
    storage: Storage, preview_generator
) -> None:
    from engine.worker import Worker, WorkerConfig

    service = ClipService(storage, CoreConfig(limits=LIMITS))
    who = Who("cli", "u", "c", "en")
    res = await service.request_video(who, "a cake that explodes", idem_key="tg:1")
    assert isinstance(res, Submitted)
    for _ in range(storage.jobs.max_attempts):
        await die_holding_own(storage, "gpu-0", res.job_id)  # crash, restart, same id

    stop = asyncio.Event()
    worker = Worker(storage, preview_generator, WorkerConfig(
        engine_id="gpu-0", profile="preview", default_steps=2, heartbeat_ttl_s=1.5,
        block_ms=200))
    task = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(30):
            while not (job := await storage.jobs.get(res.job_id)) or not job.state.final:
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait({task}, timeout=30)
    assert job.state is JobState.FAILED and job.error == "poison", job
    assert worker.handled == 0
    assert (await service.quota(who)).used_clips == 0
