"""The WebSocket that carries live job updates to one browser tab.

Server -> browser: ``{"type": "job", "job": <job view>}``, ``{"type": "pong"}``,
``{"type": "error", "error": key, "text": ...}``.
Browser -> server (all optional): ``{"type": "ping"}``, ``{"type": "lang", "lang": "ar"}``.
Anything else gets a polite error frame and changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import WSMsgType, web

from bots.core.service import Who
from bots.i18n import available
from bots.web.context import SOCKETS, ctx, error_body, who
from bots.web.events import Subscriber
from bots.web.limits import socket_slot
from bots.web.views import job_view

MAX_FRAME = 4096
HEARTBEAT_S = 25.0


async def events(request: web.Request) -> web.WebSocketResponse:
    person = who(request)  # 401 before the upgrade without a valid session cookie
    with socket_slot(request, person.user):  # 429 before the upgrade past the cap
        return await _serve(request, person)


async def _serve(request: web.Request, person: Who) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_FRAME)
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    hub = ctx(request).hub
    sub = hub.subscribe(person.user, person.locale)
    sender = asyncio.create_task(_send_updates(ws, sub))
    try:
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                await _incoming(ws, sub, msg.data)
            elif msg.type is WSMsgType.BINARY:
                await ws.send_json(error_body(sub.locale, "web_bad_frame") | {"type": "error"})
    finally:
        hub.unsubscribe(sub)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    return ws


async def _send_updates(ws: web.WebSocketResponse, sub: Subscriber) -> None:
    while not ws.closed:
        update = await sub.queue.get()
        with contextlib.suppress(ConnectionError):
            await ws.send_json({"type": "job", "job": job_view(update, sub.locale)})


async def _incoming(ws: web.WebSocketResponse, sub: Subscriber, data: str) -> None:
    frame = _parse(data)
    kind = frame.get("type") if frame else None
    if kind == "ping":
        await ws.send_json({"type": "pong"})
    elif kind == "lang" and frame and frame.get("lang") in available():
        sub.locale = frame["lang"]
        await ws.send_json({"type": "lang", "lang": sub.locale})
    else:
        await ws.send_json(error_body(sub.locale, "web_bad_frame") | {"type": "error"})


def _parse(data: str) -> dict[str, Any] | None:
    try:
        frame = json.loads(data)
    except ValueError:
        return None
    return frame if isinstance(frame, dict) else None
