"""A Redis reply lost after the script ran: the client's retry runs it a second time.

The engine talks to Redis through a proxy that drops exactly one reply; redis-py retries
the same EVALSHA on a new connection. Each job-state script must give the same answer the
second time, or the retry turns a success into a failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator

import pytest

from storage import Accepted, JobRecord, JobRequest, JobState, QuotaLimits, Storage
from storage.scripts import source
from tests.reliability.faulty_proxy import FaultyRedisProxy

pytestmark = pytest.mark.slow
LIMITS = QuotaLimits(daily_gpu_s=1000, daily_clips=50, max_inflight=10, max_queue=100)


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[FaultyRedisProxy]:
    p = await FaultyRedisProxy(redis_url).start()
    try:
        yield p
    finally:
        await p.close()


async def run_one_job_through(
    storage: Storage, proxy: FaultyRedisProxy, prefix: str, generator: object, script: str
) -> JobRecord:
    """Submit one job, run an engine whose Redis drops the reply to ``script`` once."""
    from engine.worker import Worker, WorkerConfig

    text = source(script)
    await storage.redis.script_load(text)  # so the armed EVALSHA really runs the script
    proxy.arm(hashlib.sha1(text.encode()).hexdigest().encode())
    engine_storage = await Storage.open(proxy.url, prefix, heartbeat_ttl_ms=1500)
    worker = Worker(engine_storage, generator, WorkerConfig(
        engine_id=f"lr-{uuid.uuid4().hex[:6]}", profile="preview", default_steps=2,
        heartbeat_ttl_s=1.5, block_ms=200, progress_interval_s=0.0))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        req = JobRequest(platform="cli", user_id="u", chat_id="c", prompt="a red kite", seed=1,
                         aspect="1:1", seconds=1)
        res = await storage.jobs.submit(req, cost=1.0, limits=LIMITS, idem_key="k")
        assert isinstance(res, Accepted)
        async with asyncio.timeout(60):
            while (job := await storage.jobs.get(res.job_id)) is None or not job.state.final:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(task_idle(worker), 30)
        assert proxy.fired.is_set(), f"the {script} reply was never dropped"
        return job
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await engine_storage.close()


async def task_idle(worker: object) -> None:
    # The store/finish step runs in the worker's background tail; wait for it to settle.
    while getattr(worker, "_tail", None) is not None and not worker._tail.done():  # type: ignore[attr-defined]
        await asyncio.sleep(0.05)


async def test_finish_replayed_after_a_lost_reply_keeps_the_clip(
    storage: Storage, proxy: FaultyRedisProxy, prefix: str, preview_generator
) -> None:
    job = await run_one_job_through(storage, proxy, prefix, preview_generator, "finish")
    assert job.state is JobState.DONE
    assert await storage.clips.get(job.clip_id) is not None, "DONE job's clip was deleted"


async def test_claim_replayed_after_a_lost_reply_counts_one_attempt(
    storage: Storage, proxy: FaultyRedisProxy, prefix: str, preview_generator
) -> None:
    job = await run_one_job_through(storage, proxy, prefix, preview_generator, "claim")
    assert job.state is JobState.DONE
    assert job.attempts == 1
