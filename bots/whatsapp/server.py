"""The webhook endpoint: Meta's GET handshake and signed POST events.

POSTs are answered 200 as soon as the signature checks out; the messages are handled in
background tasks so Meta never waits on Redis or the Graph API (it retries slow webhooks).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bots.whatsapp import webhook
from bots.whatsapp.webhook import Inbound, PayloadError

log = logging.getLogger("clipbot.whatsapp")

WEBHOOK_PATH = "/webhook"
MAX_BODY_BYTES = 1024 * 1024  # Meta's payloads are a few KiB; anything near this is not Meta
DEFAULT_MAX_AGE_S = 36 * 3600  # clipbot.settings.whatsapp_max_age_s

Handler = Callable[[Inbound], Awaitable[None]]


class WebhookServer:
    def __init__(self, *, app_secret: str, verify_token: str, handler: Handler,
                 max_age_s: float = DEFAULT_MAX_AGE_S) -> None:
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.handler = handler
        self.max_age_s = max_age_s
        self._tasks: set[asyncio.Task[None]] = set()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_get(WEBHOOK_PATH, self.verify)
        app.router.add_post(WEBHOOK_PATH, self.receive)
        return app

    async def verify(self, request: web.Request) -> web.Response:
        answer = webhook.challenge(request.query, self.verify_token)
        if answer is None:
            log.warning("webhook verification refused (wrong mode or verify token)")
            return web.Response(status=403, text="forbidden")
        return web.Response(text=answer)

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()  # over client_max_size: aiohttp answers 413
        header = request.headers.get(webhook.SIGNATURE_HEADER)
        if not webhook.signature_ok(self.app_secret, body, header):
            log.warning("webhook rejected: %s signature from %s (%d bytes)",
                        "bad" if header else "missing", request.remote, len(body))
            return web.Response(status=401, text="bad signature")
        try:
            messages = webhook.parse(body)
        except PayloadError as exc:
            # Signed by Meta but not a shape we know: answering 200 stops endless retries.
            log.warning("signed webhook we cannot read: %s", exc)
            return web.Response(text="ok")
        now = time.time()
        for msg in messages:
            if webhook.too_old(msg, now, self.max_age_s):
                log.warning("refused a WhatsApp message %s old (over %d s): a replay or a "
                            "very late retry", _age(msg, now), self.max_age_s)
                continue
            task = asyncio.create_task(self._handle(msg))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return web.Response(text="ok")

    async def _handle(self, msg: Inbound) -> None:
        try:
            await self.handler(msg)
        except Exception:
            log.exception("handling WhatsApp message failed", extra={"user": msg.sender})

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Let messages already accepted finish (on shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)


def _age(msg: Inbound, now: float) -> str:
    return f"{int(now - msg.timestamp)} s" if msg.timestamp > 0 else "(no timestamp)"
