"""Assembly point of ``clipbot bots --discord``."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord.http

from bots.core.delivery import ResultPump, follow_progress
from bots.core.service import ClipService
from bots.core.waiting import QUEUE_TICK_S, follow_queue
from bots.core.wiring import core_config
from bots.discord.client import ClipClient
from bots.discord.delivery import EDIT_INTERVAL_S, DiscordSink
from bots.discord.deps import Deps
from bots.discord.flows import PLATFORM
from clipbot.errors import ConfigError
from clipbot.settings import Settings
from clipbot.wiring import open_storage
from storage import Storage

log = logging.getLogger("clipbot.discord")
SHUTDOWN_GRACE_S = 10.0


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run the Discord bot until ``stop`` is set."""
    if not settings.discord_token:
        raise ConfigError("Discord needs CLIPBOT_DISCORD_TOKEN (see docs/discord.md)")
    async with await open_storage(settings) as storage:
        service = ClipService(storage, core_config(settings))
        await run(settings, storage, service, stop)


async def run(
    settings: Settings,
    storage: Storage,
    service: ClipService,
    stop: asyncio.Event,
    *,
    edit_interval_s: float = EDIT_INTERVAL_S,
    poll_s: float = 1.0,
    queue_every_s: float = QUEUE_TICK_S,
) -> None:
    """The bot on given services: log in, sync commands, then serve the gateway, the
    result stream and progress until ``stop`` (or until the gateway gives up).

    ``poll_s`` bounds how long the result and progress readers take to notice ``stop``.
    """
    previous_base = discord.http.Route.BASE
    if settings.discord_api_base:
        # discord.py builds every REST and webhook URL from this class attribute.
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    client = ClipClient(guild_ids=[int(g) for g in settings.discord_guild_ids])
    sink = DiscordSink(client, storage, window_s=settings.discord_token_window_s,
                       edit_interval_s=edit_interval_s)
    client.deps = Deps(service, storage, sink, settings.discord_token_window_s)
    done = asyncio.Event()  # ours: the pumps stop with the bot, not the whole process
    gateway = pump = progress = None
    try:
        # Log in before the pumps start: deliveries need the client's HTTP session.
        await client.login(settings.discord_token)
        gateway = asyncio.create_task(client.connect(), name="discord-gateway")
        results = ResultPump(storage, PLATFORM, settings.bot_id, sink)
        pump = asyncio.create_task(results.run(done, block_ms=int(poll_s * 1000)))
        # Progress and queue places are both best effort: one task, cancelled at shutdown.
        progress = asyncio.create_task(_follow(service, sink, done, poll_s, queue_every_s))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({gateway, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if gateway.done() and not stop.is_set():
            gateway.result()  # raises why the gateway ended
            log.warning("Discord gateway closed")
    finally:
        await _shutdown(client, done, pump, progress, gateway)
        discord.http.Route.BASE = previous_base


async def _follow(service: ClipService, sink: DiscordSink, done: asyncio.Event, poll_s: float,
                  queue_every_s: float) -> None:
    storage = service.storage
    await asyncio.gather(
        follow_progress(storage, PLATFORM, sink, done, poll_s),
        follow_queue(storage, PLATFORM, sink, done, service.eta, queue_every_s),
    )


async def _shutdown(
    client: ClipClient,
    done: asyncio.Event,
    pump: asyncio.Task[None] | None,
    progress: asyncio.Task[None] | None,
    gateway: asyncio.Task[None] | None,
) -> None:
    done.set()
    if progress is not None:
        progress.cancel()  # best effort by design; nothing to finish
    if pump is not None:
        # The result pump stops after the batch in hand (its read blocks for poll_s),
        # so a clip being posted is also acked; cutting it short would post it twice
        # after the restart. Past the grace period it is cut anyway: unacked events are
        # delivered again by the next start.
        _, late = await asyncio.wait({pump}, timeout=SHUTDOWN_GRACE_S)
        for task in late:
            task.cancel()
    await asyncio.gather(*(t for t in (pump, progress) if t), return_exceptions=True)
    await client.close()
    if gateway is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await gateway
