"""Bad input through the real submit path: a specific, localised refusal; nothing written.

Each case goes through ``ClipService.request_video`` against the real Redis and then checks
the store: no queue entry, no stream entry, no charge, no idempotency key, no job record.
"""

from __future__ import annotations

import pytest

from bots.core.moderation import Rules
from bots.core.render import refusal as render_refusal
from bots.core.service import ClipService, CoreConfig, Refusal, Submitted, Who
from bots.i18n import available, catalog
from storage import QuotaLimits, Storage

LIMITS = QuotaLimits(daily_gpu_s=10_000, daily_clips=20, max_inflight=5, max_queue=100)
RULES = Rules.from_data([{"name": "no gore", "words": ["gore"]}])
ALICE = Who("web", "alice", "chat-a", "en")
MALLORY = Who("web", "mallory", "chat-m", "ar")
BINARY = b"a cat \xff\xfe\x00\x9c on a roof"

BAD_INPUTS = [
    ("", "empty_prompt"),
    ("  \n\t  ", "empty_prompt"),
    ("--ar 9:16 --seconds 2", "empty_prompt"),
    ("a" * 2001, "prompt_too_long"),
    ("a " * 50_000, "prompt_too_long"),
    ("a cat\x00 on a roof", "bad_characters"),
    ("a cat \x1b[31mred\x1b[0m", "bad_characters"),
    ("private use \ue000 glyph", "bad_characters"),
    (BINARY.decode("utf-8", errors="surrogateescape"), "bad_characters"),
    (BINARY.decode("utf-8", errors="replace"), "bad_characters"),
    ("a cat --no \x07bell", "bad_characters"),
    ("a cat --ar 4:3", "bad_aspect"),
    ("a cat --ar=" + "9" * 500, "bad_aspect"),
    ("a cat --seconds 99", "bad_seconds"),
    ("a cat --seconds -1", "bad_seconds"),
    ("a cat --seed abc", "bad_seed"),
    ("a cat --seed 99999999999", "bad_seed"),
    ("a cat --steps 0", "bad_steps"),
    ("a cat --steps 1000", "bad_steps"),
    ("a cat --wat", "unknown_flag"),
    ("a cat --" + "x" * 5000, "prompt_too_long"),
    ("a cat --ar", "missing_value"),
    ("a cat --no", "missing_value"),
    ("a cat --seed --ar 1:1", "missing_value"),
    ("so much GORE here", "moderation"),
]


@pytest.fixture
def service(storage: Storage) -> ClipService:
    return ClipService(storage, CoreConfig(limits=LIMITS, rules=RULES))


async def assert_nothing_written(storage: Storage, who: Who = ALICE, *, jobs: int = 0) -> None:
    assert await storage.jobs.queue_depth() == jobs
    assert await storage.redis.xlen(storage.keys.lane()) == jobs
    view = await storage.accounts.quota(who.user, LIMITS)
    assert (view.used_clips, view.used_gpu_s, view.inflight) == (0, 0.0, 0)
    # No stray idempotency key or job record: a later good message must not look like a dup.
    stray = [k async for k in storage.redis.scan_iter(match=storage.keys.base + "idem:*")]
    assert len(stray) == jobs


@pytest.mark.parametrize(("text", "key"), BAD_INPUTS, ids=[k for _, k in BAD_INPUTS])
async def test_bad_input_is_refused_and_changes_nothing(
    storage: Storage, service: ClipService, text: str, key: str
) -> None:
    res = await service.request_video(ALICE, text, idem_key="tg:update:1")
    assert isinstance(res, Refusal) and res.key == key, res
    await assert_nothing_written(storage)
    for lang in available():
        message = render_refusal(lang, res)
        assert message and "{" not in message and message != key
        assert key in catalog(lang) or key in catalog("en")
    # The refusal left no trace: the same update id carrying a good prompt is a new job.
    ok = await service.request_video(ALICE, "a red kite", idem_key="tg:update:1")
    assert isinstance(ok, Submitted) and not ok.duplicate


# Not refusals: whitespace-like control characters are collapsed to a space (they are
# whitespace to str.split), and native digits are numbers.
ACCEPTED = [
    ("a cat \u0085 next\x0bline\x1fhere", "a cat next line here", 2),
    ("قطة على السطح --seconds ٣", "قطة على السطح", 3),  # Arabic-Indic digit three
    ("एक बिल्ली --seconds ४", "एक बिल्ली", 4),  # Devanagari digit four
]


@pytest.mark.parametrize(("text", "prompt", "seconds"), ACCEPTED)
async def test_odd_but_valid_input_is_accepted_cleanly(
    storage: Storage, service: ClipService, text: str, prompt: str, seconds: int
) -> None:
    res = await service.request_video(ALICE, text, idem_key="k")
    assert isinstance(res, Submitted)
    job = await storage.jobs.get(res.job_id)
    assert job is not None and (job.request.prompt, job.request.seconds) == (prompt, seconds)


async def test_redelivered_update_is_one_job_one_charge(
    storage: Storage, service: ClipService
) -> None:
    first = await service.request_video(ALICE, "a red kite", idem_key="tg:update:7")
    again = [await service.request_video(ALICE, "a red kite", idem_key="tg:update:7")
             for _ in range(5)]
    assert isinstance(first, Submitted)
    assert all(isinstance(r, Submitted) and r.duplicate and r.job_id == first.job_id
               for r in again)
    assert await storage.redis.xlen(storage.keys.lane()) == 1
    assert (await service.quota(ALICE)).used_clips == 1


async def test_banned_user_and_full_queue_write_nothing(
    storage: Storage, service: ClipService
) -> None:
    await storage.accounts.set_banned(ALICE.user, True)
    res = await service.request_video(ALICE, "a red kite", idem_key="a1")
    assert isinstance(res, Refusal) and res.key == "banned"
    await assert_nothing_written(storage)

    full = ClipService(storage, CoreConfig(limits=QuotaLimits(max_queue=0)))
    res = await full.request_video(MALLORY, "a red kite", idem_key="m1")
    assert isinstance(res, Refusal) and res.key == "queue_full"
    await assert_nothing_written(storage, MALLORY)


async def test_another_users_job_ids_are_not_found(storage: Storage, service: ClipService) -> None:
    mine = await service.request_video(ALICE, "a red kite", idem_key="a1")
    assert isinstance(mine, Submitted)
    for job_id in (mine.job_id, "nope", "*", "../../etc/passwd", "{x}:job:1", "x" * 10_000):
        assert await service.cancel(MALLORY, job_id) == "cancel_nothing"
        for vary in (False, True):
            res = await service.again(MALLORY, job_id, vary=vary, idem_key=f"m-{job_id[:20]}",
                                      reply={})
            # Someone else's clip is named as such (the presser alone is told); the rest
            # does not exist.
            expected = "again_not_yours" if job_id == mine.job_id else "not_found"
            assert isinstance(res, Refusal) and res.key == expected
    await assert_nothing_written(storage, MALLORY, jobs=1)
    job = await storage.jobs.get(mine.job_id)
    assert job is not None and job.state.value == "queued" and not job.cancel_requested
    assert not service.is_admin(MALLORY)
