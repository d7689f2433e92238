"""``clipbot status`` after a user's /forget while their clip was being generated: the
engine is idle and nothing is shown generating (it used to show the forgotten job forever)."""

from __future__ import annotations

import asyncio

import pytest

from engine.stages import Stage
from storage import Storage, privacy
from tests.cli.cli_run import clipbot
from tests.engine_runtime.staged import USER, StagedRun, submit, until
from tests.storage.leftovers import traces

pytestmark = pytest.mark.slow


async def test_status_after_forget_mid_generation(
    env: dict[str, str], storage: Storage, preview_generator
) -> None:
    async def forget(_: str) -> None:
        await privacy.forget(storage.jobs, storage.clips, USER)

    async with StagedRun(storage, preview_generator, Stage.STEP, forget, step=1,
                         pump=False) as run:
        res = await submit(storage, "k", steps=4)
        job_id = res.job_id  # type: ignore[union-attr]

        async def let_go() -> bool:
            live = await storage.engines.live()
            return not await traces(storage, job_id) and all(not e.busy_job for e in live)

        await until(let_go, "the engine to end the forgotten job")
        out = await asyncio.to_thread(clipbot, ["status"], env)
    assert out.returncode == 0, out.stderr
    assert "0 waiting, 0 generating" in out.stdout, out.stdout
    engine_line = next(line for line in out.stdout.splitlines() if run.worker.cfg.engine_id in line)
    assert engine_line.rstrip().endswith("idle"), out.stdout
    assert job_id not in out.stdout
