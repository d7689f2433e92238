"""``clipbot admin drain-engine``: the engine takes no new job, finishes (or hands back) the
current one exactly as on SIGTERM, leaves the live engines and exits; nothing is lost."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from engine.worker import Worker, WorkerConfig
from storage import JobState, Storage
from tests.engine_runtime.job_helpers import LIMITS, submit, wait_for
from tests.engine_runtime.procs import engine_env

pytestmark = pytest.mark.slow

class Gated:
    """The preview generator, held after its first denoising step until ``gate`` is set (or
    the worker cancels): a job stays running for exactly as long as a test needs."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.gate = threading.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def generate(self, spec, on_step=None, should_cancel=None):
        def step(done: int, total: int) -> None:
            if on_step is not None:
                on_step(done, total)
            while not self.gate.wait(0.05):
                if should_cancel is not None and should_cancel():
                    return

        return self.inner.generate(spec, step, should_cancel)


StartWorker = Callable[..., Awaitable[tuple[Worker, "asyncio.Task[None]"]]]


@pytest.fixture
async def start_worker(storage: Storage, preview_generator) -> AsyncIterator[StartWorker]:
    """Starts in-loop engine workers (like the ``engine`` fixture), returns each once it is
    live, with its task."""
    running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def start(**kw: object) -> tuple[Worker, asyncio.Task[None]]:
        cfg = dict(engine_id=f"drain-test-{uuid.uuid4().hex[:6]}", profile="preview",
                   default_steps=2, heartbeat_ttl_s=1.5, block_ms=200,
                   progress_interval_s=0.0)
        cfg.update(kw)
        generator = cfg.pop("generator", preview_generator)
        worker = Worker(storage, generator, WorkerConfig(**cfg))  # type: ignore[arg-type]
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        running.append((stop, task))
        for _ in range(200):
            if worker.cfg.engine_id in await live_ids(storage):
                return worker, task
            await asyncio.sleep(0.05)
        raise AssertionError("the worker did not come online")

    yield start
    for stop, task in running:
        stop.set()
        await asyncio.wait_for(task, timeout=60)


