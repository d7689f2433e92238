"""ClipService.cancel / forget at each stage: the catalog key the user is answered with, and
a new prompt accepted right after /forget of a clip being generated."""

from __future__ import annotations

import pytest

from bots.core.service import ClipService, CoreConfig, Submitted, Who
from bots.i18n import t
from storage import Claim, JobState, QuotaLimits, ResultReader, Storage

ANA = Who("cli", "ana", "chat-ana", "es")
LIMITS = QuotaLimits(daily_gpu_s=10_000, daily_clips=10, max_inflight=1, max_queue=50)
LOCALES = ("en", "es", "pt", "fr", "id", "sw", "hi", "ar", "zh")


@pytest.fixture
def service(storage: Storage) -> ClipService:
    return ClipService(storage, CoreConfig(limits=LIMITS))


async def ask(service: ClipService, key: str) -> str:
    res = await service.request_video(ANA, "a red kite over the sea", idem_key=key)
    assert isinstance(res, Submitted), res
    return res.job_id


async def run(storage: Storage) -> Claim:
    entry = await storage.jobs.read_next("e1", block_ms=100)
    assert entry is not None
    claim = await storage.jobs.claim(entry[0], entry[1], "e1")
    assert isinstance(claim, Claim), claim
    return claim


async def make(storage: Storage, claim: Claim) -> str:
    clip_id = f"clip-{claim.job.id}"
    await storage.clips.put(clip_id, b"mp4", b"jpg")
    assert await storage.jobs.finish(claim, "e1", JobState.DONE, clip_id=clip_id)
    return clip_id


async def clips_used(service: ClipService) -> int:
    return (await service.quota(ANA)).used_clips


async def test_each_stage_answers_its_key(service: ClipService, storage: Storage) -> None:
    assert await service.cancel(ANA) == "cancel_nothing"
    queued = await ask(service, "m1")
    assert await service.cancel(ANA) == "cancelled"
    assert await clips_used(service) == 0
    entry = await storage.jobs.read_next("e1", block_ms=100)
    assert entry is not None
    assert await storage.jobs.claim(entry[0], entry[1], "e1") == "skip:cancelled"
    running = await ask(service, "m2")
    claim = await run(storage)
    assert claim.job.id == running != queued
    assert await service.cancel(ANA, running) == "cancelling"
    assert await storage.jobs.finish(claim, "e1", JobState.DONE) is JobState.CANCELLED
    assert await clips_used(service) == 0


async def test_a_made_clip_can_be_cancelled_until_a_bot_takes_it(
    service: ClipService, storage: Storage
) -> None:
    job_id = await ask(service, "m1")
    clip_id = await make(storage, await run(storage))
    # No id given (a plain /cancel): the newest clip not yet sent is the one meant.
    assert await service.cancel(ANA) == "cancelled"
    assert await storage.clips.get(clip_id) is None
    assert await clips_used(service) == 0
    second = await ask(service, "m2")
    await make(storage, await run(storage))
    bot = ResultReader(storage.redis, storage.keys, "cli", "bot-1")
    await bot.ensure_group()
    events = await bot.read(block_ms=100)
    assert [e.job_id for e in events] == [job_id, second]
    assert await service.cancel(ANA) == "cancel_too_late"
    assert await service.cancel(ANA, second) == "cancel_too_late"
    assert await clips_used(service) == 1
    for event in events:
        await storage.jobs.deliver(event.job_id, "cli", event.entry_id)
    assert await service.cancel(ANA) == "cancel_nothing"  # delivered: nothing in progress


async def test_forget_while_generating_then_ask_again(
    service: ClipService, storage: Storage
) -> None:
    old = await ask(service, "m1")
    claim = await run(storage)
    assert await service.forget(ANA) == 1
    new = await ask(service, "m2")  # accepted although the old one is still on the GPU
    assert new != old and await service.my_jobs(ANA) != []
    assert await storage.jobs.finish(claim, "e1", JobState.DONE) is JobState.CANCELLED
    assert await service.cancel(ANA) == "cancelled"  # the new, queued one
    assert await clips_used(service) == 0
    assert await storage.jobs.running_count() == 0


def test_too_late_is_translated() -> None:
    texts = {loc: t(loc, "cancel_too_late") for loc in LOCALES}
    assert len(set(texts.values())) == len(LOCALES), texts  # a real text in each language
    assert all(text != "cancel_too_late" for text in texts.values())
