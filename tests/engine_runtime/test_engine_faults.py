"""Real engine processes killed mid-job: the job completes once, the user is charged once."""

from __future__ import annotations

import asyncio
import signal

import pytest

from storage import Accepted, JobRequest, JobState, QuotaLimits, Storage
from tests.engine_runtime.job_helpers import wait_for
from tests.engine_runtime.procs import engine_env, start_engine

pytestmark = pytest.mark.slow
LIMITS = QuotaLimits(daily_gpu_s=1000, daily_clips=50, max_inflight=10, max_queue=100)


async def submit_long(storage: Storage) -> str:
    req = JobRequest(platform="cli", user_id="u", chat_id="c", prompt="a long clip", seed=1,
                     aspect="1:1", seconds=1, steps=30)
    res = await storage.jobs.submit(req, cost=2.0, limits=LIMITS, idem_key="long")
    assert isinstance(res, Accepted)
    return res.job_id



async def test_sigkill_mid_denoise_then_another_engine_finishes_once(
    storage: Storage, redis_url: str, prefix: str, preview_model_dir
) -> None:
    env = engine_env(redis_url, prefix, preview_model_dir)
    first = await start_engine(env)
    job_id = await submit_long(storage)
    await wait_for(storage, job_id, lambda j: j.state is JobState.RUNNING and j.step >= 1)
    first.send_signal(signal.SIGKILL)
    await first.wait()

    second = await start_engine(env)
    try:
        job = await wait_for(storage, job_id, lambda j: j.state.final)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 60)
    assert job.state is JobState.DONE and job.attempts == 2
    assert await storage.clips.get(job.clip_id) is not None
    events = await storage.redis.xrange(storage.keys.results("cli"))
    assert [e[1]["job"] for e in events] == [job_id]  # one result
    assert await storage.jobs.deliver(job_id, "cli")
    view = await storage.accounts.quota("cli:u", LIMITS)
    assert view.used_clips == 1 and view.used_gpu_s == pytest.approx(2.0)  # charged once


async def test_sigterm_hands_the_job_back_without_losing_it(
    storage: Storage, redis_url: str, prefix: str, preview_model_dir
) -> None:
    env = engine_env(redis_url, prefix, preview_model_dir, CLIPBOT_DRAIN_TIMEOUT_S="0.2")
    first = await start_engine(env)
    job_id = await submit_long(storage)
    await wait_for(storage, job_id, lambda j: j.state is JobState.RUNNING and j.step >= 1)
    first.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(first.wait(), 60) == 0
    job = await storage.jobs.get(job_id)
    assert job is not None and job.state is JobState.QUEUED and job.attempts == 0

    second = await start_engine(env)
    try:
        job = await wait_for(storage, job_id, lambda j: j.state.final)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 60)
    assert job.state is JobState.DONE and job.attempts == 1
