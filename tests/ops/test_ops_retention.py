"""Retention and the right to leave, against the real Redis.

What PRIVACY.md promises operators' users: clips expire after ``clip_ttl_s`` (24 h),
job records after ``record_ttl_s`` (7 days), and ``/forget`` leaves nothing of the user
but anonymous quota numbers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage import Claim, JobRequest, JobState, QuotaLimits, Storage, privacy
from storage.jobs import IDEM_TTL_S

USER_ID = "5550001234"
PROMPT = "a lighthouse in a storm, waves crashing"
LIMITS = QuotaLimits(daily_gpu_s=10_000, daily_clips=50, max_inflight=5, max_queue=50)


def request(prompt: str = PROMPT, user_id: str = USER_ID) -> JobRequest:
    return JobRequest(platform="telegram", user_id=user_id, chat_id="-100200", prompt=prompt,
                      reply={"status_message": 77})


async def submit(storage: Storage, idem: str, **kw: str) -> str:
    res = await storage.jobs.submit(request(**kw), cost=10.0, limits=LIMITS, idem_key=idem)
    assert not hasattr(res, "reason"), res
    return res.job_id  # type: ignore[union-attr]


async def run_to_done(storage: Storage, engine: str = "e1") -> tuple[str, str]:
    """Play the engine's part through the storage API: claim, store a clip, finish."""
    got = await storage.jobs.read_next(engine, 100)
    assert got is not None
    claim = await storage.jobs.claim(*got, engine)
    assert isinstance(claim, Claim)
    clip_id = f"clip{claim.job.id}"
    await storage.clips.put(clip_id, b"\x00\x00\x00\x18ftypmp42fake", b"\xff\xd8\xff jpeg")
    assert await storage.jobs.finish(claim, engine, JobState.DONE, clip_id=clip_id,
                                     gen_seconds=3.0)
    return claim.job.id, clip_id


async def dump(storage: Storage) -> dict[str, str]:
    """Every key of this deployment with a text rendering of its value (blobs included)."""
    r = storage.redis
    out: dict[str, str] = {}
    async for key in r.scan_iter(match=storage.keys.pattern, count=500):
        kind = await r.type(key)
        if kind == "string":
            raw = await storage.clips.redis.get(key)  # the binary client: clips are bytes
            value = repr(raw)
        elif kind == "hash":
            value = repr(await r.hgetall(key))
        elif kind == "set":
            value = repr(await r.smembers(key))
        elif kind == "zset":
            value = repr(await r.zrange(key, 0, -1))
        elif kind == "stream":
            value = repr(await r.xrange(key))
        else:
            value = kind
        out[key] = value
    return out


@pytest.fixture
async def two_users(storage: Storage) -> AsyncIterator[Storage]:
    """Someone else's job, which /forget must leave alone."""
    await submit(storage, "other-1", prompt="a quiet harbour", user_id="777")
    yield storage


async def test_job_record_lives_record_ttl_and_clip_lives_clip_ttl(storage: Storage) -> None:
    job_id = await submit(storage, "u1")
    k, r = storage.keys, storage.redis
    record_ttl = storage.jobs.record_ttl_s
    assert record_ttl == 7 * 86400
    assert record_ttl - 5 <= await r.ttl(k.job(job_id)) <= record_ttl
    assert record_ttl - 5 <= await r.ttl(k.user_jobs(f"telegram:{USER_ID}")) <= record_ttl
    assert IDEM_TTL_S - 5 <= await r.ttl(k.idem("u1")) <= IDEM_TTL_S
    done_id, clip_id = await run_to_done(storage)
    assert done_id == job_id
    clip_ttl = storage.clips.ttl_s  # type: ignore[attr-defined]
    assert clip_ttl == 86400
    for key in (k.clip(clip_id), k.thumb(clip_id)):
        assert clip_ttl - 5 <= await r.ttl(key) <= clip_ttl
    # Finishing must not have made the record immortal.
    assert record_ttl - 5 <= await r.ttl(k.job(job_id)) <= record_ttl


async def test_configured_ttls_are_used(prefix: str, redis_url: str) -> None:
    store = await Storage.open(redis_url, prefix, clip_ttl_s=3600, record_ttl_s=2 * 86400)
    try:
        job_id = await submit(store, "cfg")
        _, clip_id = await run_to_done(store)
        assert 2 * 86400 - 5 <= await store.redis.ttl(store.keys.job(job_id)) <= 2 * 86400
        assert 3600 - 5 <= await store.redis.ttl(store.keys.clip(clip_id)) <= 3600
    finally:
        await store.close()


