"""The job store: submit, run, end and deliver jobs through Redis, each step one Lua script."""

from __future__ import annotations

import secrets

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from storage.keys import BOT_GROUP, DEFAULT_LANE, ENGINE_GROUP, Keys
from storage.models import (
    Accepted,
    Claim,
    ClipMeta,
    JobRecord,
    JobRequest,
    JobState,
    JobStats,
    QuotaLimits,
    Refused,
    SharedPool,
)
from storage.scripts import Scripts

IDEM_TTL_S = 48 * 3600  # a re-delivered chat update can arrive a day later


def new_id() -> str:
    """An unguessable id (96 random bits), safe to show users and put in URLs."""
    return secrets.token_urlsafe(12)


class JobStore:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        record_ttl_s: int = 7 * 86400,
        max_attempts: int = 3,
        lane: str = DEFAULT_LANE,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.record_ttl_s = record_ttl_s
        self.max_attempts = max_attempts
        self.lane = lane
        self._s = Scripts(redis)

    async def ensure_groups(self) -> None:
        try:
            await self.redis.xgroup_create(
                self.keys.lane(self.lane), ENGINE_GROUP, "0", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    # ---- bots -------------------------------------------------------------------------
    async def submit(
        self,
        request: JobRequest,
        *,
        cost: float,
        limits: QuotaLimits,
        idem_key: str,
        image: bytes | None = None,
        pool: SharedPool | None = None,
    ) -> Accepted | Refused:
        """Reserve quota (and a clip of ``pool``, when given) and enqueue atomically;
        refusals write nothing."""
        k, user, job_id = self.keys, request.user, new_id()
        keys = [
            k.idem(idem_key), k.job(job_id), k.queue, k.seq, k.lane(self.lane),
            k.quota(user), k.grant(user), k.active(user), k.user_jobs(user),
            k.reservation(job_id), k.image(job_id),
        ]
        args: list[str | int | bytes] = [
            job_id, user, repr(float(cost)), repr(float(limits.daily_gpu_s)),
            limits.daily_clips, limits.max_inflight, limits.max_queue, IDEM_TTL_S,
            self.record_ttl_s, request.model_dump_json(), self.lane, request.platform,
            image or b"",
        ]
        if pool is not None and pool.daily_clips > 0:
            keys.append(k.pool(pool.name))
            args.append(pool.daily_clips)
        res = await self._s.submit(keys=keys, args=args)
        if res[0] == "refused":
            return Refused(
                reason=res[1],
                limit=res[2] if len(res) > 2 else None,
                reset_in_s=int(res[3]) if len(res) > 3 else None,
            )
        return Accepted(job_id=res[1], position=int(res[2]), duplicate=res[0] == "dup")

    async def get(self, job_id: str) -> JobRecord | None:
        h = await self.redis.hgetall(self.keys.job(job_id))
        return JobRecord.from_hash(h) if h.get("id") else None

    async def position(self, job_id: str) -> int:
        rank = await self.redis.zrank(self.keys.queue, job_id)
        return 0 if rank is None else rank + 1

    async def queued_ids(self, limit: int) -> list[str]:
        """The first ``limit`` queued job ids, in queue order (position = index + 1)."""
        return list(await self.redis.zrange(self.keys.queue, 0, limit - 1))

    async def queue_depth(self) -> int:
        return await self.redis.zcard(self.keys.queue)

    async def running_count(self) -> int:
        return await self.redis.hlen(self.keys.running)

    async def stats(self) -> JobStats:
        return JobStats.from_hash(await self.redis.hgetall(self.keys.stats))

    async def cancel(self, job_id: str, user: str) -> str:
        """'cancelled', 'cancelling' (engine will stop), 'missing', or the final state."""
        keys = await self._end_keys(job_id)
        if keys is None:
            return "missing"
        return await self._s.cancel(keys=keys, args=[job_id, user])

    async def jobs_of(self, user: str, limit: int = 10) -> list[JobRecord]:
        ids = await self.redis.zrevrange(self.keys.user_jobs(user), 0, limit - 1)
        jobs = [await self.get(i) for i in ids]
        return [j for j in jobs if j is not None]

    async def deliver(self, job_id: str, platform: str, entry_id: str = "") -> bool:
        """Commit the charge and ack the result event. True the first time only."""
        k = self.keys
        first = await self._s.deliver(
            keys=[k.job(job_id), k.reservation(job_id), k.results(platform)],
            args=[job_id, entry_id, BOT_GROUP],
        )
        return bool(first)

    async def undeliverable(self, job_id: str, platform: str, entry_id: str) -> bool:
        """Give up on delivering a clip: refund, mark failed, ack. True if refunded."""
        k = self.keys
        user = await self.redis.hget(k.job(job_id), "user") or ""
        res = await self._s.undeliverable(
            keys=[k.job(job_id), k.reservation(job_id), k.quota(user), k.results(platform)],
            args=[entry_id, BOT_GROUP],
        )
        return bool(res)

    # ---- engines ----------------------------------------------------------------------
    async def read_next(self, engine_id: str, block_ms: int) -> tuple[str, str] | None:
        """Block until a new entry arrives (no polling), then hand it to this engine only."""
        lane = self.keys.lane(self.lane)
        res = await self.redis.xreadgroup(
            ENGINE_GROUP, engine_id, {lane: ">"}, count=1, block=block_ms
        )
        if not res:
            return None
        entry_id, fields = res[0][1][0]
        return entry_id, fields["job"]

    async def read_own_pending(self, engine_id: str) -> list[tuple[str, str]]:
        """Entries delivered to this engine but never acked (e.g. Redis dropped mid-job)."""
        lane = self.keys.lane(self.lane)
        res = await self.redis.xreadgroup(ENGINE_GROUP, engine_id, {lane: "0"}, count=10)
        out: list[tuple[str, str]] = []
        for entry_id, fields in res[0][1] if res else []:
            if fields:
                out.append((entry_id, fields["job"]))
            else:  # deleted entry still pending: nothing left to do
                await self.redis.xack(lane, ENGINE_GROUP, entry_id)
        return out

    async def reclaim(self, engine_id: str) -> tuple[str, str, str] | None:
        """Take one entry from an engine whose heartbeat expired: (entry, job, old owner)."""
        res = await self._s.reclaim(
            keys=[self.keys.lane(self.lane)],
            args=[ENGINE_GROUP, engine_id, self.keys.heartbeat("")],
        )
        return (res[0], res[1], res[2]) if res else None

    async def claim(self, entry_id: str, job_id: str, engine_id: str) -> Claim | str:
        """Start the job, or return why not ('skip:<state>' or 'dead:<attempts>')."""
        keys = await self._end_keys(job_id)
        k = self.keys
        if keys is None:
            lane = k.lane(self.lane)
            await self.redis.xack(lane, ENGINE_GROUP, entry_id)
            await self.redis.xdel(lane, entry_id)
            return "skip:missing"
        res = await self._s.claim(
            keys=[*keys, k.lane(self.lane), k.dead],
            # A fresh token per call: redis-py's retry of this call resends the same one.
            args=[job_id, engine_id, entry_id, self.max_attempts, ENGINE_GROUP, new_id()],
        )
        if res[0] != "run":
            return f"{res[0]}:{res[1]}"
        job = await self.get(job_id)
        assert job is not None
        return Claim(job=job, attempt=int(res[1]))

    async def progress(
        self, claim: Claim, engine_id: str, step: int, total: int, *, publish: str = ""
    ) -> int:
        """Record progress. Returns 1 if the user asked to cancel, -1 if the job is no
        longer ours (reclaimed while we were paused), else 0."""
        channel = self.keys.progress_channel(claim.job.request.platform) if publish else ""
        return int(
            await self._s.progress(
                keys=[self.keys.job(claim.job.id)],
                args=[engine_id, claim.attempt, step, total, channel, publish],
            )
        )

    async def finish(
        self,
        claim: Claim,
        engine_id: str,
        state: JobState,
        *,
        error: str = "",
        clip_id: str = "",
        meta: ClipMeta | None = None,
        gen_seconds: float = 0.0,
    ) -> bool:
        """End the job if this engine still holds it; False means a stale holder."""
        keys = await self._end_keys(claim.job.id)
        if keys is None:
            return False
        res = await self._s.finish(
            keys=[*keys, self.keys.lane(self.lane), self.keys.stats],
            args=[
                claim.job.id, engine_id, claim.attempt, state.value, error, ENGINE_GROUP,
                meta.to_json() if meta else "", clip_id, repr(float(gen_seconds)),
            ],
        )
        return res[0] == "ok"

    async def handback(self, claim: Claim, engine_id: str) -> bool:
        k = self.keys
        res = await self._s.handback(
            keys=[k.job(claim.job.id), k.queue, k.running, k.heartbeat(engine_id)],
            args=[claim.job.id, engine_id, claim.attempt],
        )
        return bool(res)

    # ---- helpers ----------------------------------------------------------------------
    async def _end_keys(self, job_id: str) -> list[str] | None:
        user, platform = await self.redis.hmget(self.keys.job(job_id), "user", "platform")
        if user is None:
            return None
        k = self.keys
        return [
            k.job(job_id), k.queue, k.running, k.active(user), k.reservation(job_id),
            k.quota(user), k.results(platform),
        ]
