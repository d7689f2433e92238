"""An engine frozen (SIGSTOP) past its heartbeat, then resumed: fencing, no double delivery.

Engine A is paused mid-denoise; engine B sees A's heartbeat expire, reclaims the job and
runs it. A then wakes up and carries on as if nothing happened: every write it makes about
the job must be refused (the claim's attempt number is a fencing token), so the user gets
one clip, one result event and one charge.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

import pytest

from bots.core.delivery import ResultPump
from storage import Accepted, JobRecord, JobRequest, JobState, QuotaLimits, Storage
from tests.engine_runtime.job_helpers import wait_for
from tests.engine_runtime.procs import engine_env, start_engine

pytestmark = pytest.mark.slow
LIMITS = QuotaLimits(daily_gpu_s=1000, daily_clips=50, max_inflight=10, max_queue=100)


class Sink:
    def __init__(self) -> None:
        self.clips: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()

    async def deliver_clip(self, job: JobRecord, clip: bytes, thumb: bytes | None) -> None:
        self.clips[job.id] += 1

    async def deliver_failure(self, job: JobRecord) -> None:
        self.failures[job.id] += 1



async def test_paused_engine_is_fenced_after_takeover(
    storage: Storage, redis_url: str, prefix: str, preview_model_dir
) -> None:
    # Both engines start together (start-up dominates this test's time); whichever
    # claims the job is "A" and gets frozen, the other one is "B".
    procs = dict(zip(("stop-a", "stop-b"), await asyncio.gather(*(
        start_engine(engine_env(redis_url, prefix, preview_model_dir, CLIPBOT_ENGINE_ID=name),
                     timeout=240)
        for name in ("stop-a", "stop-b")
    )), strict=True))
    sink, stop = Sink(), asyncio.Event()
    pump = asyncio.create_task(ResultPump(storage, "cli", "bot-1", sink).run(stop))
    try:
        req = JobRequest(platform="cli", user_id="u", chat_id="c", prompt="a long clip",
                         seed=1, aspect="1:1", seconds=1, steps=6)
        res = await storage.jobs.submit(req, cost=2.0, limits=LIMITS, idem_key="long")
        assert isinstance(res, Accepted)
        job = await wait_for(storage, res.job_id,
                             lambda j: j.state is JobState.RUNNING and j.step >= 1, 90)
        engine_a = job.engine
        a = procs[engine_a]
        a.send_signal(signal.SIGSTOP)  # frozen mid-denoise; its heartbeat runs out
        job = await wait_for(storage, res.job_id, lambda j: j.engine != engine_a, 30)
        assert job.attempts == 2 and job.state is JobState.RUNNING
        a.send_signal(signal.SIGCONT)  # A wakes up mid-job, still believing it holds it
        job = await wait_for(storage, res.job_id, lambda j: j.state.final, 90)
        await wait_for(storage, res.job_id, lambda j: j.delivered, 30)
        await asyncio.sleep(2.0)  # time for a late write from A to show up, if it could

        assert job.state is JobState.DONE and job.engine != engine_a, job
        assert a.returncode is None, "the resumed engine crashed instead of moving on"
        events = await storage.redis.xrange(storage.keys.results("cli"))
        assert [e[1]["job"] for e in events if e[1]["job"] == res.job_id] <= [res.job_id]
        assert sink.clips == Counter({res.job_id: 1}) and not sink.failures
        clips = [k async for k in storage.redis.scan_iter(match=storage.keys.base + "clip:*")]
        assert clips == [storage.keys.clip(job.clip_id)], "A's clip was stored as well"
        view = await storage.accounts.quota("cli:u", LIMITS)
        assert (view.used_clips, view.used_gpu_s, view.inflight) == (1, 2.0, 0)
    finally:
        stop.set()
        await asyncio.wait({pump}, timeout=10)
        for proc in procs.values():
            if proc.returncode is None:
                proc.send_signal(signal.SIGCONT)
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 60)
