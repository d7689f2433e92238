"""Cancel and /forget at every stage of a job's life, through the storage API alone.

A cancel before a bot takes the result to send it ends the job with exactly one refund and
nothing to deliver; after that it is "too late". /forget frees the user's in-flight slot at
once and, once the job ends, leaves nothing of the user but the anonymous quota numbers.
"""

from __future__ import annotations

import pytest

from storage import (
    Accepted,
    CancelOutcome,
    Claim,
    Handback,
    JobRequest,
    JobState,
    QuotaLimits,
    ResultReader,
    Storage,
    privacy,
)
from tests.storage.leftovers import user_traces

USER = "cli:u1"
ONE_AT_A_TIME = QuotaLimits(daily_gpu_s=100.0, daily_clips=10, max_inflight=1, max_queue=100)
CLIP = b"\x00\x00\x00\x18ftypmp42fake"


async def submit(s: Storage, key: str) -> str:
    req = JobRequest(platform="cli", user_id="u1", chat_id="c1", prompt="a red kite", seed=1)
    res = await s.jobs.submit(req, cost=2.5, limits=ONE_AT_A_TIME, idem_key=key)
    assert isinstance(res, Accepted), res
    return res.job_id


async def claim(s: Storage, engine: str = "e1") -> Claim:
    entry = await s.jobs.read_next(engine, block_ms=100)
    assert entry is not None
    got = await s.jobs.claim(entry[0], entry[1], engine)
    assert isinstance(got, Claim), got
    return got


async def store_and_finish(s: Storage, c: Claim) -> JobState | None:
    clip_id = f"clip-{c.job.id}"
    await s.clips.put(clip_id, CLIP, b"jpeg")
    return await s.jobs.finish(c, "e1", JobState.DONE, clip_id=clip_id, gen_seconds=1.0)


async def charged(s: Storage) -> tuple[int, float]:
    view = await s.accounts.quota(USER, ONE_AT_A_TIME)
    return view.used_clips, view.used_gpu_s


async def result_states(s: Storage) -> list[str]:
    return [e[1]["state"] for e in await s.redis.xrange(s.keys.results("cli"))]


async def reader(s: Storage) -> ResultReader:
    r = ResultReader(s.redis, s.keys, "cli", "bot-1")
    await r.ensure_group()
    return r


async def test_cancel_queued_refunds_exactly_once(storage: Storage) -> None:
    job_id = await submit(storage, "a")
    assert await storage.jobs.cancel(job_id, "cli:someone-else") is CancelOutcome.NOTHING
    assert await storage.jobs.cancel(job_id, USER) is CancelOutcome.CANCELLED
    assert await storage.jobs.cancel(job_id, USER) is CancelOutcome.CANCELLED  # no 2nd refund
    assert await charged(storage) == (0, 0.0)
    entry = await storage.jobs.read_next("e1", block_ms=100)
    assert entry is not None
    assert await storage.jobs.claim(entry[0], entry[1], "e1") == "skip:cancelled"
    assert await result_states(storage) == ["cancelled"]


async def test_finish_refuses_done_for_a_cancelled_job(storage: Storage) -> None:
    job_id = await submit(storage, "a")
    c = await claim(storage)
    assert not await storage.jobs.cancel_requested(job_id)
    assert await storage.jobs.cancel(job_id, USER) is CancelOutcome.CANCELLING
    assert await storage.jobs.cancel_requested(job_id)
    # The engine stored the clip before it looked: finish ends the job cancelled anyway.
    assert await store_and_finish(storage, c) is JobState.CANCELLED
    job = await storage.jobs.get(job_id)
    assert job is not None and job.state is JobState.CANCELLED and job.clip_id == ""
    assert await charged(storage) == (0, 0.0)
    assert await result_states(storage) == ["cancelled"]
    assert await storage.jobs.cancel(job_id, USER) is CancelOutcome.CANCELLED
    assert await charged(storage) == (0, 0.0)
    assert await storage.jobs.running_count() == 0
    assert await storage.redis.xlen(storage.keys.lane()) == 0
    assert await storage.redis.scard(storage.keys.active(USER)) == 0


