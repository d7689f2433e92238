"""Run the ``clipbot`` command as a user would: a real process."""

from __future__ import annotations

import subprocess
import sys


def clipbot(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clipbot.cli", *args], env=env, capture_output=True,
        text=True, timeout=timeout,
    )
