"""Connection-level limits of the web chat: a cap on open connections (over it, a new
connection gets a 503 and is closed before anything is parsed), a cap on photo uploads read
at once, and a cap on live-update sockets per browser session."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator

from aiohttp import web

from bots.i18n import t
from bots.web.context import ApiError

UPLOAD_SLOTS = web.AppKey("clipbot_upload_slots", asyncio.Semaphore)
HOLDS_SLOT = web.RequestKey("clipbot_holds_upload_slot", bool)
SOCKETS_PER_SESSION = web.AppKey("clipbot_sockets_per_session", int)
OPEN_SOCKETS = web.AppKey("clipbot_open_sockets", Counter)
RETRY_AFTER_S = 5


def _busy_response() -> bytes:
    # Nothing of the request has been read, so no language is known: English, plus the key
    # a page can translate.
    body = json.dumps({"error": "web_busy", "text": t("en", "web_busy")}).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nRetry-After: {RETRY_AFTER_S}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


class _Busy(asyncio.Protocol):
    """Answers one 503 and hangs up: what a connection over the cap gets."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(_busy_response())
        transport.close()


class CappedSite(web.TCPSite):
    """A TCP site that serves at most ``max_connections`` connections at once."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *,
                 max_connections: int) -> None:
        super().__init__(runner, host, port)
        self.max_connections = max_connections

    async def start(self) -> None:
        # TCPSite.start with the protocol factory wrapped (aiohttp has no connection cap).
        self._runner._reg_site(self)
        server = self._runner.server
        assert server is not None

        def factory() -> asyncio.Protocol:
            if len(server.connections) >= self.max_connections:
                return _Busy()
            return server()

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(factory, self._host, self._port,
                                                backlog=self._backlog)
        self._bound_port = self._server.sockets[0].getsockname()[1]


def install(app: web.Application, *, max_uploads: int, sockets_per_session: int) -> None:
    app[UPLOAD_SLOTS] = asyncio.Semaphore(max_uploads)
    app[SOCKETS_PER_SESSION] = sockets_per_session
    app[OPEN_SOCKETS] = Counter()


async def take_upload_slot(request: web.Request) -> None:
    """One of the photo-upload slots, held until the request is answered (its bytes live
    that long), or 503: never a queue, where a waiting upload would hold its connection.
    Taken just before the body is read, so a photo refused without reading costs none."""
    slots = request.app[UPLOAD_SLOTS]
    if slots.locked():
        raise ApiError(503, "web_busy")
    await slots.acquire()
    request[HOLDS_SLOT] = True


@contextlib.asynccontextmanager
async def upload_slots_released(request: web.Request) -> AsyncIterator[None]:
    """Gives back the slot ``take_upload_slot`` took for this request, however it ends."""
    try:
        yield
    finally:
        if request.get(HOLDS_SLOT):
            request[HOLDS_SLOT] = False
            request.app[UPLOAD_SLOTS].release()


@contextlib.contextmanager
def socket_slot(request: web.Request, user: str) -> Iterator[None]:
    """One of the live-update sockets of ``user``, or 429 before the upgrade."""
    counts = request.app[OPEN_SOCKETS]
    if counts[user] >= request.app[SOCKETS_PER_SESSION]:
        raise ApiError(429, "web_too_many_tabs")
    counts[user] += 1
    try:
        yield
    finally:
        counts[user] -= 1
        if counts[user] <= 0:
            del counts[user]
