"""Regression: /forget while a clip was being generated locked the user out for good.

The job record was deleted under the engine, so ending the job never took its id out of the
user's in-flight set or the engines' running list: every later prompt was refused with "1
clip in progress", /cancel found nothing, and ``clipbot status`` showed a job generating on
an idle engine. Now the user can ask again at once, and once the engine stops nothing of
the user or the job is left.
"""

from __future__ import annotations

import pytest

from bots.core.service import ClipService, CoreConfig, Submitted, Who
from engine.stages import Stage
from storage import QuotaLimits, Storage
from tests.engine_runtime.staged import StagedRun, until
from tests.storage.leftovers import traces, user_traces

pytestmark = pytest.mark.slow
ANA = Who("cli", "5550001", "5550001", "en")
ONE_AT_A_TIME = QuotaLimits(daily_gpu_s=10_000, daily_clips=10, max_inflight=1, max_queue=50)


async def test_forget_while_generating_does_not_lock_the_user_out(
    storage: Storage, preview_generator
) -> None:
    service = ClipService(storage, CoreConfig(limits=ONE_AT_A_TIME))
    after_forget: list[object] = []

    async def forget_mid_generation(job_id: str) -> None:
        assert await service.forget(ANA) == 1
        after_forget.append(await service.request_video(ANA, "a second kite", idem_key="u2"))
        after_forget.append(await service.cancel(ANA))

    async with StagedRun(storage, preview_generator, Stage.STEP, forget_mid_generation,
                         step=1) as run:
        first = await service.request_video(ANA, "a red kite --steps 4", idem_key="u1")
        assert isinstance(first, Submitted), first
        await until(lambda: _done(after_forget), "the /forget")

        async def engine_let_go() -> bool:
            return not await traces(storage, first.job_id)

        await until(engine_let_go, "the engine to end the forgotten job")
        again, cancel_reply = after_forget
        assert isinstance(again, Submitted), again  # not refused as "1 clip in progress"
        assert cancel_reply == "cancelled"  # /cancel found the new one

        async def told() -> bool:
            return run.sink.failures[again.job_id] == 1

        await until(told, "the bot to tell the user the new one was cancelled")
    assert not run.sink.clips and first.job_id not in run.sink.failures
    assert await storage.jobs.running_count() == 0
    assert await storage.redis.scard(storage.keys.active(ANA.user)) == 0
    assert await service.forget(ANA) == 1
    assert await user_traces(storage, ANA.user, first.job_id, again.job_id) == []


async def _done(items: list[object]) -> bool:
    return len(items) == 2
