"""``python -m clipbot.demo`` (what ``./run demo`` runs): both processes up, URL printed,
the page answers, and Ctrl-C stops everything."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from clipbot.demo import browsable, child_env, port_free
from storage import Storage

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_child_env_keeps_the_operators_settings() -> None:
    env = child_env({"CLIPBOT_MODEL": "/models/wan", "PATH": "/bin"})
    assert env["CLIPBOT_MODEL"] == "/models/wan" and env["PATH"] == "/bin"
    assert env["CLIPBOT_DAILY_CLIPS"] == "200"  # demo default, only for the children
    assert child_env({})["CLIPBOT_MODEL"] == "preview"


def test_url_names_a_host_a_browser_can_open() -> None:
    assert browsable("0.0.0.0") == "127.0.0.1" and browsable("::") == "127.0.0.1"
    assert browsable("192.168.1.20") == "192.168.1.20"


def test_port_in_use_is_detected() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert not port_free("127.0.0.1", s.getsockname()[1])


async def test_demo_starts_answers_and_stops_on_ctrl_c(
    storage: Storage, prefix: str, redis_url: str, preview_model_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = dict(os.environ, CLIPBOT_REDIS_URL=redis_url, CLIPBOT_REDIS_PREFIX=prefix,
               CLIPBOT_WEB_PORT=str(port), CLIPBOT_MODEL=str(preview_model_dir),
               CLIPBOT_MODEL_CACHE=str(tmp_path), CLIPBOT_WEB_SECRET="",
               CLIPBOT_WEB_PASSWORD="", CLIPBOT_LOG_LEVEL="WARNING")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clipbot.demo", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    lines: list[str] = []

    async def until_url() -> None:
        while line := (await proc.stdout.readline()).decode():
            lines.append(line)
            if f"open http://127.0.0.1:{port}" in line:
                return
        raise AssertionError("demo exited:\n" + "".join(lines))

    try:
        await asyncio.wait_for(until_url(), 120)
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/") as page:
            assert page.status == 200
            assert '"preview": true' in await page.text()  # the engine is live
        assert len(await storage.engines.live()) == 1
        proc.send_signal(signal.SIGINT)
        rest = await asyncio.wait_for(proc.stdout.read(), 60)
        assert await proc.wait() == 0, "".join(lines) + rest.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert "demo: stopped." in rest.decode()
    assert await storage.engines.live() == []  # the engine left cleanly
    assert port_free("127.0.0.1", port)  # and so did the web chat
    assert (tmp_path / "web_secret").exists()  # sessions survive a restart
