"""A running engine expires unread clips of a folder clip store (``CLIPBOT_CLIP_STORE``)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

import pytest

from engine.main import sweep_clips, sweep_interval_s
from tests.engine_runtime.procs import engine_env, start_engine


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.mark.parametrize(("ttl", "interval"), [(86400, 300), (600, 150), (20, 5), (2, 1)])
def test_sweep_interval(ttl: int, interval: float) -> None:
    assert sweep_interval_s(ttl) == interval


class FlakyStore:
    def __init__(self) -> None:
        self.calls = 0

    async def sweep(self) -> int:
        self.calls += 1
        if self.calls == 1:
            raise PermissionError("clips folder not readable")
        return 2


async def test_a_failing_sweep_is_logged_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="clipbot.engine")
    store = FlakyStore()
    task = asyncio.create_task(sweep_clips(store, 0.01))  # type: ignore[arg-type]
    while store.calls < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    messages = [r.getMessage() for r in caplog.records]
    assert "clip sweep failed; trying again in 0 s" in messages
    assert "removed 2 expired clip files" in messages


@pytest.mark.slow
async def test_the_engine_process_removes_expired_clip_files(
    redis_url: str, prefix: str, preview_model_dir, tmp_path: Path
) -> None:
    clips = tmp_path / "clips"
    env = engine_env(redis_url, prefix, preview_model_dir, CLIPBOT_CLIP_STORE=str(clips),
                     CLIPBOT_CLIP_TTL_S="20")  # swept every 5 s
    proc = await start_engine(env)
    try:
        for name in ("stale-0001.mp4", "stale-0001.jpg"):
            (clips / name).write_bytes(b"old")
            age(clips / name, 3600)
        (clips / "fresh-0001.mp4").write_bytes(b"new")

        async def stale_gone() -> None:
            while any(clips.glob("stale-*")):
                await asyncio.sleep(0.1)

        await asyncio.wait_for(stale_gone(), 30)
        assert (clips / "fresh-0001.mp4").read_bytes() == b"new"  # younger than the TTL
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 60) == 0