async def test_nothing_about_a_user_is_kept_forever(storage: Storage) -> None:
    """After a full job, every key that never expires holds neither who nor what."""
    job_id = await submit(storage, "forever")
    await run_to_done(storage)
    assert await storage.jobs.deliver(job_id, "telegram")
    for key, value in (await dump(storage)).items():
        if await storage.redis.ttl(key) == -1:  # no expiry
            assert USER_ID not in key and USER_ID not in value, key
            assert "lighthouse" not in value, key


async def test_forget_leaves_only_the_quota_counters(two_users: Storage) -> None:
    storage = two_users
    user = f"telegram:{USER_ID}"
    done_id = await submit(storage, "f1")
    # The other user's job was queued first, so the engine takes it: finish it, then ours.
    other_id, other_clip = await run_to_done(storage)
    assert other_id != done_id
    _, clip_id = await run_to_done(storage)
    assert await storage.jobs.deliver(done_id, "telegram")
    queued_id = await submit(storage, "f2", prompt="a second lighthouse")
    before = await privacy.export(storage.jobs, user)
    assert {j["id"] for j in before["jobs"]} == {done_id, queued_id}

    assert await privacy.forget(storage.jobs, storage.clips, user) == 2

    everything = await dump(storage)
    mine = {k: v for k, v in everything.items()
            if USER_ID in k or USER_ID in v or "lighthouse" in v}
    assert set(mine) == {storage.keys.quota(user)}, sorted(mine)
    quota = await storage.redis.hgetall(storage.keys.quota(user))
    assert set(quota) == {"day", "gpu_s", "clips"}  # numbers only
    for job_id in (done_id, queued_id):
        assert not any(job_id in k for k in everything), job_id
        assert await storage.jobs.get(job_id) is None
    assert await storage.clips.get(clip_id) is None
    # The queued job was cancelled, so its reservation went back: one clip charged today.
    assert quota["clips"] == "1"
    after = await privacy.export(storage.jobs, user)
    assert after["jobs"] == []
    # Someone else's data is untouched.
    assert await storage.jobs.get(other_id) is not None
    assert await storage.clips.get(other_clip) is not None


async def test_forget_also_frees_idempotency_keys(storage: Storage) -> None:
    user = f"telegram:{USER_ID}"
    first = await submit(storage, "same-update")
    await privacy.forget(storage.jobs, storage.clips, user)
    assert await storage.redis.exists(storage.keys.idem("same-update")) == 0
    # The key no longer links the old update to anything: the same id makes a fresh job.
    again = await submit(storage, "same-update")
    assert again != first


async def test_mydata_exports_what_is_stored(storage: Storage) -> None:
    user = f"telegram:{USER_ID}"
    job_id = await submit(storage, "x1")
    await storage.accounts.grant(user, daily_clips=99)
    data = await privacy.export(storage.jobs, user)
    assert data["user"] == user
    assert data["limits_override"] == {"daily_clips": "99"}
    (job,) = data["jobs"]
    assert job["id"] == job_id and job["prompt"] == PROMPT and job["state"] == "queued"
    assert data["quota_today"]["clips"] == "1"


async def test_forget_before_delivery_leaves_only_the_quota_counters(storage: Storage) -> None:
    user = f"telegram:{USER_ID}"
    await submit(storage, "undelivered")
    await run_to_done(storage)  # done, but no bot has delivered it yet
    await privacy.forget(storage.jobs, storage.clips, user)
    mine = [k for k, v in (await dump(storage)).items() if USER_ID in k or USER_ID in v]
    assert mine == [storage.keys.quota(user)], mine


async def test_acking_a_forgotten_jobs_result_leaves_no_key_behind(storage: Storage) -> None:
    user = f"telegram:{USER_ID}"
    job_id = await submit(storage, "ack-after-forget")
    await run_to_done(storage)
    await privacy.forget(storage.jobs, storage.clips, user)
    # What ResultPump.handle does for an event whose job is gone.
    entry = (await storage.redis.xrange(storage.keys.results("telegram")))[-1][0]
    await storage.jobs.deliver(job_id, "telegram", entry)
    assert await storage.redis.exists(storage.keys.job(job_id)) == 0
