"""Connection and upload limits of the web chat (#15 items 4 and 5): a photo is refused
before its body is read when no engine takes photos; uploads read at once, connections,
header and body time, and live-update sockets per browser are all capped, each with a clear
answer. Raw sockets play the slow or greedy clients."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web

from bots.core.service import ClipService, CoreConfig
from bots.i18n import t
from bots.web.app import create_app, runner_options
from bots.web.limits import CappedSite
from bots.web.session import COOKIE
from bots.web.upload import UPLOAD_HEADER
from clipbot.settings import Settings
from storage import Storage
from tests.adapter_web.test_web_photos import announce_image_engine, user_of
from tests.adapter_web.web_helpers import GENEROUS, MakeChat

BOUNDARY = "----clipbotboundary"
DEADLINE_S = 20.0  # generous: a busy machine; the old code never answered at all


@asynccontextmanager
async def served(storage: Storage, settings: Settings) -> AsyncIterator[tuple[str, int]]:
    """The chat as ``clipbot bots --web`` runs it: its runner options and capped site."""
    app = create_app(settings, storage, ClipService(storage, CoreConfig(limits=GENEROUS)))
    # A short shutdown: lingering reads of refused bodies need not finish.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, **runner_options(settings))
    await runner.setup()
    site = CappedSite(runner, "127.0.0.1", 0, max_connections=settings.web_max_connections)
    await site.start()
    try:
        yield "127.0.0.1", site.port
    finally:
        await runner.cleanup()


async def cookie_for(host: str, port: int) -> str:
    async with aiohttp.ClientSession() as http, http.get(f"http://{host}:{port}/") as resp:
        return resp.cookies[COOKIE].value


def upload_head(host: str, port: int, cookie: str, body_len: int) -> bytes:
    return (
        f"POST /api/messages HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Cookie: {COOKIE}={cookie}\r\n{UPLOAD_HEADER}: 1\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {body_len}\r\n\r\n"
    ).encode()


def form_start(msg_id: str) -> bytes:
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n{msg_id}\r\n"
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"image\"; "
        f"filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n"
    ).encode()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), DEADLINE_S)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(x.split(":")[1]) for x in lines if x.lower().startswith("content-length"))
    body = await asyncio.wait_for(reader.readexactly(length), DEADLINE_S)
    return status, json.loads(body)


async def test_photo_refused_before_its_body_is_read(storage: Storage,
                                                     web_settings: Settings) -> None:
    async with served(storage, web_settings) as (host, port):
        cookie = await cookie_for(host, port)
        reader, writer = await asyncio.open_connection(host, port)
        # Announce 10 MB, send 1 KB of it, and wait: the answer must not need the rest.
        writer.write(upload_head(host, port, cookie, 10 * 2**20))
        writer.write(form_start(uuid.uuid4().hex) + b"\x89PNG" + b"\0" * 1020)
        await writer.drain()
        status, body = await read_response(reader)
        writer.close()
    assert (status, body["error" if "error" in body else "key"]) == (200, "image_unsupported")


async def test_uploads_read_at_once_are_capped(storage: Storage, web_settings: Settings) -> None:
    await announce_image_engine(storage)
    settings = web_settings.model_copy(update={"web_max_uploads": 2})
    async with served(storage, settings) as (host, port):
        cookie = await cookie_for(host, port)
        slow = []
        for _ in range(2):  # two uploads that trickle: they hold both slots
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(upload_head(host, port, cookie, 5 * 2**20))
            writer.write(form_start(uuid.uuid4().hex))
            await writer.drain()
            slow.append((reader, writer))
        await asyncio.sleep(0.3)
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(upload_head(host, port, cookie, 5 * 2**20) + form_start("x" * 12))
        await writer.drain()
        status, body = await read_response(reader)
        assert (status, body["error"]) == (503, "web_busy")
        assert body["text"] == t("en", "web_busy")
        writer.close()
        for _, w in slow:
            w.close()


async def test_half_sent_headers_are_dropped(storage: Storage, web_settings: Settings) -> None:
    settings = web_settings.model_copy(update={"web_header_timeout_s": 1.0})
    async with served(storage, settings) as (host, port):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")

        async def trickle() -> None:
            while not writer.is_closing():
                writer.write(b"X-Slow: 1\r\n")
                await asyncio.sleep(0.2)

        feeding = asyncio.create_task(trickle())
        try:
            assert await asyncio.wait_for(reader.read(), DEADLINE_S) == b""  # closed on us
        finally:
            feeding.cancel()
            writer.close()


async def test_slow_body_gets_a_timeout_answer(storage: Storage, web_settings: Settings) -> None:
    settings = web_settings.model_copy(update={"web_body_timeout_s": 1.0})
    async with served(storage, settings) as (host, port):
        cookie = await cookie_for(host, port)
        reader, writer = await asyncio.open_connection(host, port)
        writer.write((
            f"POST /api/messages HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Cookie: {COOKIE}={cookie}\r\nContent-Type: application/json\r\n"
            "Accept-Language: fr\r\nContent-Length: 200\r\n\r\n{\"id\": "
        ).encode())
        await writer.drain()
        status, body = await read_response(reader)
        writer.close()
    assert (status, body["error"]) == (408, "web_too_slow")
    assert body["text"] == t("fr", "web_too_slow")


async def test_connections_over_the_cap_get_503(storage: Storage, web_settings: Settings) -> None:
    settings = web_settings.model_copy(update={"web_max_connections": 5})
    async with served(storage, settings) as (host, port):
        idle = [await asyncio.open_connection(host, port) for _ in range(5)]
        await asyncio.sleep(0.2)
        reader, writer = await asyncio.open_connection(host, port)
        status, body = await read_response(reader)
        assert (status, body["error"]) == (503, "web_busy")
        writer.close()
        for _, w in idle:
            w.close()

        async def healthy() -> None:
            while True:
                async with aiohttp.ClientSession() as http, \
                        http.get(f"http://{host}:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
                await asyncio.sleep(0.1)

        await asyncio.wait_for(healthy(), DEADLINE_S)


async def test_live_sockets_per_browser_are_capped(make_chat: MakeChat) -> None:
    chat = await make_chat(web_max_sockets_per_session=3)
    browser = await chat.browser()
    other = await chat.browser()
    sockets = [await browser.ws_connect("/api/events") for _ in range(3)]
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await browser.ws_connect("/api/events")
    assert exc.value.status == 429
    assert user_of(browser) != user_of(other)
    await (await other.ws_connect("/api/events")).close()  # another browser is not affected
    await sockets[0].close()

    async def reopen() -> None:
        while True:
            try:
                await (await browser.ws_connect("/api/events")).close()
                return
            except aiohttp.WSServerHandshakeError:
                await asyncio.sleep(0.05)

    await asyncio.wait_for(reopen(), DEADLINE_S)
    for ws in sockets[1:]:
        await ws.close()
