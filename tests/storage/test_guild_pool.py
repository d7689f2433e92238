"""A community's shared daily pool, admitted with each user's quota in one Lua call, and
per-community settings (allowed channels, pool size) in Redis."""

from __future__ import annotations

import asyncio

import pytest

from storage import Accepted, JobRequest, JobState, QuotaLimits, Refused, SharedPool, Storage
from storage.models import ClipMeta

LIMITS = QuotaLimits(daily_gpu_s=1000.0, daily_clips=5, max_inflight=100, max_queue=1000)
GUILD = "discord:900"
POOL = SharedPool(GUILD, 5)


def req(user: str) -> JobRequest:
    return JobRequest(platform="cli", user_id=user, chat_id="c", prompt="a red kite", seed=1)


async def submit(s: Storage, key: str, user: str = "u1", pool: SharedPool | None = POOL,
                 limits: QuotaLimits = LIMITS) -> Accepted | Refused:
    return await s.jobs.submit(req(user), cost=1.0, limits=limits, idem_key=key, pool=pool)


async def used(s: Storage, guild: str = GUILD) -> int:
    return (await s.guilds.pool_used(guild))[0]


async def claim_next(s: Storage, engine: str = "e1"):
    entry = await s.jobs.read_next(engine, block_ms=100)
    assert entry is not None
    claim = await s.jobs.claim(entry[0], entry[1], engine)
    assert not isinstance(claim, str), claim
    return claim


