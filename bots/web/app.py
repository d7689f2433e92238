"""Assembly point of the web chat: ``clipbot bots --web`` runs ``serve``; tests use
``create_app`` with their own storage and service."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, web

from bots.core.commands import Commands, Style
from bots.core.pumps import PumpConfig, pumps
from bots.core.service import ClipService
from bots.core.wiring import core_config
from bots.web import clips, limits, live, routes
from bots.web.context import CTX, SOCKETS, WebContext
from bots.web.events import EventHub, WebSink, watch_queue
from bots.web.login import LOGIN_LIMIT, TRUST_FORWARDED
from bots.web.middleware import guard
from bots.web.session import SessionSigner, load_secret
from clipbot.settings import Settings
from clipbot.wiring import open_storage
from storage import Storage
from storage.ratelimit import Limit, RateLimiter

log = logging.getLogger("clipbot.web")
STATIC = Path(__file__).parent / "static"
MAX_BODY = 16 * 1024  # a prompt is at most a few KB of JSON
SHUTDOWN_GRACE_S = 0.2


def create_app(settings: Settings, storage: Storage, service: ClipService) -> web.Application:
    """The chat as an aiohttp application, delivering results while it runs."""
    secret = load_secret(settings.web_secret, settings.model_cache)
    hub = EventHub()
    app = web.Application(middlewares=[guard], client_max_size=MAX_BODY)
    app[CTX] = WebContext(
        storage=storage,
        service=service,
        # The browser keeps its language in a cookie (set from ``Reply.lang``).
        commands=Commands(service, style=Style(always_file=True)),
        signer=SessionSigner(secret, settings.web_password),
        hub=hub,
        index_html=(STATIC / "index.html").read_text(encoding="utf-8"),
        max_body=MAX_BODY,
        body_timeout_s=settings.web_body_timeout_s,
    )
    app[SOCKETS] = weakref.WeakSet()
    window = settings.web_login_window_s
    app[LOGIN_LIMIT] = RateLimiter(
        storage.redis, storage.keys, "login",
        per_client=Limit(settings.web_login_attempts, window),
        overall=Limit(settings.web_login_global_attempts, window),
    )
    app[TRUST_FORWARDED] = settings.web_trust_forwarded_for
    limits.install(app, max_uploads=settings.web_max_uploads,
                   sockets_per_session=settings.web_max_sockets_per_session)
    r = app.router
    r.add_get("/", routes.index)
    r.add_get("/healthz", routes.healthz)
    r.add_get("/api/boot", routes.boot)
    r.add_post("/api/login", routes.login)
    r.add_post("/api/messages", routes.message)
    r.add_get("/api/history", routes.history)
    r.add_get(routes.MYDATA_PATH, routes.mydata)
    r.add_get("/api/jobs/{job_id}", routes.job)
    r.add_post("/api/jobs/{job_id}/again", routes.again)
    r.add_post("/api/jobs/{job_id}/cancel", routes.cancel)
    r.add_get("/api/events", live.events)
    r.add_get("/clips/{job_id}", clips.clip)
    r.add_get("/clips/{job_id}/thumb", clips.thumb)
    r.add_static("/static/", STATIC, follow_symlinks=False)
    app.cleanup_ctx.append(_background(settings.bot_id))
    app.on_shutdown.append(_close_sockets)
    return app


def _background(bot_id: str):
    async def run(app: web.Application) -> AsyncIterator[None]:
        c = app[CTX]
        sink = WebSink(c.storage, c.hub)

        async def watch(stop: asyncio.Event) -> None:
            await watch_queue(c.storage, c.hub, c.service.eta, stop)

        # Cutting a pump mid-delivery only means the browser may hear about a clip twice:
        # the charge is committed by one atomic script either way.
        config = PumpConfig(f"{bot_id}-web", grace_s=SHUTDOWN_GRACE_S, followers=(watch,))
        async with pumps(c.storage, "web", sink, config):
            yield

    return run


async def _close_sockets(app: web.Application) -> None:
    sockets = app[SOCKETS]
    for ws in list(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY)


def runner_options(settings: Settings) -> dict[str, Any]:
    """What ``web.AppRunner`` needs for the chat's limits. aiohttp closes a connection that
    has not sent a whole request within ``keepalive_timeout`` of opening (or of its last
    answer): that is the header timeout."""
    return {"keepalive_timeout": settings.web_header_timeout_s}


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run the web chat on ``web_host:web_port`` until ``stop`` is set."""
    async with await open_storage(settings) as storage:
        service = ClipService(storage, core_config(settings))
        app = create_app(settings, storage, service)
        runner = web.AppRunner(app, access_log=None, **runner_options(settings))
        await runner.setup()
        try:
            site = limits.CappedSite(runner, settings.web_host, settings.web_port,
                                     max_connections=settings.web_max_connections)
            await site.start()
            print(f"web chat ready on http://{settings.web_host}:{settings.web_port}",
                  flush=True)
            await stop.wait()
        finally:
            await runner.cleanup()