async def test_cancel_after_done_before_a_bot_takes_it(storage: Storage) -> None:
    job_id = await submit(storage, "a")
    c = await claim(storage)
    assert await store_and_finish(storage, c) is JobState.DONE
    assert await charged(storage) == (1, 2.5)
    outcome = await storage.jobs.cancel(job_id, USER, clips=storage.clips)
    assert outcome is CancelOutcome.CANCELLED
    assert await storage.clips.get(f"clip-{job_id}") is None
    assert await charged(storage) == (0, 0.0)
    # The bot now reads the 'done' event: the job reads cancelled, so no clip is sent ...
    (event,) = await (await reader(storage)).read(block_ms=100)
    job = await storage.jobs.get(event.job_id)
    assert job is not None and job.state is JobState.CANCELLED and not job.delivery_started
    assert not await storage.jobs.start_delivery(job_id)
    # ... and acking it (what the pump does after telling the user) charges nothing.
    assert await storage.jobs.deliver(job_id, "cli", event.entry_id)
    assert await charged(storage) == (0, 0.0)


async def test_cancel_once_a_bot_took_the_result_is_too_late(storage: Storage) -> None:
    job_id = await submit(storage, "a")
    await store_and_finish(storage, await claim(storage))
    (event,) = await (await reader(storage)).read(block_ms=100)
    job = await storage.jobs.get(job_id)
    assert job is not None and job.delivery_started and job.state is JobState.DONE
    assert await storage.jobs.cancel(job_id, USER, clips=storage.clips) is CancelOutcome.TOO_LATE
    assert await storage.clips.get(job.clip_id) == CLIP
    assert await storage.jobs.deliver(job_id, "cli", event.entry_id)
    assert await charged(storage) == (1, 2.5)
    assert await storage.jobs.cancel(job_id, USER) is CancelOutcome.TOO_LATE


async def test_cancelled_job_is_not_handed_back(storage: Storage) -> None:
    job_id = await submit(storage, "a")
    c = await claim(storage)
    await storage.jobs.cancel(job_id, USER)
    assert await storage.jobs.handback(c, "e1") is Handback.CANCELLED
    assert await storage.jobs.position(job_id) == 0  # not queued again
    assert await storage.jobs.finish(c, "e1", JobState.CANCELLED) is JobState.CANCELLED
    assert await charged(storage) == (0, 0.0)


async def test_cancelled_job_of_a_dead_engine_ends_on_reclaim(storage: Storage) -> None:
    job_id = await submit(storage, "a")
    await claim(storage, "e0")  # e0 has no heartbeat: it counts as dead
    assert await storage.jobs.cancel(job_id, USER) is CancelOutcome.CANCELLING
    got = await storage.jobs.reclaim("e1")
    assert got is not None and got[1] == job_id
    assert await storage.jobs.claim(got[0], got[1], "e1") == "skip:cancelled"
    job = await storage.jobs.get(job_id)
    assert job is not None and job.state is JobState.CANCELLED and job.attempts == 1
    assert await charged(storage) == (0, 0.0)
    assert await storage.redis.xlen(storage.keys.dead) == 0
    assert await storage.jobs.running_count() == 0


# ---- /forget ----------------------------------------------------------------------------
async def skip_forgotten(s: Storage) -> None:
    """An engine reads the next stream entry, finds its job forgotten and drops it."""
    entry = await s.jobs.read_next("e3", block_ms=100)
    assert entry is not None
    assert await s.jobs.claim(entry[0], entry[1], "e3") == "skip:missing"


async def _end_by_finish(s: Storage, c: Claim) -> None:
    assert await store_and_finish(s, c) is JobState.CANCELLED
    assert await s.clips.get(f"clip-{c.job.id}") is not None  # the engine deletes it
    await s.clips.delete(f"clip-{c.job.id}")


