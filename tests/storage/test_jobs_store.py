"""Contract tests of the Redis job store: reservation, idempotency, claims, refunds."""

from __future__ import annotations

import asyncio

from storage import Accepted, JobRequest, JobState, QuotaLimits, Refused, Storage
from storage.models import ClipMeta, Handback

LIMITS = QuotaLimits(daily_gpu_s=100.0, daily_clips=5, max_inflight=100, max_queue=1000)


def req(user: str = "u1", prompt: str = "a red kite") -> JobRequest:
    return JobRequest(platform="cli", user_id=user, chat_id=user, prompt=prompt, seed=1)


async def submit(s: Storage, key: str, user: str = "u1", limits: QuotaLimits = LIMITS,
                 cost: float = 1.0) -> Accepted | Refused:
    return await s.jobs.submit(req(user), cost=cost, limits=limits, idem_key=key)


async def test_submit_reserves_and_enqueues(storage: Storage) -> None:
    res = await submit(storage, "k1")
    assert isinstance(res, Accepted) and res.position == 1 and not res.duplicate
    job = await storage.jobs.get(res.job_id)
    assert job is not None and job.state is JobState.QUEUED and job.request.prompt == "a red kite"
    view = await storage.accounts.quota("cli:u1", LIMITS)
    assert (view.used_clips, view.used_gpu_s, view.inflight) == (1, 1.0, 1)
    assert await storage.redis.xlen(storage.keys.lane()) == 1


async def test_same_idempotency_key_gives_one_job_one_charge(storage: Storage) -> None:
    first = await submit(storage, "update-42")
    again = await submit(storage, "update-42")
    assert isinstance(first, Accepted) and isinstance(again, Accepted)
    assert again.job_id == first.job_id and again.duplicate
    view = await storage.accounts.quota("cli:u1", LIMITS)
    assert view.used_clips == 1
    assert await storage.redis.xlen(storage.keys.lane()) == 1