async def clipbot(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run the CLI without blocking this loop (the in-loop engines must keep beating)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clipbot.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()




async def live_ids(storage: Storage) -> set[str]:
    return {e.engine_id for e in await storage.engines.live()}


async def results(storage: Storage) -> list[str]:
    return [e[1]["job"] for e in await storage.redis.xrange(storage.keys.results("cli"))]


async def test_drain_an_idle_engine(
    storage: Storage, start_worker: StartWorker, env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="clipbot.engine")
    worker, task = await start_worker()
    me = worker.cfg.engine_id
    assert me in await live_ids(storage)

    rc, out, err = await clipbot(env, "admin", "drain-engine", me)
    assert (rc, err) == (0, "")
    assert out == (f"engine {me} is draining: it takes no new jobs, is idle, then leaves the "
                   "live engines and exits\n")
    await asyncio.wait_for(task, 15)  # the worker returned by itself
    assert worker.drained and worker.handled == 0
    assert me not in await live_ids(storage)
    assert not await storage.engines.drain_requested(me)  # the request was used up
    assert any(f"engine {me} drained" in r.getMessage() for r in caplog.records)

    # A job sent now waits in the queue for another engine: the drained one took nothing.
    job_id = await submit(storage, "after-drain")
    await asyncio.sleep(1.0)
    job = await storage.jobs.get(job_id)
    assert job is not None and job.state is JobState.QUEUED and job.attempts == 0
    assert await storage.jobs.position(job_id) == 1
    other, _ = await start_worker()
    job = await wait_for(storage, job_id, lambda j: j.state.final)
    assert job.state is JobState.DONE and job.attempts == 1
    assert await results(storage) == [job_id]
    assert other.cfg.engine_id in await live_ids(storage)


async def test_drain_while_a_job_runs_finishes_it_once_and_leaves_the_queue(
    storage: Storage, start_worker: StartWorker, env: dict[str, str], preview_generator
) -> None:
    gated = Gated(preview_generator)
    worker, task = await start_worker(generator=gated)
    me = worker.cfg.engine_id
    running = await submit(storage, "long", steps=4)
    queued = await submit(storage, "next")
    await wait_for(storage, running, lambda j: j.state is JobState.RUNNING and j.step >= 1)

    rc, out, err = await clipbot(env, "admin", "drain-engine", me)
    assert (rc, err) == (0, "")
    assert f"engine {me} is draining: it takes no new jobs, finishes job {running}" in out
    rc, out, _ = await clipbot(env, "status")
    assert rc == 0
    line = next(x for x in out.splitlines() if me in x)
    assert f"busy with {running}, draining" in line
    for _ in range(100):  # a heartbeat sees the request while the job runs...
        if worker.drained:
            break
        await asyncio.sleep(0.05)
    assert worker.drained and not task.done()  # ...and the job still runs on

    gated.gate.set()
    await asyncio.wait_for(task, 90)
    assert worker.drained and worker.handled == 1
    assert me not in await live_ids(storage)
    done = await storage.jobs.get(running)
    assert done is not None and done.state is JobState.DONE and done.attempts == 1
    assert await storage.clips.get(done.clip_id) is not None
    waiting = await storage.jobs.get(queued)
    assert waiting is not None and waiting.state is JobState.QUEUED and waiting.attempts == 0
    assert await results(storage) == [running]
    assert await storage.jobs.deliver(running, "cli")
    assert not await storage.jobs.deliver(running, "cli")  # delivered exactly once

    await start_worker()  # another engine picks up what the drained one left in the queue
    job = await wait_for(storage, queued, lambda j: j.state.final)
    assert job.state is JobState.DONE and job.attempts == 1
    assert await results(storage) == [running, queued]
    view = await storage.accounts.quota("cli:u", LIMITS)
    assert view.used_clips == 2 and view.inflight == 0


async def test_drain_past_the_timeout_hands_the_job_back(
    storage: Storage, start_worker: StartWorker, env: dict[str, str], preview_generator
) -> None:
    worker, task = await start_worker(drain_timeout_s=0.2, generator=Gated(preview_generator))
    job_id = await submit(storage, "long", steps=4)
    await wait_for(storage, job_id, lambda j: j.state is JobState.RUNNING and j.step >= 1)
    rc, _, _ = await clipbot(env, "admin", "drain-engine", worker.cfg.engine_id)
    assert rc == 0
    await asyncio.wait_for(task, 60)
    job = await storage.jobs.get(job_id)
    # Back at the front of the queue, not counted as an attempt (tests/engine_runtime/
    # test_engine_faults.py shows another engine then finishing such a job once).
    assert job is not None and job.state is JobState.QUEUED and job.attempts == 0
    assert await storage.jobs.position(job_id) == 1
    assert await results(storage) == []


async def test_a_restarted_engine_ignores_a_drain_left_from_before(
    storage: Storage, start_worker: StartWorker
) -> None:
    await storage.redis.set(storage.keys.drain("gpu-0"), "1")  # e.g. the engine was killed
    worker, task = await start_worker(engine_id="gpu-0")
    job_id = await submit(storage, "k")
    job = await wait_for(storage, job_id, lambda j: j.state.final)
    assert job.state is JobState.DONE and not worker.drained and not task.done()


async def test_a_drained_engine_process_exits_0(
    storage: Storage, redis_url: str, prefix: str, preview_model_dir, env: dict[str, str]
) -> None:
    engine_env_ = engine_env(redis_url, prefix, preview_model_dir, CLIPBOT_ENGINE_ID="gpu-7",
                             CLIPBOT_LOG_LEVEL="INFO", CLIPBOT_LOG_FORMAT="text")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clipbot.cli", "engine", env=engine_env_,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    try:
        while b" ready: " not in (line := await asyncio.wait_for(proc.stdout.readline(), 90)):
            assert line, "engine exited early"
        rc, out, _ = await clipbot(env, "admin", "drain-engine", "gpu-7")
        assert rc == 0 and "is draining" in out
        rest, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0
    assert "engine gpu-7 drained: left the live engines" in rest.decode()
    assert "gpu-7" not in await live_ids(storage)