async def _end_by_failure(s: Storage, c: Claim) -> None:
    assert await s.jobs.finish(c, "e1", JobState.FAILED, error="model") is not None


async def _end_by_handback(s: Storage, c: Claim) -> None:
    assert await s.jobs.handback(c, "e1") is Handback.CANCELLED
    assert await s.jobs.finish(c, "e1", JobState.CANCELLED) is not None


async def _end_by_reclaim(s: Storage, c: Claim) -> None:
    got = await s.jobs.reclaim("e2")  # e1 never beat: it counts as dead
    assert got is not None
    assert await s.jobs.claim(got[0], got[1], "e2") == "skip:cancelled"


ENDINGS = {"finish": _end_by_finish, "failure": _end_by_failure,
           "handback": _end_by_handback, "reclaim": _end_by_reclaim}


@pytest.mark.parametrize("ending", list(ENDINGS))
async def test_forget_while_running_frees_the_slot_and_leaves_nothing(
    storage: Storage, ending: str
) -> None:
    job_id = await submit(storage, "a")
    c = await claim(storage)
    assert await privacy.forget(storage.jobs, storage.clips, USER) == 1
    assert await storage.jobs.get(job_id) is None  # no record left to show or export
    assert await charged(storage) == (0, 0.0)  # refunded now, not at the end
    # The in-flight slot is free at once: a new prompt is accepted (max_inflight is 1).
    new_id = await submit(storage, "b")
    assert await storage.jobs.cancel(job_id, USER) is CancelOutcome.CANCELLING
    await privacy.forget(storage.jobs, storage.clips, USER)  # the new one goes too
    assert await storage.jobs.cancel_requested(job_id)  # what the engine checks
    assert await storage.jobs.progress(c, "e1", 1, 2) == 1
    await ENDINGS[ending](storage, c)
    assert await storage.jobs.running_count() == 0
    await skip_forgotten(storage)
    assert await user_traces(storage, USER, job_id, new_id) == []
    assert await charged(storage) == (0, 0.0)
    assert await storage.redis.xlen(storage.keys.dead) == 0


async def test_forget_queued_leaves_nothing_once_an_engine_skips_it(storage: Storage) -> None:
    job_id = await submit(storage, "a")
    await privacy.forget(storage.jobs, storage.clips, USER)
    assert await charged(storage) == (0, 0.0)
    new_id = await submit(storage, "b")  # accepted: the slot is free
    await privacy.forget(storage.jobs, storage.clips, USER)
    await skip_forgotten(storage)
    await skip_forgotten(storage)
    assert await result_states(storage) == []  # nobody is told about a forgotten job
    assert await user_traces(storage, USER, job_id, new_id) == []


@pytest.mark.parametrize("taken", [False, True], ids=["before_delivery", "delivering"])
async def test_forget_a_made_clip(storage: Storage, taken: bool) -> None:
    job_id = await submit(storage, "a")
    await store_and_finish(storage, await claim(storage))
    bot = await reader(storage)
    taken_events = await bot.read(block_ms=100) if taken else []
    await privacy.forget(storage.jobs, storage.clips, USER)
    assert await storage.clips.get(f"clip-{job_id}") is None
    # Never sent: refunded like a cancel. Being sent: the charge stands (anonymously).
    assert await charged(storage) == ((1, 2.5) if taken else (0, 0.0))
    await submit(storage, "b")  # accepted
    await privacy.forget(storage.jobs, storage.clips, USER)
    (event,) = taken_events or await bot.read(block_ms=100)
    assert await storage.jobs.get(event.job_id) is None
    await storage.jobs.deliver(event.job_id, "cli", event.entry_id)  # what the pump does
    await skip_forgotten(storage)
    assert await user_traces(storage, USER, job_id) == []
