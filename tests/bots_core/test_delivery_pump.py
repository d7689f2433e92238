"""The result pump: a clip that cannot be delivered is refunded and reported, not charged."""

from __future__ import annotations

import asyncio

import pytest

from bots.core.delivery import MAX_DELIVERY_TRIES, ResultPump
from storage import Accepted, JobRecord, JobRequest, JobState, QuotaLimits, Storage

pytestmark = pytest.mark.slow
LIMITS = QuotaLimits(daily_gpu_s=100, daily_clips=5, max_inflight=5, max_queue=10)


class BrokenPlatform:
    """A chat platform that refuses every upload but can still show a text."""

    def __init__(self) -> None:
        self.uploads = 0
        self.failures: list[JobRecord] = []

    async def deliver_clip(self, job: JobRecord, clip: bytes, thumb: bytes | None) -> None:
        self.uploads += 1
        raise RuntimeError("upload refused")

    async def deliver_failure(self, job: JobRecord) -> None:
        self.failures.append(job)


async def test_undeliverable_clip_is_refunded_and_reported(storage: Storage, engine) -> None:
    req = JobRequest(platform="web", user_id="u", chat_id="c", prompt="kite", seed=1,
                     aspect="1:1", seconds=1)
    res = await storage.jobs.submit(req, cost=3.0, limits=LIMITS, idem_key="g1")
    assert isinstance(res, Accepted)
    sink = BrokenPlatform()
    pump = ResultPump(storage, "web", "bot-test", sink, retry_base_s=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(pump.run(stop, block_ms=100))
    try:
        async with asyncio.timeout(60):
            while not sink.failures:
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    assert sink.uploads == MAX_DELIVERY_TRIES
    job = await storage.jobs.get(res.job_id)
    assert job is not None and job.state is JobState.FAILED and job.error == "undeliverable"
    view = await storage.accounts.quota("web:u", LIMITS)
    assert view.used_clips == 0 and view.used_gpu_s == pytest.approx(0.0)
    assert await storage.redis.xlen(storage.keys.results("web")) == 0
