"""A user's right to leave: delete their jobs, clips and idempotency keys now; export them."""

from __future__ import annotations

from typing import Any, cast

from storage.clips import ClipStore
from storage.jobs import JobStore


async def forget(jobs: JobStore, clips: ClipStore, user: str) -> int:
    """Cancel the user's unfinished jobs, then delete every job record, clip and idempotency
    key of theirs. Quota counters stay (anonymous numbers). Returns jobs deleted."""
    k, redis = jobs.keys, jobs.redis
    ids = cast("list[str]", await redis.zrange(k.user_jobs(user), 0, -1))
    for job_id in cast("set[str]", await redis.smembers(k.active(user))):
        await jobs.cancel(job_id, user)
    for job_id in ids:
        fields = await redis.hmget(k.job(job_id), "clip_id", "idem")
        clip_id, idem = cast("list[str | None]", fields)
        if clip_id:
            await clips.delete(clip_id)
        # The pending charge (if undelivered) goes too: the counters keep the number.
        doomed = [k.job(job_id), k.image(job_id), k.reservation(job_id)]
        doomed += [idem] if idem else []
        await redis.delete(*doomed)
    await redis.delete(k.user_jobs(user))
    return len(ids)


async def export(jobs: JobStore, user: str) -> dict[str, Any]:
    """Everything stored about ``user``, as plain data (for /mydata)."""
    records = await jobs.jobs_of(user, limit=1000)
    quota = await jobs.redis.hgetall(jobs.keys.quota(user))
    grant = await jobs.redis.hgetall(jobs.keys.grant(user))
    return {
        "user": user,
        "quota_today": quota,
        "limits_override": grant,
        "jobs": [
            {
                "id": j.id, "state": j.state.value, "prompt": j.request.prompt,
                "aspect": j.request.aspect, "seconds": j.request.seconds,
                "seed": j.request.seed, "created_at_ms": j.created_at_ms,
                "clip_id": j.clip_id, "error": j.error,
            }
            for j in records
        ],
    }
