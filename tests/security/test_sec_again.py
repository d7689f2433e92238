"""Retry and Vary are judged like a newly typed prompt (#15 item 6): rules added since the
first job apply, and Vary cannot push a prompt past the length limit. Real Redis."""

from __future__ import annotations

from bots.core.moderation import Rules
from bots.core.options import MAX_PROMPT_CHARS
from bots.core.service import ClipService, CoreConfig, Refusal, Submitted, Who
from storage import QuotaLimits, Storage

LIMITS = QuotaLimits(daily_gpu_s=100_000, daily_clips=100, max_inflight=10, max_queue=100)
WHO = Who("web", "user-again-0001", "user-again-0001")


async def _first(service: ClipService, prompt: str) -> str:
    res = await service.request_video(WHO, prompt, idem_key="first")
    assert isinstance(res, Submitted), res
    return res.job_id


async def test_rule_added_later_refuses_retry_and_vary(storage: Storage) -> None:
    before = ClipService(storage, CoreConfig(limits=LIMITS))
    job_id = await _first(before, "a fireworks show over the harbour")
    after = ClipService(storage, CoreConfig(limits=LIMITS, rules=Rules.from_data(
        [{"name": "no-fireworks", "words": ["fireworks"]}])))
    typed = await after.request_video(WHO, "a fireworks show over the harbour", idem_key="t")
    assert typed == Refusal("moderation", {"rule": "no-fireworks"})
    for vary in (False, True):
        res = await after.again(WHO, job_id, vary=vary, idem_key=f"again-{vary}", reply={})
        assert res == Refusal("moderation", {"rule": "no-fireworks"}), res
    assert len(await storage.jobs.jobs_of(WHO.user, 10)) == 1  # nothing new queued


async def test_vary_cannot_exceed_the_prompt_limit(storage: Storage) -> None:
    service = ClipService(storage, CoreConfig(limits=LIMITS))
    long_prompt = ("a very long prompt " * 200)[:MAX_PROMPT_CHARS].strip()
    job_id = await _first(service, long_prompt)
    res = await service.again(WHO, job_id, vary=True, idem_key="vary", reply={})
    assert isinstance(res, Refusal) and res.key == "prompt_too_long", res
    retry = await service.again(WHO, job_id, vary=False, idem_key="retry", reply={})
    assert isinstance(retry, Submitted)  # the same prompt, retried, is still fine
    jobs = await storage.jobs.jobs_of(WHO.user, 10)
    assert all(len(j.request.prompt) <= MAX_PROMPT_CHARS for j in jobs)
