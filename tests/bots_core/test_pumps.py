"""The pump lifecycle every adapter uses: started together, stopped together, and a pump
that dies is logged, never dropped."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bots.core.delivery import Progress
from bots.core.pumps import PumpConfig, pumps
from storage import Accepted, JobRecord, JobRequest, QuotaLimits, Storage

LIMITS = QuotaLimits(daily_gpu_s=100, daily_clips=5, max_inflight=5, max_queue=10)


class Recorder:
    def __init__(self) -> None:
        self.clips: list[str] = []
        self.failures: list[str] = []
        self.progress: list[Progress] = []

    async def deliver_clip(self, job: JobRecord, clip: bytes, thumb: bytes | None) -> None:
        self.clips.append(job.id)

    async def deliver_failure(self, job: JobRecord) -> None:
        self.failures.append(job.id)

    async def on_progress(self, progress: Progress) -> None:
        self.progress.append(progress)


async def until(check, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def test_results_are_delivered_while_the_block_runs(
        storage: Storage) -> None:
    req = JobRequest(platform="web", user_id="u", chat_id="c", prompt="kite", seed=1,
                     aspect="1:1", seconds=1)
    res = await storage.jobs.submit(req, cost=3.0, limits=LIMITS, idem_key="p1")
    assert isinstance(res, Accepted)
    sink = Recorder()
    started: list[bool] = []

    async def follower(stop: asyncio.Event) -> None:
        started.append(True)
        await stop.wait()

    config = PumpConfig("bot-test", poll_s=0.1, grace_s=5.0, followers=(follower,))
    async with pumps(storage, "web", sink, config):
        assert await storage.jobs.cancel(res.job_id, "web:u") == "cancelled"
        await until(lambda: sink.failures == [res.job_id])
        assert started == [True]
    assert sink.clips == []


async def test_a_dying_pump_is_logged(storage: Storage, caplog: pytest.LogCaptureFixture
                                      ) -> None:
    async def broken(stop: asyncio.Event) -> None:
        raise RuntimeError("follower broke")

    config = PumpConfig("bot-test", poll_s=0.1, followers=(broken,))
    with caplog.at_level(logging.ERROR, logger="clipbot.bots"):
        async with pumps(storage, "web", Recorder(), config):
            await until(lambda: any("follower broke" in repr(r.exc_info) for r in caplog.records))
    [record] = [r for r in caplog.records if "stopped with an error" in r.getMessage()]
    assert "web-follower-0" in record.getMessage()
