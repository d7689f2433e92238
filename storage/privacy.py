"""A user's right to leave: delete their jobs, clips and idempotency keys now; export them."""

from __future__ import annotations

from typing import Any, cast

from storage.clips import ClipStore
from storage.jobs import JobStore


async def forget(jobs: JobStore, clips: ClipStore, user: str) -> int:
    """Delete every job record, clip and idempotency key of ``user`` now. Unfinished jobs
    are cancelled and refunded; one an engine is generating is cut down to a tombstone that
    its engine's next check ends and deletes (storage/scripts/forget.lua), so nothing of
    the user outlives it. Every job id leaves the user's in-flight set at once: the user
    can ask for a new clip straight away. Quota counters stay (anonymous numbers, so that
    forgetting cannot reset a quota). Returns the number of jobs forgotten."""
    k, redis = jobs.keys, jobs.redis
    ids = set(cast("list[str]", await redis.zrange(k.user_jobs(user), 0, -1)))
    ids |= cast("set[str]", await redis.smembers(k.active(user)))
    for job_id in ids:
        clip_id = await jobs.forget_job(job_id, user)
        if clip_id:
            await clips.delete(clip_id)
    # Each call removed its id from the user's sets (Redis drops an emptied set), so a job
    # submitted meanwhile keeps its place in them.
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
