"""``clipbot generate`` / ``status`` as a user runs them: real processes, real Redis."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from clipbot.media import probe_mp4
from storage import Storage
from tests.cli.cli_run import clipbot
from tests.engine_runtime.procs import engine_env, start_engine


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["generate", ""], "describe the video"),
        (["generate", "   "], "describe the video"),
        (["generate", "x" * 2001], "too long"),
        (["generate", "kite\x1b[2J"], "characters"),
        (["generate", "kite", "--ar", "4:3"], "isn't available"),
        (["generate", "kite", "--seconds", "9"], "from 1 to 5"),
        (["generate", "kite", "--seed", "abc"], "whole number"),
        (["generate", "kite --colour red"], "--colour"),
        (["generate", "kite", "--frobnicate"], "unrecognized arguments"),
        (["generate", "kite", "--no", "blur\x01"], "characters"),
        (["generate", "kite", "--no", "x" * 2001], "too long"),
        (["generate", "kite", "--timeout", "nan"], "--timeout"),
        (["generate", "kite", "--timeout", "-1"], "--timeout"),
        (["generate", "kite", "-o", "/nonexistent-dir/x.mp4"], "does not exist"),
        (["generate", "kite", "-o", "/tmp"], "is a folder"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(
    args: list[str], needle: str, env: dict[str, str], prefix: str, redis_url: str
) -> None:
    out = clipbot(args, env)
    assert out.returncode == 2, out
    assert needle in out.stderr
    assert "Traceback" not in out.stderr
    # nothing reserved or queued under this prefix
    import redis

    r = redis.Redis.from_url(redis_url)
    try:
        assert list(r.scan_iter(match="{" + prefix + "}:queue")) == []
        assert list(r.scan_iter(match="{" + prefix + "}:quota:*")) == []
    finally:
        r.close()


def test_dead_redis_is_one_line(env: dict[str, str]) -> None:
    env["CLIPBOT_REDIS_URL"] = "redis://127.0.0.1:1/0"
    out = clipbot(["generate", "a red kite"], env, timeout=120)
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert lines == ["clipbot: cannot reach Redis at redis://127.0.0.1:1/0. "
                     "Start one or set CLIPBOT_REDIS_URL."]


def test_model_folder_that_is_not_a_pipeline(env: dict[str, str], tmp_path: Path) -> None:
    env["CLIPBOT_MODEL"] = str(tmp_path)
    out = clipbot(["engine"], env)
    assert out.returncode == 2, out
    assert "not a diffusers pipeline" in out.stderr
    assert "Traceback" not in out.stderr


def test_attention_kernel_that_cannot_run_here_stops_the_engine(
    env: dict[str, str], preview_model_dir: Path
) -> None:
    env.update(CLIPBOT_MODEL=str(preview_model_dir), CLIPBOT_DEVICE="cpu",
               CLIPBOT_ATTENTION="flash3")
    out = clipbot(["engine"], env)
    assert out.returncode == 2, out
    assert "attention backend 'flash3' needs a CUDA device" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow
async def test_engine_then_generate_writes_playable_mp4(
    env: dict[str, str], redis_url: str, prefix: str, preview_model_dir: Path,
    tmp_path: Path, storage: Storage,
) -> None:
    engine = await start_engine(engine_env(redis_url, prefix, preview_model_dir))
    try:
        status = await asyncio.to_thread(clipbot, ["status"], env)
        assert status.returncode == 0 and "engines: 1 live" in status.stdout
        assert "[preview model]" in status.stdout
        out_file = tmp_path / "k.mp4"
        gen = await asyncio.to_thread(
            clipbot, ["generate", "a red kite over the sea", "--ar", "9:16", "-o",
                      str(out_file)], env)
        assert gen.returncode == 0, gen.stderr
        assert "Preview model" in gen.stderr
        info = probe_mp4(out_file.read_bytes())
        assert info.codec == "h264" and info.faststart and (info.width, info.height) == (144, 256)
        view = await storage.accounts.quota(f"cli:{os.environ.get('USER') or 'root'}",
                                            storage_limits())
        assert view.used_clips == 1
    finally:
        engine.send_signal(signal.SIGTERM)
        await asyncio.wait_for(engine.wait(), 60)


def storage_limits():
    from clipbot.settings import Settings

    return Settings().limits
