"""Which process loads what, checked in fresh interpreters.

The import contracts in pyproject.toml (``lint-imports``) check the source; these check what
a real process ends up loading, lazy imports included.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def loaded(imports: str, prefixes: tuple[str, ...]) -> list[str]:
    code = (f"import json, sys\n{imports}\n"
            f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {prefixes!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=240, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def test_the_engine_process_loads_no_bots() -> None:
    assert loaded("import engine.main", ("bots",)) == []


def test_the_bot_processes_load_no_engine_and_no_model_libraries() -> None:
    apps = "\n".join(f"import bots.{p}.app" for p in ("telegram", "discord", "whatsapp", "web"))
    assert loaded(f"import bots.main\n{apps}",
                  ("engine", "torch", "diffusers", "transformers")) == []


def test_the_check_itself_sees_what_a_module_loads() -> None:
    assert "engine.worker" in loaded("import engine.main", ("engine",))
