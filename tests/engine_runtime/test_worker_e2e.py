"""The engine worker on the real preview diffusers pipeline, in-process."""

from __future__ import annotations

import asyncio

import pytest

from clipbot.media import probe_mp4
from storage import JobState, Storage
from tests.engine_runtime.job_helpers import LIMITS, submit

pytestmark = pytest.mark.slow



async def wait_final(storage: Storage, job_id: str, timeout: float = 60.0):
    async def poll():
        while True:
            job = await storage.jobs.get(job_id)
            if job is not None and job.state.final:
                return job
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), timeout)


async def test_prompt_in_mp4_out(storage: Storage, engine) -> None:
    job_id = await submit(storage, "k1")
    job = await wait_final(storage, job_id)
    assert job.state is JobState.DONE, job.error
    assert job.meta is not None and job.meta.preview
    clip = await storage.clips.get(job.clip_id)
    assert clip is not None
    info = probe_mp4(clip)
    assert info.codec == "h264" and info.pix_fmt == "yuv420p" and info.faststart
    assert not info.has_b_frames
    assert (info.width, info.height, info.frames) == (144, 256, 17)
    assert (job.meta.width, job.meta.height, job.meta.frames) == (144, 256, 17)
    thumb = await storage.clips.thumb(job.clip_id)
    assert thumb is not None and thumb[:2] == b"\xff\xd8"
    # the engine wrote progress and a result event for the platform's bots
    assert job.total_steps == 2
    events = await storage.redis.xrange(storage.keys.results("cli"))
    assert [e[1]["job"] for e in events] == [job_id]


async def test_progress_is_published(storage: Storage, engine) -> None:
    seen: list[str] = []
    async with storage.redis.pubsub() as ps:
        await ps.subscribe(storage.keys.progress_channel("cli"))
        job_id = await submit(storage, "k2")
        deadline = asyncio.get_running_loop().time() + 30
        while len(seen) < 3:
            assert asyncio.get_running_loop().time() < deadline, f"progress seen: {seen}"
            # None also stands for the (ignored) subscribe confirmation: keep reading.
            msg = await ps.get_message(ignore_subscribe_messages=True, timeout=1)
            if msg is not None:
                seen.append(msg["data"])
    assert any('"phase": "running"' in s for s in seen)
    assert all(job_id in s for s in seen)
    await wait_final(storage, job_id)


async def test_cancel_running_job_refunds(storage: Storage, engine) -> None:
    job_id = await submit(storage, "k3", seconds=5, steps=60)
    while (job := await storage.jobs.get(job_id)) is None or job.step < 1:
        await asyncio.sleep(0.02)
    assert await storage.jobs.cancel(job_id, "cli:u") == "cancelling"
    job = await wait_final(storage, job_id)
    assert job.state is JobState.CANCELLED
    assert (await storage.accounts.quota("cli:u", LIMITS)).used_clips == 0


async def test_jobs_run_one_at_a_time_in_order(storage: Storage, engine) -> None:
    ids = [await submit(storage, f"o{i}", user_id=f"u{i}") for i in range(3)]
    jobs = [await wait_final(storage, i) for i in ids]
    assert all(j.state is JobState.DONE for j in jobs)
    starts = [j.started_at_ms for j in jobs]
    assert starts == sorted(starts)
    assert [j.attempts for j in jobs] == [1, 1, 1]
