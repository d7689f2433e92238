"""``./run demo``: an engine on the preview model and the web chat, until Ctrl-C.

Runs ``clipbot engine`` and ``clipbot bots --web`` as child processes (the same commands an
operator runs), waits until both say they are ready, prints the URL, and stops both cleanly
on Ctrl-C or SIGTERM. ``./run`` has already installed the venv and found or started Redis
(``CLIPBOT_REDIS_URL``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

from clipbot.settings import Settings, load_settings

READY_TIMEOUT_S = 600.0  # the first run builds the preview model
STOP_TIMEOUT_S = 20.0
# Passed to the children only, so a demo user can try several clips in a row.
DEMO_DEFAULTS = {
    "CLIPBOT_MODEL": "preview",
    "CLIPBOT_DAILY_CLIPS": "200",
    "CLIPBOT_DAILY_GPU_SECONDS": "100000",
    "CLIPBOT_MAX_INFLIGHT": "3",
}


@dataclass
class Child:
    name: str
    proc: asyncio.subprocess.Process
    ready: asyncio.Event


def child_env(base: Mapping[str, str]) -> dict[str, str]:
    """The children's environment: the operator's settings win over the demo's defaults."""
    env = dict(base)
    for key, value in DEMO_DEFAULTS.items():
        env.setdefault(key, value)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def browsable(host: str) -> str:
    """A host a browser on this machine can open ("0.0.0.0" listens everywhere)."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


async def start(name: str, args: list[str], env: dict[str, str], marker: bytes) -> Child:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clipbot.cli", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    child = Child(name, proc, asyncio.Event())
    asyncio.get_running_loop().create_task(_relay(child, marker))
    return child


async def _relay(child: Child, marker: bytes) -> None:
    """Show the child's output, prefixed, and notice its ready line."""
    assert child.proc.stdout is not None
    while line := await child.proc.stdout.readline():
        if marker in line:
            child.ready.set()
        sys.stdout.write(f"[{child.name}] {line.decode(errors='replace')}")
        sys.stdout.flush()


async def stop_all(children: list[Child]) -> int:
    """SIGTERM every child still running, SIGKILL after STOP_TIMEOUT_S; worst exit code."""
    for c in children:
        if c.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                c.proc.send_signal(signal.SIGTERM)
    codes = []
    for c in children:
        try:
            codes.append(await asyncio.wait_for(c.proc.wait(), STOP_TIMEOUT_S))
        except TimeoutError:
            print(f"demo: {c.name} did not stop in {STOP_TIMEOUT_S:.0f} s; killing it",
                  file=sys.stderr)
            c.proc.kill()
            codes.append(await c.proc.wait())
    return max((abs(code) for code in codes), default=0)


async def run_demo(settings: Settings, env: dict[str, str]) -> int:
    if not port_free(settings.web_host, settings.web_port):
        print(f"demo: port {settings.web_port} on {settings.web_host} is already in use. "
              "Stop what uses it or set CLIPBOT_WEB_PORT.", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    started = time.monotonic()
    children = [
        await start("engine", ["engine"], env, b" ready: "),
        await start("web", ["bots", "--web"], env, b"web chat ready"),
    ]
    try:
        outcome = await _wait_ready(children, stop)
        if outcome == "ready":
            url = f"http://{browsable(settings.web_host)}:{settings.web_port}"
            print(f"\n  clipbot demo is up in {time.monotonic() - started:.1f} s: open {url}\n"
                  "  (Ctrl-C stops everything)\n", flush=True)
            outcome = await _wait_exit(children, stop)
        if outcome != "stopped":
            print(f"demo: {outcome}", file=sys.stderr)
    finally:
        code = await stop_all(children)
    print("demo: stopped.", flush=True)
    return 0 if outcome == "stopped" else max(code, 1)


async def _wait_ready(children: list[Child], stop: asyncio.Event) -> str:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not all(c.ready.is_set() for c in children):
        if stop.is_set():
            return "stopped"
        for c in children:
            if c.proc.returncode is not None:
                return f"{c.name} exited with code {c.proc.returncode} before it was ready"
        if time.monotonic() > deadline:
            return f"not ready after {READY_TIMEOUT_S:.0f} s"
        await asyncio.sleep(0.1)
    return "ready"


async def _wait_exit(children: list[Child], stop: asyncio.Event) -> str:
    while not stop.is_set():
        for c in children:
            if c.proc.returncode is not None:
                return f"{c.name} exited unexpectedly with code {c.proc.returncode}"
        await asyncio.sleep(0.2)
    return "stopped"


def main() -> int:
    settings = load_settings()
    return asyncio.run(run_demo(settings, child_env(os.environ)))


if __name__ == "__main__":
    sys.exit(main())
