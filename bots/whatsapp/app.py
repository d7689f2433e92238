"""Assembly point of the WhatsApp Cloud API bot (``clipbot bots --whatsapp``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bots.core.pumps import PumpConfig, pumps
from bots.core.service import ClipService
from bots.core.wiring import core_config
from bots.whatsapp.conversation import PLATFORM, Conversation
from bots.whatsapp.delivery import WhatsAppSink
from bots.whatsapp.graph import GraphClient
from bots.whatsapp.server import WEBHOOK_PATH, WebhookServer
from bots.whatsapp.state import ChatState
from clipbot.errors import ConfigError
from clipbot.settings import Settings
from clipbot.wiring import open_storage
from storage import Storage

log = logging.getLogger("clipbot.whatsapp")

_REQUIRED = ("whatsapp_token", "whatsapp_app_secret", "whatsapp_verify_token",
             "whatsapp_phone_number_id")


def check_settings(settings: Settings) -> None:
    missing = [f"CLIPBOT_{name.upper()}" for name in _REQUIRED if not getattr(settings, name)]
    if missing:
        raise ConfigError("WhatsApp needs " + ", ".join(missing) + " (see docs/whatsapp.md)")


@contextlib.asynccontextmanager
async def running(settings: Settings, storage: Storage, *, host: str, port: int
                  ) -> AsyncIterator[str]:
    """Webhook server, result delivery and typing indicators; yields the webhook URL."""
    check_settings(settings)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        graph = GraphClient(
            session, base_url=settings.whatsapp_graph_url, version=settings.whatsapp_api_version,
            phone_number_id=settings.whatsapp_phone_number_id, token=settings.whatsapp_token,
        )
        state = ChatState(storage.redis, storage.keys)
        talk = Conversation(ClipService(storage, core_config(settings)), graph, state,
                            default_locale=settings.default_locale)
        server = WebhookServer(app_secret=settings.whatsapp_app_secret,
                               verify_token=settings.whatsapp_verify_token, handler=talk.handle,
                               max_age_s=settings.whatsapp_max_age_s)
        sink = WhatsAppSink(storage, graph, state)
        async with pumps(storage, PLATFORM, sink, PumpConfig(settings.bot_id)):
            runner = web.AppRunner(server.app(), access_log=None)
            await runner.setup()
            try:
                site = web.TCPSite(runner, host, port)
                await site.start()
                bound_host, bound_port = runner.addresses[0][:2]
                log.info("WhatsApp webhook listening on %s:%d%s", bound_host, bound_port,
                         WEBHOOK_PATH)
                yield f"http://{bound_host}:{bound_port}{WEBHOOK_PATH}"
            finally:
                await runner.shutdown()
                await server.drain()
                await runner.cleanup()


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set (put public HTTPS in front: Meta only calls https URLs)."""
    check_settings(settings)
    async with await open_storage(settings) as storage, running(
        settings, storage, host=settings.whatsapp_host, port=settings.whatsapp_port
    ):
        await stop.wait()
