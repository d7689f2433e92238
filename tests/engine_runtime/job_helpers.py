"""Submitting jobs straight to storage and waiting on their records, for engine tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from storage import Accepted, JobRecord, JobRequest, QuotaLimits, Storage

LIMITS = QuotaLimits(daily_gpu_s=1000, daily_clips=50, max_inflight=10, max_queue=100)


async def submit(storage: Storage, key: str, **kw: object) -> str:
    """A short 9:16 job (override any JobRequest field with ``kw``); its id."""
    fields = {"platform": "cli", "user_id": "u", "chat_id": "c", "prompt": "a red kite",
              "seed": 3, "aspect": "9:16", "seconds": 1}
    fields.update(kw)
    res = await storage.jobs.submit(JobRequest(**fields), cost=1.0, limits=LIMITS, idem_key=key)
    assert isinstance(res, Accepted)
    return res.job_id


async def wait_for(storage: Storage, job_id: str, pred: Callable[[JobRecord], bool],
                   timeout: float = 90.0) -> JobRecord:
    """The job's record once ``pred`` holds for it."""
    async def poll() -> JobRecord:
        while True:
            job = await storage.jobs.get(job_id)
            if job is not None and pred(job):
                return job
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), timeout)
