"""``clipbot status``: queue depth per lane, live engines, jobs in flight, ETA."""

from __future__ import annotations

from bots.core.pricing import eta_seconds
from bots.core.service import DEFAULT_AVG_JOB_S
from bots.i18n import duration
from clipbot.settings import Settings
from clipbot.wiring import open_storage


async def show_status(settings: Settings) -> int:
    async with await open_storage(settings) as s:
        queued = await s.jobs.queue_depth()
        running = await s.jobs.running_count()
        engines = await s.engines.live()
        stats = await s.jobs.stats()
        avg = DEFAULT_AVG_JOB_S if stats.avg_job_s is None else stats.avg_job_s
        print(f"queue  {s.jobs.lane}: {queued} waiting, {running} generating "
              f"(cap {settings.max_queue})")
        print(f"engines: {len(engines)} live")
        for e in engines:
            busy = f"busy with {e.busy_job}" if e.busy_job else "idle"
            if await s.engines.drain_requested(e.engine_id):
                busy += ", draining (takes no new jobs, then exits)"
            note = " [preview model]" if e.preview else ""
            print(f"  {e.engine_id}  {e.model} on {e.device}{note}  {busy}")
        print(f"jobs done: {stats.done}, failed: {stats.failed}, "
              f"cancelled: {stats.cancelled}; average {avg:.1f} s per clip")
        eta = eta_seconds(queued + 1, running, len(engines), avg)
        print(f"a new clip now: ready in ~{duration('en', eta)}"
              + ("" if engines else " once an engine is online"))
    return 0
