"""The deployment's totals, as finish.lua keeps them and ``JobStore.stats`` reads them."""

from __future__ import annotations

from storage import Accepted, JobState, Storage
from storage.models import JobStats
from tests.storage.test_jobs_store import _claim, submit


async def test_stats_start_empty_and_count_what_finished(storage: Storage) -> None:
    assert await storage.jobs.stats() == JobStats()
    for key in ("a", "b", "c"):
        assert isinstance(await submit(storage, key), Accepted)
    assert await storage.jobs.finish(await _claim(storage), "e1", JobState.FAILED, error="x")
    assert await storage.jobs.finish(await _claim(storage), "e1", JobState.DONE,
                                     clip_id="c" * 16, gen_seconds=4.0)
    assert await storage.jobs.finish(await _claim(storage), "e1", JobState.DONE,
                                     clip_id="d" * 16, gen_seconds=9.0)
    # The average moves a fifth of the way towards each new time: 4.0, then 5.0.
    assert await storage.jobs.stats() == JobStats(done=2, failed=1, cancelled=0, gpu_s=13.0,
                                                  avg_job_s=5.0)
