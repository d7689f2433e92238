"""A real engine process SIGKILLed at an exact stage of a job, then another engine takes over.

The engine talks to Redis through a proxy that holds one command (never forwarded), so the
process is killed at a precise point: right after it picked the job from the stream (its
claim never reached Redis), or after it stored the clip but before it ended and acked the
job. Either way the job must complete exactly once, be delivered once and charged once.
(Mid-denoise is covered in tests/engine_runtime/test_engine_faults.py.)
"""

from __future__ import annotations

import asyncio
import hashlib
import signal
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from bots.core.delivery import ResultPump
from storage import Accepted, JobRecord, JobRequest, JobState, QuotaLimits, Storage
from storage.scripts import source
from tests.engine_runtime.procs import engine_env, start_engine
from tests.reliability.faulty_proxy import FaultyRedisProxy

pytestmark = pytest.mark.slow
LIMITS = QuotaLimits(daily_gpu_s=1000, daily_clips=50, max_inflight=10, max_queue=100)
# stage -> (the script whose call is held, attempts the job ends with)
STAGES = {"after_pickup": ("claim", 1), "after_upload_before_ack": ("finish", 2)}


class Sink:
    def __init__(self) -> None:
        self.clips: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()

    async def deliver_clip(self, job: JobRecord, clip: bytes, thumb: bytes | None) -> None:
        self.clips[job.id] += 1

    async def deliver_failure(self, job: JobRecord) -> None:
        self.failures[job.id] += 1


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[FaultyRedisProxy]:
    p = await FaultyRedisProxy(redis_url).start()
    try:
        yield p
    finally:
        await p.close()


@pytest.mark.parametrize("stage", list(STAGES))
async def test_engine_killed_at_a_stage_job_completes_once(
    stage: str, storage: Storage, proxy: FaultyRedisProxy, prefix: str, preview_model_dir,
    preview_generator,
) -> None:
    from engine.worker import Worker, WorkerConfig

    script, attempts = STAGES[stage]
    # Read the script file now, not this process's cached copy: the engine process loads
    # the file as it is when it starts, and its EVALSHA carries that text's digest.
    text = source.__wrapped__(script)
    await storage.redis.script_load(text)  # so the held call is the EVALSHA itself
    proxy.hold(hashlib.sha1(text.encode()).hexdigest().encode())
    # Start-up (torch import, model load) takes minutes on a busy 2-core machine.
    doomed = await start_engine(engine_env(proxy.url, prefix, preview_model_dir), timeout=240)
    try:
        req = JobRequest(platform="cli", user_id="u", chat_id="c", prompt="a red kite", seed=1,
                         aspect="1:1", seconds=1)
        res = await storage.jobs.submit(req, cost=1.0, limits=LIMITS, idem_key="k")
        assert isinstance(res, Accepted)
        try:
            await asyncio.wait_for(proxy.held.wait(), 90)
        except TimeoutError:
            job = await storage.jobs.get(res.job_id)
            raise AssertionError(f"the engine never sent {script}; job now: {job}") from None
    finally:
        doomed.send_signal(signal.SIGKILL)
        await doomed.wait()

    sink, stop = Sink(), asyncio.Event()
    survivor = Worker(storage, preview_generator, WorkerConfig(
        engine_id=f"survivor-{uuid.uuid4().hex[:6]}", profile="preview", default_steps=2,
        heartbeat_ttl_s=1.5, block_ms=200))
    tasks = [asyncio.create_task(survivor.run(stop)),
             asyncio.create_task(ResultPump(storage, "cli", "bot-1", sink).run(stop))]
    try:
        try:
            async with asyncio.timeout(90):
                while (job := await storage.jobs.get(res.job_id)) is None or not job.delivered:
                    await asyncio.sleep(0.05)
        except TimeoutError:
            pending = await storage.redis.xpending(storage.keys.lane(), "engines")
            raise AssertionError(f"not delivered after the kill: {job}; pending {pending}; "
                                 f"survivor alive: {not tasks[0].done()}") from None
        await asyncio.sleep(0.5)  # room for a second result or delivery to show up
    finally:
        stop.set()
        await asyncio.wait(tasks, timeout=30)

    assert job.state is JobState.DONE and job.engine == survivor.cfg.engine_id, job
    assert job.attempts == attempts
    assert await storage.clips.get(job.clip_id) is not None
    events = await storage.redis.xrange(storage.keys.results("cli"))
    assert [e[1]["job"] for e in events] in ([], [res.job_id])  # acked ones are deleted
    assert sink.clips == Counter({res.job_id: 1}) and not sink.failures
    view = await storage.accounts.quota("cli:u", LIMITS)
    assert (view.used_clips, view.used_gpu_s, view.inflight) == (1, 1.0, 0)
    assert await storage.redis.xlen(storage.keys.lane()) == 0
