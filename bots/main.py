"""Assembly point of the bot processes (``clipbot bots --web --telegram ...``)."""

from __future__ import annotations

import asyncio
import importlib
import signal

from clipbot.metrics import health_endpoint, redis_ready
from clipbot.settings import Settings
from clipbot.wiring import open_storage


async def serve_bots(settings: Settings, platforms: list[str]) -> int:
    """Run each chosen adapter's ``serve(settings, stop)`` until SIGTERM/SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    modules = [importlib.import_module(f"bots.{name}.app") for name in platforms]
    async with (
        await open_storage(settings) as storage,
        health_endpoint(settings.metrics_host, settings.metrics_port,
                        ready=redis_ready(storage), storage=storage),
    ):
        await asyncio.gather(*(m.serve(settings, stop) for m in modules))
    return 0
