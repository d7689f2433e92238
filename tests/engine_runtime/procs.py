"""Start real ``clipbot engine`` processes for fault tests."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path


def engine_env(redis_url: str, prefix: str, model_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CLIPBOT_REDIS_URL=redis_url,
        CLIPBOT_REDIS_PREFIX=prefix,
        CLIPBOT_MODEL=str(model_dir),
        CLIPBOT_HEARTBEAT_TTL_S="1.5",
        CLIPBOT_STEPS="2",
        CLIPBOT_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


async def start_engine(env: dict[str, str], timeout: float = 90.0) -> asyncio.subprocess.Process:
    """Spawn ``clipbot engine`` and wait for its 'ready' line."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clipbot.cli", "engine",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None

    async def ready() -> None:
        lines = []
        while True:
            line = await proc.stdout.readline()
            if not line:
                raise RuntimeError("engine exited early:\n" + "".join(lines))
            lines.append(line.decode(errors="replace"))
            if b" ready: " in line:
                return

    await asyncio.wait_for(ready(), timeout)
    asyncio.get_running_loop().create_task(_drain(proc))
    return proc


async def _drain(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdout is not None
    while await proc.stdout.readline():
        pass
