"""A local stand-in for Meta's Graph API (WhatsApp Cloud API), at the HTTP level.

Speaks the documented shapes: POST /{version}/{phone-number-id}/messages, multipart
POST /{version}/{phone-number-id}/media, GET /{version}/{media-id} -> a URL, and that URL
(bearer token required) -> the bytes. Everything received is recorded for assertions.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

VIDEO_LIMIT = 16 * 1000 * 1000


@dataclass
class Media:
    data: bytes
    mime: str
    filename: str = ""


@dataclass
class FakeGraph:
    version: str
    phone_number_id: str
    token: str
    messages: list[dict[str, Any]] = field(default_factory=list)  # sent to users
    reads: list[dict[str, Any]] = field(default_factory=list)  # read receipts / typing
    media: dict[str, Media] = field(default_factory=dict)
    uploads: list[dict[str, str]] = field(default_factory=list)  # form fields per upload
    # Recipients whose 24-hour window Meta considers closed (error 131047).
    closed_windows: set[str] = field(default_factory=set)
    report_sizes: bool = True  # False: omit file_size, as a client must not rely on it
    refused_uploads: set[str] = field(default_factory=set)  # MIME types uploads fail for
    url: str = ""
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None

    # ---- lifecycle --------------------------------------------------------------------
    async def start(self) -> FakeGraph:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        v, phone = self.version, self.phone_number_id
        app.router.add_post(f"/{v}/{phone}/messages", self._messages)
        app.router.add_post(f"/{v}/{phone}/media", self._upload)
        app.router.add_get(f"/{v}/{{media_id}}", self._media_info)
        app.router.add_get("/whatsapp_business/attachments/{media_id}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- test helpers -----------------------------------------------------------------
    def add_media(self, data: bytes, mime: str) -> str:
        """Media a user sent (Meta stores it and puts its id in the webhook)."""
        media_id = str(900000 + next(self._ids))
        self.media[media_id] = Media(data, mime)
        return media_id

    def to(self, wa_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["to"] == wa_id and kind in (None, m["type"])]

    def texts(self, wa_id: str) -> list[str]:
        return [m["text"]["body"] for m in self.to(wa_id, "text")]

    async def wait_for(self, check: Callable[[], Any], timeout: float = 30.0) -> Any:
        async def poll() -> Any:
            while not (result := check()):
                await asyncio.sleep(0.02)
            return result

        return await asyncio.wait_for(poll(), timeout)

    # ---- handlers ---------------------------------------------------------------------
    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def _messages(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, 190, "Invalid OAuth access token.")
        body = await request.json()
        if body.get("messaging_product") != "whatsapp":
            return _error(400, 100, "messaging_product must be whatsapp")
        if body.get("status") == "read":
            self.reads.append(body)
            return web.json_response({"success": True})
        problem = _check_message(body)
        if problem:
            return _error(400, 100, problem)
        if body["to"] in self.closed_windows:
            return _error(400, 131047, "Re-engagement message")
        self.messages.append(body)
        return web.json_response({
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": body["to"]}],
            "messages": [{"id": f"wamid.fake{next(self._ids)}"}],
        })

    async def _upload(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, 190, "Invalid OAuth access token.")
        fields: dict[str, str] = {}
        file: Media | None = None
        async for part in await request.multipart():
            if part.name == "file":
                mime = part.headers.get("Content-Type", "")
                file = Media(bytes(await part.read()), mime, part.filename or "")
            elif part.name:
                fields[part.name] = await part.text()
        if fields.get("messaging_product") != "whatsapp" or file is None:
            return _error(400, 100, "messaging_product and file are required")
        if file.mime in self.refused_uploads:
            return _error(400, 131053, f"Media upload error: {file.mime} refused")
        if file.mime == "video/mp4" and len(file.data) > VIDEO_LIMIT:
            return _error(400, 131053, "Media upload error: file too large")
        media_id = str(700000 + next(self._ids))
        self.media[media_id] = file
        self.uploads.append(fields)
        return web.json_response({"id": media_id})

    async def _media_info(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, 190, "Invalid OAuth access token.")
        media_id = request.match_info["media_id"]
        media = self.media.get(media_id)
        if media is None:
            return _error(404, 100, "Unsupported get request.")
        info = {
            "messaging_product": "whatsapp",
            "url": f"{self.url}/whatsapp_business/attachments/{media_id}",
            "mime_type": media.mime,
            "sha256": hashlib.sha256(media.data).hexdigest(),
            "file_size": len(media.data),
            "id": media_id,
        }
        if not self.report_sizes:
            del info["file_size"]
        return web.json_response(info)

    async def _download(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.Response(status=401)
        media = self.media.get(request.match_info["media_id"])
        if media is None:
            return web.Response(status=404)
        return web.Response(body=media.data, content_type=media.mime)


def _check_message(body: dict[str, Any]) -> str:
    """Enough of Meta's validation to catch malformed messages from the adapter."""
    kind = body.get("type")
    if not body.get("to") or kind not in body:
        return "to and a body for the type are required"
    if kind == "text" and not body["text"].get("body"):
        return "text.body is required"
    if kind == "video" and not (body["video"].get("id") or body["video"].get("link")):
        return "video.id or video.link is required"
    if kind == "document":
        return _check_document(body["document"])
    if kind == "interactive":
        inter = body["interactive"]
        buttons = inter.get("action", {}).get("buttons", [])
        if inter.get("type") != "button" or not 1 <= len(buttons) <= 3:
            return "interactive button messages need 1-3 buttons"
        if len(inter.get("body", {}).get("text", "")) > 1024:
            return "body text too long"
        for b in buttons:
            reply = b.get("reply", {})
            if b.get("type") != "reply" or not reply.get("id") or len(reply.get("id")) > 256:
                return "bad button id"
            if not reply.get("title") or len(reply["title"]) > 20:
                return "button titles are 1-20 characters"
    return ""


def _check_document(doc: dict[str, Any]) -> str:
    if not (doc.get("id") or doc.get("link")):
        return "document.id or document.link is required"
    if len(doc.get("caption", "")) > 1024:
        return "document caption too long"
    return ""


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "OAuthException", "code": code,
                   "fbtrace_id": "fake"}},
        status=status,
    )
