"""Assembly point of the Telegram bot (``clipbot bots --telegram``)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application

from bots.core.pumps import PumpConfig, pumps
from bots.core.service import ClipService
from bots.core.waiting import QUEUE_TICK_S
from bots.core.wiring import core_config
from bots.i18n import DEFAULT, available
from bots.telegram.delivery import UPLOAD_TIMEOUT_S, TelegramSink, with_flood_control
from bots.telegram.handlers import Handlers
from bots.telegram.parse import PLATFORM
from bots.telegram.state import TelegramState
from bots.telegram.texts import menu
from bots.telegram.webhook import WebhookServer
from clipbot.errors import ConfigError
from clipbot.settings import Settings
from clipbot.wiring import open_storage
from storage import Storage

log = logging.getLogger("clipbot.telegram")
CONCURRENT_UPDATES = 64

ALLOWED_UPDATES = ["message", "callback_query"]


def check_settings(settings: Settings) -> None:
    if not settings.telegram_token:
        raise ConfigError("Telegram needs CLIPBOT_TELEGRAM_TOKEN (see docs/telegram.md)")
    if settings.telegram_webhook_url and not settings.telegram_webhook_secret:
        raise ConfigError("webhook mode needs CLIPBOT_TELEGRAM_WEBHOOK_SECRET, so that only "
                          "Telegram can post updates to it")


def build_application(settings: Settings) -> Application:
    builder = (
        Application.builder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .media_write_timeout(UPLOAD_TIMEOUT_S)
        .job_queue(None)
        # Updates are independent (idempotency lives in Redis): handle them side by side.
        # One at a time capped answers at ~18/s with a 50 ms Bot API round trip.
        .concurrent_updates(CONCURRENT_UPDATES)
    )
    if settings.telegram_webhook_url:
        builder = builder.updater(None)
    return builder.build()


async def set_menu(bot: Bot) -> None:
    """The command menu in every supported language (Telegram picks by the app's language)."""
    for lang in available():
        commands = [BotCommand(name, text) for name, text in menu(lang)]
        code = None if lang == DEFAULT else lang
        try:
            await with_flood_control(partial(bot.set_my_commands, commands, language_code=code))
        except TelegramError as exc:  # cosmetic: never stop the bot for it
            log.warning("setMyCommands(%s) failed: %s", lang, exc)


@dataclass(frozen=True)
class Running:
    app: Application
    webhook_url: str = ""  # where the webhook listens (webhook mode only)


@contextlib.asynccontextmanager
async def running(
    settings: Settings,
    storage: Storage,
    *,
    webhook_host: str | None = None,  # None: CLIPBOT_TELEGRAM_WEBHOOK_HOST (loopback)
    webhook_port: int | None = None,
    edit_interval_s: float = 4.0,
    poll_timeout_s: float = 10.0,
    queue_every_s: float = QUEUE_TICK_S,
) -> AsyncIterator[Running]:
    """The bot fetching updates (polling, or a webhook server), plus result delivery."""
    check_settings(settings)
    app = build_application(settings)
    state = TelegramState(storage.redis, storage.keys)
    service = ClipService(storage, core_config(settings))
    async with contextlib.AsyncExitStack() as stack:
        await app.initialize()  # getMe: fails fast on a wrong token or base URL
        stack.push_async_callback(app.shutdown)
        Handlers(service, state, app.bot, default_locale=settings.default_locale).install(app)
        await set_menu(app.bot)
        await app.start()
        stack.push_async_callback(app.stop)
        sink = TelegramSink(app.bot, storage, state, edit_interval_s=edit_interval_s,
                            upload_limit_bytes=settings.telegram_upload_limit_mb * 1_000_000)
        await stack.enter_async_context(pumps(storage, PLATFORM, sink, PumpConfig(
            settings.bot_id, eta=service.eta, queue_every_s=queue_every_s, idle=sink.idle)))
        url = ""
        if settings.telegram_webhook_url:
            port = settings.telegram_webhook_port if webhook_port is None else webhook_port
            host = settings.telegram_webhook_host if webhook_host is None else webhook_host
            url = await stack.enter_async_context(_webhook(app, settings, host, port))
        else:
            assert app.updater is not None
            await app.updater.start_polling(
                timeout=dtm.timedelta(seconds=poll_timeout_s), allowed_updates=ALLOWED_UPDATES)
            stack.push_async_callback(app.updater.stop)
        log.info("Telegram bot @%s running (%s)", app.bot.username,
                 "webhook" if url else "polling")
        yield Running(app, url)


@contextlib.asynccontextmanager
async def _webhook(app: Application, settings: Settings, host: str, port: int
                   ) -> AsyncIterator[str]:
    path = urlsplit(settings.telegram_webhook_url).path or "/"

    async def accept(data: dict[str, Any]) -> None:
        update = Update.de_json(data, app.bot)
        if update is not None:
            await app.update_queue.put(update)

    server = WebhookServer(path, settings.telegram_webhook_secret, accept)
    runner = web.AppRunner(server.app(), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        bound_host, bound_port = runner.addresses[0][:2]
        await app.bot.set_webhook(settings.telegram_webhook_url,
                                  secret_token=settings.telegram_webhook_secret,
                                  allowed_updates=ALLOWED_UPDATES)
        yield f"http://{bound_host}:{bound_port}{path}"
    finally:
        await runner.cleanup()


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set."""
    check_settings(settings)
    # httpx logs each request URL at INFO, and Bot API URLs contain the bot token.
    httpx_log = logging.getLogger("httpx")
    httpx_log.setLevel(max(logging.WARNING, httpx_log.getEffectiveLevel()))
    async with await open_storage(settings) as storage, running(settings, storage):
        await stop.wait()
