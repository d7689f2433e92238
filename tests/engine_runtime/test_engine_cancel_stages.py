"""Cancel and /forget at each stage of a real preview job, hit exactly with the worker's
stage hook: between denoising steps, after the last step, before encode, before store,
before finish, after finish, and once a bot has started sending the clip."""

from __future__ import annotations

import pytest

from engine.stages import Stage
from storage import CancelOutcome, JobState, Storage, privacy
from tests.engine_runtime.staged import (
    COST,
    DELIVERING,
    ONE_AT_A_TIME,
    USER,
    StagedRun,
    submit,
    until,
)
from tests.storage.leftovers import traces, user_traces

pytestmark = pytest.mark.slow
# (stage, step): step 1 of 4 is between steps; LAST_STEP is after step 4, before decoding.
ENGINE_STAGES = {
    "between_steps": (Stage.STEP, 1), "after_last_step": (Stage.LAST_STEP, 4),
    "before_encode": (Stage.ENCODE, 0), "before_store": (Stage.STORE, 0),
    "before_finish": (Stage.FINISH, 0),
}


async def charged(storage: Storage) -> tuple[int, float]:
    view = await storage.accounts.quota(USER, ONE_AT_A_TIME)
    return view.used_clips, view.used_gpu_s


async def clip_keys(storage: Storage) -> list[str]:
    pattern = "{" + storage.keys.prefix + "}:clip:*"
    return [k async for k in storage.redis.scan_iter(match=pattern)]


async def delivered(storage: Storage, job_id: str) -> bool:
    job = await storage.jobs.get(job_id)
    return job is not None and job.delivered


async def assert_cancelled_once(storage: Storage, run: StagedRun, job_id: str) -> None:
    await until(lambda: delivered(storage, job_id), "the cancel notice")
    job = await storage.jobs.get(job_id)
    assert job is not None and job.state is JobState.CANCELLED and not job.clip_id, job
    assert not run.sink.clips and run.sink.failures == {job_id: 1}  # told, nothing sent
    assert await charged(storage) == (0, 0.0)  # refunded exactly once
    assert await clip_keys(storage) == []
    assert await storage.jobs.running_count() == 0


@pytest.mark.parametrize("name", list(ENGINE_STAGES))
async def test_cancel_in_the_engine(storage: Storage, preview_generator, name: str) -> None:
    stage, step = ENGINE_STAGES[name]
    outcomes: list[CancelOutcome] = []

    async def cancel(job_id: str) -> None:
        outcomes.append(await storage.jobs.cancel(job_id, USER, clips=storage.clips))

    async with StagedRun(storage, preview_generator, stage, cancel, step=step) as run:
        res = await submit(storage, "k", steps=4)
        await assert_cancelled_once(storage, run, res.job_id)  # type: ignore[union-attr]
    assert outcomes == [CancelOutcome.CANCELLING]


async def test_cancel_queued(storage: Storage, preview_generator) -> None:
    res = await submit(storage, "k")
    job_id = res.job_id  # type: ignore[union-attr]
    assert await storage.jobs.cancel(job_id, USER) is CancelOutcome.CANCELLED

    async def never(_: str) -> None:
        raise AssertionError("a cancelled job reached the engine")

    async with StagedRun(storage, preview_generator, Stage.STEP, never) as run:
        await assert_cancelled_once(storage, run, job_id)


async def test_cancel_made_but_not_yet_sent(storage: Storage, preview_generator) -> None:
    async def nothing(_: str) -> None:
        return None

    async with StagedRun(storage, preview_generator, Stage.STEP, nothing, pump=False) as run:
        res = await submit(storage, "k")
        job_id = res.job_id  # type: ignore[union-attr]

        async def done() -> bool:
            job = await storage.jobs.get(job_id)
            return job is not None and job.state is JobState.DONE

        await until(done, "the clip")
        outcome = await storage.jobs.cancel(job_id, USER, clips=storage.clips)
        assert outcome is CancelOutcome.CANCELLED
        run.start_pump()
        await assert_cancelled_once(storage, run, job_id)


async def test_cancel_once_sending_started_is_too_late(storage: Storage, preview_generator) -> None:
    outcomes: list[CancelOutcome] = []

    async def cancel(job_id: str) -> None:
        outcomes.append(await storage.jobs.cancel(job_id, USER, clips=storage.clips))

    async with StagedRun(storage, preview_generator, DELIVERING, cancel) as run:
        res = await submit(storage, "k")
        job_id = res.job_id  # type: ignore[union-attr]
        await until(lambda: delivered(storage, job_id), "the clip")
    assert outcomes == [CancelOutcome.TOO_LATE]
    job = await storage.jobs.get(job_id)
    assert job is not None and job.state is JobState.DONE
    assert run.sink.clips == {job_id: 1} and not run.sink.failures
    assert await charged(storage) == (1, COST)  # charged once, for the clip it got


@pytest.mark.parametrize("name", [*ENGINE_STAGES, DELIVERING])
async def test_forget_at_a_stage(storage: Storage, preview_generator, name: str) -> None:
    stage, step = ENGINE_STAGES.get(name, (DELIVERING, 0))
    new_ids: list[str] = []

    async def forget_then_ask_again(job_id: str) -> None:
        await privacy.forget(storage.jobs, storage.clips, USER)
        again = await submit(storage, "k2")  # the same user, at once: accepted
        assert not hasattr(again, "reason"), again
        new_ids.append(again.job_id)  # type: ignore[union-attr]

    async with StagedRun(storage, preview_generator, stage, forget_then_ask_again,
                         step=step) as run:
        res = await submit(storage, "k1", steps=4)
        old = res.job_id  # type: ignore[union-attr]
        await until(lambda: _has(new_ids), "the forget")
        await until(lambda: delivered(storage, new_ids[0]), "the new clip")

        async def old_gone() -> bool:
            return not await traces(storage, old)

        await until(old_gone, "the forgotten job to end")
    assert run.sink.clips[new_ids[0]] == 1 and not run.sink.failures
    if name != DELIVERING:
        assert run.sink.clips[old] == 0  # nothing of the forgotten job was sent
    assert await storage.jobs.running_count() == 0
    await privacy.forget(storage.jobs, storage.clips, USER)
    assert await user_traces(storage, USER, old, *new_ids) == []


async def _has(items: list[str]) -> bool:
    return bool(items)