async def test_quota_race_admits_exactly_the_budget(storage: Storage) -> None:
    results = await asyncio.gather(*(submit(storage, f"k{i}") for i in range(100)))
    accepted = [r for r in results if isinstance(r, Accepted)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(accepted) == 5
    assert {r.reason for r in refused} == {"quota_clips"}
    assert await storage.jobs.queue_depth() == 5


async def test_gpu_second_budget_refuses_with_reset_time(storage: Storage) -> None:
    assert isinstance(await submit(storage, "a", cost=60.0), Accepted)
    res = await submit(storage, "b", cost=60.0)
    assert isinstance(res, Refused) and res.reason == "quota_gpu"
    assert res.reset_in_s is not None and 0 < res.reset_in_s <= 86400


async def test_inflight_and_queue_caps_write_nothing(storage: Storage) -> None:
    tight = QuotaLimits(daily_gpu_s=100, daily_clips=10, max_inflight=1, max_queue=2)
    assert isinstance(await submit(storage, "a", limits=tight), Accepted)
    res = await submit(storage, "b", limits=tight)
    assert isinstance(res, Refused) and res.reason == "inflight"
    assert isinstance(await submit(storage, "c", user="u2", limits=tight), Accepted)
    full = await submit(storage, "d", user="u3", limits=tight)
    assert isinstance(full, Refused) and full.reason == "queue_full"
    assert (await storage.accounts.quota("cli:u3", tight)).used_clips == 0
    assert await storage.redis.get(storage.keys.idem("d")) is None


async def test_banned_and_granted_users(storage: Storage) -> None:
    await storage.accounts.set_banned("cli:u1", True)
    res = await submit(storage, "a")
    assert isinstance(res, Refused) and res.reason == "banned"
    await storage.accounts.set_banned("cli:u1", False)
    await storage.accounts.grant("cli:u1", daily_clips=7)
    results = [await submit(storage, f"g{i}") for i in range(9)]
    assert sum(isinstance(r, Accepted) for r in results) == 7


async def _claim(storage: Storage, engine: str = "e1"):
    entry = await storage.jobs.read_next(engine, block_ms=100)
    assert entry is not None
    claim = await storage.jobs.claim(entry[0], entry[1], engine)
    assert not isinstance(claim, str), claim
    return claim


async def test_failure_refunds_and_done_charges_once(storage: Storage) -> None:
    a = await submit(storage, "a")
    b = await submit(storage, "b")
    assert isinstance(a, Accepted) and isinstance(b, Accepted)
    ca = await _claim(storage)
    assert await storage.jobs.finish(ca, "e1", JobState.FAILED, error="boom")
    view = await storage.accounts.quota("cli:u1", LIMITS)
    assert view.used_clips == 1  # only b is still reserved
    cb = await _claim(storage)
    meta = ClipMeta(16, 16, 17, 16, 1.0, 100, "m", True)
    assert await storage.jobs.finish(cb, "e1", JobState.DONE, clip_id="c" * 16, meta=meta)
    assert await storage.jobs.deliver(b.job_id, "cli") is True
    assert await storage.jobs.deliver(b.job_id, "cli") is False
    view = await storage.accounts.quota("cli:u1", LIMITS)
    assert view.used_clips == 1 and view.inflight == 0
    job = await storage.jobs.get(b.job_id)
    assert job is not None and job.meta == meta and job.delivered
    # the stream is empty: every entry was acked and deleted
    assert await storage.redis.xlen(storage.keys.lane()) == 0


async def test_cancel_queued_refunds_and_engine_skips(storage: Storage) -> None:
    a = await submit(storage, "a")
    assert isinstance(a, Accepted)
    assert await storage.jobs.cancel(a.job_id, "cli:someone-else") == "nothing"
    assert await storage.jobs.cancel(a.job_id, "cli:u1") == "cancelled"
    assert (await storage.accounts.quota("cli:u1", LIMITS)).used_clips == 0
    entry = await storage.jobs.read_next("e1", block_ms=100)
    assert entry is not None
    assert await storage.jobs.claim(entry[0], entry[1], "e1") == "skip:cancelled"


async def test_cancel_running_sets_flag_seen_by_progress(storage: Storage) -> None:
    a = await submit(storage, "a")
    assert isinstance(a, Accepted)
    claim = await _claim(storage)
    assert await storage.jobs.progress(claim, "e1", 1, 4) == 0
    assert await storage.jobs.cancel(a.job_id, "cli:u1") == "cancelling"
    assert await storage.jobs.progress(claim, "e1", 2, 4) == 1
    assert await storage.jobs.finish(claim, "e1", JobState.CANCELLED)
    assert (await storage.accounts.quota("cli:u1", LIMITS)).used_clips == 0


async def test_reclaim_only_from_engines_without_heartbeat(storage: Storage) -> None:
    from storage.models import EngineInfo

    a = await submit(storage, "a")
    assert isinstance(a, Accepted)
    await storage.engines.beat(EngineInfo("e1", "m", "cpu", True, False))
    claim1 = await _claim(storage, "e1")
    assert await storage.jobs.reclaim("e2") is None  # e1 is alive: a long job is not dead
    await storage.redis.delete(storage.keys.heartbeat("e1"))  # e1 dies
    got = await storage.jobs.reclaim("e2")
    assert got is not None and got[1] == a.job_id and got[2] == "e1"
    claim2 = await storage.jobs.claim(got[0], got[1], "e2")
    assert not isinstance(claim2, str) and claim2.attempt == 2
    # the paused first engine comes back: its writes are fenced off
    assert await storage.jobs.progress(claim1, "e1", 3, 4) == -1
    assert not await storage.jobs.finish(claim1, "e1", JobState.DONE)
    assert await storage.jobs.finish(claim2, "e2", JobState.DONE)
    events = await storage.redis.xrange(storage.keys.results("cli"))
    assert [e[1]["state"] for e in events] == ["done"]


async def test_dead_letter_after_max_attempts_refunds(storage: Storage) -> None:
    a = await submit(storage, "a")
    assert isinstance(a, Accepted)
    entry = await storage.jobs.read_next("e0", block_ms=100)
    assert entry is not None
    owner = "e0"
    outcome = await storage.jobs.claim(entry[0], entry[1], owner)
    for n in range(1, 4):  # engines keep dying on it
        assert not isinstance(outcome, str)
        got = await storage.jobs.reclaim(f"e{n}")
        assert got is not None and got[2] == owner
        owner = f"e{n}"
        outcome = await storage.jobs.claim(got[0], got[1], owner)
    assert outcome == "dead:3"
    job = await storage.jobs.get(a.job_id)
    assert job is not None and job.state is JobState.FAILED and job.error == "poison"
    assert (await storage.accounts.quota("cli:u1", LIMITS)).used_clips == 0
    assert await storage.redis.xlen(storage.keys.dead) == 1
    assert await storage.redis.xlen(storage.keys.lane()) == 0


async def test_handback_requeues_at_front_without_counting(storage: Storage) -> None:
    a = await submit(storage, "a")
    b = await submit(storage, "b", user="u2")
    assert isinstance(a, Accepted) and isinstance(b, Accepted)
    claim = await _claim(storage, "e1")
    assert await storage.jobs.position(b.job_id) == 1
    assert await storage.jobs.handback(claim, "e1") is Handback.HANDED_BACK
    assert await storage.jobs.position(a.job_id) == 1
    got = await storage.jobs.reclaim("e2")
    assert got is not None and got[1] == a.job_id
    again = await storage.jobs.claim(got[0], got[1], "e2")
    assert not isinstance(again, str) and again.attempt == 1
