"""Redis killed (SIGKILL) and restarted mid-run, AOF ``appendfsync everysec``.

A real engine worker (preview model) and a real result pump keep running through the
restart: every accepted job must reach DONE, be delivered exactly once and charged once,
and neither process may need a hand to reconnect.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio.retry import Retry
from redis.backoff import ConstantBackoff

from bots.core.delivery import ResultPump
from bots.core.service import ClipService, CoreConfig, Submitted, Who
from storage import JobRecord, JobState, QuotaLimits, Storage
from tests.reliability.redis_server import BINARY, PrivateRedis

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(BINARY is None, reason="redis-server is not on PATH (apt-get install "
                       "redis-server) so a private Redis cannot be started and killed"),
]
LIMITS = QuotaLimits(daily_gpu_s=100_000, daily_clips=50, max_inflight=10, max_queue=100)


class RecordingSink:
    """A bot's delivery side that only counts what it was asked to send."""

    def __init__(self) -> None:
        self.clips: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()

    async def deliver_clip(self, job: JobRecord, clip: bytes, thumb: bytes | None) -> None:
        assert clip[4:8] == b"ftyp"
        self.clips[job.id] += 1

    async def deliver_failure(self, job: JobRecord) -> None:
        self.failures[job.id] += 1


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    srv = PrivateRedis(tmp_path)
    await srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def make_worker(storage: Storage, generator: object):
    from engine.worker import Worker, WorkerConfig

    return Worker(storage, generator, WorkerConfig(
        engine_id=f"rr-engine-{uuid.uuid4().hex[:6]}", profile="preview", default_steps=2,
        heartbeat_ttl_s=1.5, block_ms=200, progress_interval_s=0.0,
    ))


async def submit(service: ClipService, n: int, tag: str) -> list[str]:
    ids = []
    for i in range(n):
        who = Who("cli", f"user{i % 3}", "chat")
        res = await service.request_video(who, f"a red kite {tag} {i} --seconds 1",
                                          idem_key=f"{tag}-{i}")
        assert isinstance(res, Submitted) and not res.duplicate, res
        ids.append(res.job_id)
    return ids


async def until(pred, timeout: float, what: str) -> None:
    async def poll() -> None:
        while not await pred():
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}") from None


async def stop_all(stop: asyncio.Event, *tasks: asyncio.Task[None]) -> None:
    stop.set()
    await asyncio.wait(tasks, timeout=30)
    for task in tasks:
        if not task.done():
            task.cancel()


async def test_sigkill_redis_mid_run_loses_no_job(server: PrivateRedis, preview_generator) -> None:
    storage = await Storage.open(server.url, "rr", heartbeat_ttl_ms=1500)
    service = ClipService(storage, CoreConfig(limits=LIMITS))
    sink, stop = RecordingSink(), asyncio.Event()
    worker = make_worker(storage, preview_generator)
    engine = asyncio.create_task(worker.run(stop))
    pump = asyncio.create_task(ResultPump(storage, "cli", "bot-1", sink).run(stop))
    try:
        before = await submit(service, 3, "before")

        async def mid_run() -> bool:
            jobs = [await storage.jobs.get(i) for i in before]
            states = {j.state for j in jobs if j}
            return JobState.DONE in states and JobState.RUNNING in states

        await until(mid_run, 60, "one job done and one running")
        server.kill()
        await asyncio.sleep(1.0)
        await server.start()
        # Same client objects as before the kill: the bot side reconnects by itself too.
        after = await submit(service, 2, "after")
        accepted = before + after

        async def all_delivered() -> bool:
            return all(sink.clips[i] >= 1 for i in accepted) or bool(sink.failures)

        await until(all_delivered, 90, "every accepted job to be delivered")
        await asyncio.sleep(0.5)  # give a duplicate delivery the chance to show up
        assert not engine.done() and not pump.done(), "a process stopped instead of reconnecting"
        assert not sink.failures, f"jobs failed: {dict(sink.failures)}"
        assert all(sink.clips[i] == 1 for i in accepted), dict(sink.clips)
        for job_id in accepted:
            job = await storage.jobs.get(job_id)
            assert job is not None and job.state is JobState.DONE and job.delivered, job
            assert await storage.clips.get(job.clip_id) is not None
        charged = [1 + (n < 2) for n in range(3)]  # user0, user1: before + after; user2
        for n in range(3):
            view = await service.quota(Who("cli", f"user{n}", "chat"))
            assert (view.used_clips, view.inflight) == (charged[n], 0)
        assert await storage.redis.xlen(storage.keys.dead) == 0
    finally:
        await stop_all(stop, engine, pump)
        await storage.close()


async def short_retry_storage(url: str) -> Storage:
    """Storage whose client gives up after one retry: the same as an outage that outlasts
    the default budget (about 16 s), without making the test wait that long."""
    storage = await Storage.open(url, "rr", heartbeat_ttl_ms=1500)
    storage.redis.set_retry(Retry(ConstantBackoff(0.1), 1))
    return storage


async def outage(server: PrivateRedis, seconds: float = 2.0) -> None:
    server.kill()
    await asyncio.sleep(seconds)
    await server.start()


async def test_engine_outlives_an_outage_longer_than_its_retry_budget(
    server: PrivateRedis, preview_generator
) -> None:
    storage = await short_retry_storage(server.url)
    service = ClipService(storage, CoreConfig(limits=LIMITS))
    stop = asyncio.Event()
    engine = asyncio.create_task(make_worker(storage, preview_generator).run(stop))
    try:
        await asyncio.sleep(0.5)
        await outage(server)
        assert not engine.done(), f"engine stopped: {engine.exception()!r}"
        (job_id,) = await submit(service, 1, "after")

        async def done() -> bool:
            job = await storage.jobs.get(job_id)
            return job is not None and job.state is JobState.DONE

        await until(done, 30, "the job submitted after the outage")
    finally:
        await stop_all(stop, engine)
        await storage.close()


async def test_result_pump_outlives_an_outage_longer_than_its_retry_budget(
    server: PrivateRedis,
) -> None:
    storage = await short_retry_storage(server.url)
    sink, stop = RecordingSink(), asyncio.Event()
    pump = asyncio.create_task(ResultPump(storage, "cli", "bot-1", sink).run(stop))
    try:
        await asyncio.sleep(0.5)
        await outage(server)
        assert not pump.done(), f"result pump stopped: {pump.exception()!r}"
    finally:
        await stop_all(stop, pump)
        await storage.close()
