"""Webhook mode: Telegram POSTs updates to us; the secret header is checked in constant time."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger("clipbot.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1024 * 1024  # an update is a few KB; refuse anything absurd


def secret_ok(given: str | None, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest((given or "").encode(), expected.encode())


class WebhookServer:
    """An aiohttp app accepting Telegram's POSTs at ``path`` and handing each update on."""

    def __init__(self, path: str, secret: str,
                 accept: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        self.path = path or "/"
        self.secret = secret
        self.accept = accept

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(self.path, self._update)
        return app

    async def _update(self, request: web.Request) -> web.Response:
        if not secret_ok(request.headers.get(SECRET_HEADER), self.secret):
            log.warning("webhook call with a wrong secret token from %s", request.remote)
            return web.Response(status=403)
        try:
            data = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400)
        if not isinstance(data, dict) or "update_id" not in data:
            return web.Response(status=400)
        await self.accept(data)
        return web.Response(status=200)
