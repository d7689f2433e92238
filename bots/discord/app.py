"""Assembly point of ``clipbot bots --discord``."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord.http

from bots.core.pumps import PumpConfig, pumps
from bots.core.service import ClipService
from bots.core.waiting import QUEUE_TICK_S
from bots.core.wiring import core_config
from bots.discord.client import ClipClient
from bots.discord.commands import commands
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
    result stream, progress and queue places until ``stop`` (or until the gateway gives up).

    ``poll_s`` bounds how long the result and progress readers take to notice ``stop``.
    """
    previous_base = discord.http.Route.BASE
    if settings.discord_api_base:
        # discord.py builds every REST and webhook URL from this class attribute.
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    client = ClipClient(guild_ids=[int(g) for g in settings.discord_guild_ids])
    sink = DiscordSink(client, storage, window_s=settings.discord_token_window_s,
                       edit_interval_s=edit_interval_s)
    client.deps = Deps(service, storage, sink, settings.discord_token_window_s,
                       commands(service), settings.default_locale)
    gateway: asyncio.Task[None] | None = None
    config = PumpConfig(settings.bot_id, eta=service.eta, queue_every_s=queue_every_s,
                        poll_s=poll_s, grace_s=SHUTDOWN_GRACE_S)
    try:
        # Log in before the pumps start: deliveries need the client's HTTP session.
        await client.login(settings.discord_token)
        async with pumps(storage, PLATFORM, sink, config):
            gateway = asyncio.create_task(client.connect(), name="discord-gateway")
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({gateway, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if gateway.done() and not stop.is_set():
                gateway.result()  # raises why the gateway ended
                log.warning("Discord gateway closed")
    finally:
        # The pumps stopped first (a clip being posted is finished and acked, or cut
        # after the grace period and delivered again by the next start).
        await client.close()
        if gateway is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await gateway
        discord.http.Route.BASE = previous_base