async def test_pool_admits_exactly_its_size_under_concurrency(storage: Storage) -> None:
    results = await asyncio.gather(*(submit(storage, f"k{i}", user=f"u{i}") for i in range(30)))
    accepted = [r for r in results if isinstance(r, Accepted)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(accepted) == 5
    assert {r.reason for r in refused} == {"pool_clips"}
    assert all(r.limit == "5" and r.reset_in_s and 0 < r.reset_in_s <= 86400 for r in refused)
    assert await used(storage) == 5
    assert await storage.jobs.queue_depth() == 5
    # Refused users were charged nothing and left no idempotency key behind.
    for i in range(30):
        view = await storage.accounts.quota(f"cli:u{i}", LIMITS)
        assert view.used_clips == (1 if view.inflight else 0)
    assert sum([(await storage.accounts.quota(f"cli:u{i}", LIMITS)).used_clips
                for i in range(30)]) == 5


async def test_pool_refusal_writes_nothing(storage: Storage) -> None:
    full = SharedPool(GUILD, 1)
    assert isinstance(await submit(storage, "a", pool=full), Accepted)
    res = await submit(storage, "b", user="u2", pool=full)
    assert isinstance(res, Refused) and res.reason == "pool_clips" and res.limit == "1"
    assert (await storage.accounts.quota("cli:u2", LIMITS)).used_clips == 0
    assert await storage.redis.get(storage.keys.idem("b")) is None
    assert await storage.jobs.queue_depth() == 1
    # Another guild's pool, and no pool at all, are unaffected.
    assert isinstance(await submit(storage, "c", user="u2", pool=SharedPool("discord:901", 1)),
                      Accepted)
    assert isinstance(await submit(storage, "d", user="u3", pool=None), Accepted)
    assert await used(storage) == 1


async def test_own_quota_is_checked_before_the_pool(storage: Storage) -> None:
    tight = QuotaLimits(daily_gpu_s=1000.0, daily_clips=1, max_inflight=100, max_queue=1000)
    assert isinstance(await submit(storage, "a", limits=tight), Accepted)
    res = await submit(storage, "b", limits=tight)
    assert isinstance(res, Refused) and res.reason == "quota_clips"
    assert await used(storage) == 1  # the user's refusal did not touch the pool


async def test_cancel_gives_the_pool_back_once(storage: Storage) -> None:
    a = await submit(storage, "a")
    assert isinstance(a, Accepted)
    assert await used(storage) == 1
    assert await storage.jobs.cancel(a.job_id, "cli:u1") == "cancelled"
    assert await used(storage) == 0
    assert await storage.jobs.cancel(a.job_id, "cli:u1") == "cancelled"  # final state
    # The engine skips the cancelled entry; nothing is refunded twice.
    entry = await storage.jobs.read_next("e1", block_ms=100)
    assert entry is not None
    assert await storage.jobs.claim(entry[0], entry[1], "e1") == "skip:cancelled"
    assert await used(storage) == 0
    assert (await storage.accounts.quota("cli:u1", LIMITS)).used_clips == 0


async def test_failure_refunds_the_pool_and_delivery_keeps_the_charge(storage: Storage) -> None:
    a = await submit(storage, "a")
    b = await submit(storage, "b", user="u2")
    assert isinstance(a, Accepted) and isinstance(b, Accepted)
    assert await used(storage) == 2
    ca = await claim_next(storage)
    assert await storage.jobs.finish(ca, "e1", JobState.FAILED, error="boom")
    assert await used(storage) == 1
    # The engine's retried call (a replay) is answered, and refunds nothing again.
    assert await storage.jobs.finish(ca, "e1", JobState.FAILED, error="boom")
    assert await used(storage) == 1
    # A clip that cannot be delivered is refunded once too.
    assert not await storage.jobs.undeliverable(a.job_id, "cli", "0-1")
    assert await used(storage) == 1

    cb = await claim_next(storage)
    meta = ClipMeta(16, 16, 17, 16, 1.0, 100, "m", True)
    assert await storage.jobs.finish(cb, "e1", JobState.DONE, clip_id="c" * 16, meta=meta)
    assert await storage.jobs.deliver(b.job_id, "cli")
    assert await storage.jobs.deliver(b.job_id, "cli") is False
    assert await storage.jobs.undeliverable(b.job_id, "cli", "0-1") is False
    assert await used(storage) == 1  # a delivered clip stays counted


async def test_undeliverable_refunds_the_pool(storage: Storage) -> None:
    a = await submit(storage, "a")
    assert isinstance(a, Accepted)
    claim = await claim_next(storage)
    meta = ClipMeta(16, 16, 17, 16, 1.0, 100, "m", True)
    assert await storage.jobs.finish(claim, "e1", JobState.DONE, clip_id="c" * 16, meta=meta)
    assert await storage.jobs.undeliverable(a.job_id, "cli", "0-1")
    assert await storage.jobs.undeliverable(a.job_id, "cli", "0-1") is False
    assert await used(storage) == 0


async def test_a_pool_charge_from_yesterday_is_not_refunded_today(storage: Storage) -> None:
    a = await submit(storage, "a")
    assert isinstance(a, Accepted)
    await storage.redis.hset(storage.keys.pool(GUILD), mapping={"day": "1", "clips": 3})
    assert await storage.jobs.cancel(a.job_id, "cli:u1") == "cancelled"
    assert await storage.redis.hget(storage.keys.pool(GUILD), "clips") == "3"


async def test_refunds_in_parallel_free_exactly_what_was_taken(storage: Storage) -> None:
    first = await asyncio.gather(*(submit(storage, f"k{i}", user=f"u{i}") for i in range(5)))
    assert all(isinstance(r, Accepted) for r in first)
    cancels = [storage.jobs.cancel(r.job_id, f"cli:u{i}")  # type: ignore[union-attr]
               for i, r in enumerate(first) for _ in range(3)]
    await asyncio.gather(*cancels)
    assert await used(storage) == 0
    again = await asyncio.gather(*(submit(storage, f"n{i}", user=f"v{i}") for i in range(12)))
    assert sum(isinstance(r, Accepted) for r in again) == 5


# ---- settings ------------------------------------------------------------------------------
async def test_settings_round_trip(storage: Storage) -> None:
    g = storage.guilds
    assert await g.get(GUILD) == (await g.get("discord:other"))
    assert (await g.get(GUILD)).channels == frozenset() and (await g.get(GUILD)).daily_clips == 0
    assert await g.add_channel(GUILD, "11", max_channels=2) == "added"
    assert await g.add_channel(GUILD, "11", max_channels=2) == "present"
    assert await g.add_channel(GUILD, "12", max_channels=2) == "added"
    assert await g.add_channel(GUILD, "13", max_channels=2) == "full"
    await g.set_pool(GUILD, 40)
    got = await g.get(GUILD)
    assert got.channels == {"11", "12"} and got.daily_clips == 40
    assert await g.remove_channel(GUILD, "11") is True
    assert await g.remove_channel(GUILD, "11") is False
    await g.set_pool(GUILD, 0)
    assert await g.get(GUILD) == type(got)(channels=frozenset({"12"}), daily_clips=0)
    with pytest.raises(ValueError):
        await g.set_pool(GUILD, -1)
    assert (await g.get("discord:other")).channels == frozenset()


async def test_concurrent_channel_adds_never_pass_the_cap(storage: Storage) -> None:
    outcomes = await asyncio.gather(
        *(storage.guilds.add_channel(GUILD, str(i), max_channels=3) for i in range(20)))
    assert outcomes.count("added") <= 3
    assert len((await storage.guilds.get(GUILD)).channels) == outcomes.count("added")
