"""The engine process sends no usage reports to the Hugging Face Hub unless told to."""

from __future__ import annotations

import os
import subprocess
import sys

CHECK = "import engine, os; print(os.environ.get('HF_HUB_DISABLE_TELEMETRY'))"


def run(env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True,
                         text=True, timeout=60, check=True)
    return out.stdout.strip()


def test_hub_telemetry_is_off_by_default_and_the_operator_can_choose() -> None:
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_DISABLE_TELEMETRY"}
    assert run(env) == "1"
    assert run({**env, "HF_HUB_DISABLE_TELEMETRY": "0"}) == "0"
