"""A small Graph API client for the WhatsApp Cloud API (aiohttp), only what clipbot sends.

Base URL and version come from settings so tests (and proxies) can point it elsewhere.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp

log = logging.getLogger("clipbot.whatsapp")

# Meta's error code for "more than 24 hours since the customer last wrote" (re-engagement).
OUTSIDE_WINDOW = 131047
MAX_BUTTON_TITLE = 20  # characters, Meta's limit for reply-button titles
MAX_CAPTION = 1024


class GraphError(RuntimeError):
    """The Graph API refused a call. ``code`` is Meta's error code when it sent one."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(f"Graph API {status} (code {code}): {message}")
        self.status = status
        self.code = code

    @property
    def outside_window(self) -> bool:
        return self.code == OUTSIDE_WINDOW


class GraphClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        version: str,
        phone_number_id: str,
        token: str,
    ) -> None:
        self.session = session
        self.root = f"{base_url.rstrip('/')}/{version.strip('/')}"
        self.phone_number_id = phone_number_id
        self._auth = {"Authorization": f"Bearer {token}"}

    # ---- messages ---------------------------------------------------------------------
    async def send(self, to: str, kind: str, body: dict[str, Any]) -> str:
        """Send one message of ``kind`` ('text', 'video', 'document', 'interactive');
        returns its wamid."""
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual",
                   "to": to, "type": kind, kind: body}
        data = await self._post_json(f"{self.phone_number_id}/messages", payload)
        messages = data.get("messages") or [{}]
        return str(messages[0].get("id", ""))

    async def send_text(self, to: str, text: str) -> str:
        return await self.send(to, "text", {"body": text, "preview_url": False})

    async def send_video(self, to: str, media_id: str, caption: str) -> str:
        return await self.send(to, "video", {"id": media_id, "caption": caption[:MAX_CAPTION]})

    async def send_document(self, to: str, media_id: str, filename: str, caption: str) -> str:
        return await self.send(to, "document", {"id": media_id, "filename": filename,
                                                "caption": caption[:MAX_CAPTION]})

    async def send_buttons(self, to: str, text: str, buttons: list[tuple[str, str]]) -> str:
        """Up to three reply buttons as (id, title) under ``text``."""
        action = {"buttons": [
            {"type": "reply", "reply": {"id": bid, "title": title[:MAX_BUTTON_TITLE]}}
            for bid, title in buttons[:3]
        ]}
        return await self.send(to, "interactive", {
            "type": "button", "body": {"text": text[:MAX_CAPTION]}, "action": action,
        })

    async def mark_read(self, message_id: str, *, typing: bool = True) -> None:
        """Blue ticks on the user's message, plus the typing indicator (up to 25 s)."""
        payload: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read",
                                   "message_id": message_id}
        if typing:
            payload["typing_indicator"] = {"type": "text"}
        await self._post_json(f"{self.phone_number_id}/messages", payload)

    # ---- media ------------------------------------------------------------------------
    async def upload(self, data: bytes, mime: str, filename: str) -> str:
        """Upload a file (multipart) and return its media id (kept by Meta for 30 days)."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime)
        form.add_field("file", data, filename=filename, content_type=mime)
        async with self.session.post(f"{self.root}/{self.phone_number_id}/media",
                                     data=form, headers=self._auth) as resp:
            body = await _json(resp)
        return str(body["id"])

    async def download(self, media_id: str, max_bytes: int) -> tuple[bytes, str]:
        """A user's media: look up its short-lived URL, then fetch it with the token."""
        async with self.session.get(f"{self.root}/{media_id}", headers=self._auth) as resp:
            meta = await _json(resp)
        if int(meta.get("file_size") or 0) > max_bytes:
            raise GraphError(413, None, "media larger than allowed")
        data = bytearray()
        async with self.session.get(meta["url"], headers=self._auth) as resp:
            if resp.status != 200:
                raise GraphError(resp.status, None, "media download failed")
            async for chunk in resp.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > max_bytes:  # file_size may be missing or wrong
                    raise GraphError(413, None, "media larger than allowed")
        return bytes(data), str(meta.get("mime_type", ""))

    async def _post_json(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        async with self.session.post(f"{self.root}/{path}", json=payload,
                                     headers=self._auth) as resp:
            return await _json(resp)


async def _json(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    text = await resp.text()
    try:
        data = json.loads(text) if text else {}
    except json.JSONDecodeError:
        data = {}
    if resp.status >= 400 or "error" in data:
        err = data.get("error") or {}
        raise GraphError(resp.status, err.get("code"), str(err.get("message", text[:200])))
    return data
