"""Webhook bodies shaped like Meta's documented examples (messages webhook reference),
and their signatures computed here independently of the adapter's code."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550783881"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{
            "id": WABA_ID,
            "changes": [{
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": DISPLAY_NUMBER,
                                 "phone_number_id": PHONE_NUMBER_ID},
                    **value,
                },
                "field": "messages",
            }],
        }],
    }


def _message(wa_id: str, wamid: str, kind: str, content: dict[str, Any],
             ts: int | None = None, **extra: Any) -> dict[str, Any]:
    return envelope({
        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": wa_id}],
        "messages": [{
            "from": wa_id, "id": wamid, "timestamp": str(ts or int(time.time())),
            "type": kind, kind: content, **extra,
        }],
    })


def text(wa_id: str, wamid: str, body: str, ts: int | None = None) -> dict[str, Any]:
    return _message(wa_id, wamid, "text", {"body": body}, ts)


def image(wa_id: str, wamid: str, media_id: str, caption: str = "") -> dict[str, Any]:
    content = {"mime_type": "image/jpeg",
               "sha256": "81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3",
               "id": media_id}
    if caption:
        content["caption"] = caption
    return _message(wa_id, wamid, "image", content)


def button_reply(wa_id: str, wamid: str, button_id: str, title: str,
                 context_id: str = "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="
                 ) -> dict[str, Any]:
    return _message(
        wa_id, wamid, "interactive",
        {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
        context={"from": DISPLAY_NUMBER, "id": context_id},
    )


def sticker(wa_id: str, wamid: str) -> dict[str, Any]:
    return _message(wa_id, wamid, "sticker", {
        "mime_type": "image/webp", "sha256": "abc", "id": "1234", "animated": False})


def status(wa_id: str, wamid: str, state: str = "delivered") -> dict[str, Any]:
    return envelope({
        "statuses": [{
            "id": wamid,
            "status": state,
            "timestamp": str(int(time.time())),
            "recipient_id": wa_id,
            "conversation": {"id": "CONVERSATION_ID",
                             "origin": {"type": "service"}},
            "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"},
        }],
    })


def encode(payload: dict[str, Any]) -> bytes:
    # Meta's bodies escape non-ASCII as \\uXXXX; the signature covers those exact bytes.
    return json.dumps(payload).encode()
