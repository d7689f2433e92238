"""Meta's webhook contract, pure: the GET handshake, the POST signature, the payload.

Nothing here does I/O; the server feeds it raw bytes and query parameters.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SIGNATURE_HEADER = "X-Hub-Signature-256"
_SIG_PREFIX = "sha256="


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta sends for ``body`` (tests sign their payloads with it too)."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return _SIG_PREFIX + digest


def signature_ok(app_secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of ``X-Hub-Signature-256`` over the raw body bytes.

    An empty app secret accepts nothing: a misconfigured bot must not take unsigned events.
    """
    if not app_secret or not header or not header.startswith(_SIG_PREFIX):
        return False
    return hmac.compare_digest(sign(app_secret, body).encode(), header.strip().encode())


def challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """The ``hub.challenge`` to echo when the subscription handshake is ours, else None."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    given = params.get("hub.verify_token", "")
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    return params.get("hub.challenge")


# ---- wire types (only the fields we use; Meta adds fields freely) -------------------------
class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Text(_Wire):
    body: str


class _Media(_Wire):
    id: str
    mime_type: str = ""
    caption: str = ""


class _ButtonReply(_Wire):
    id: str
    title: str = ""


class _Interactive(_Wire):
    type: str
    button_reply: _ButtonReply | None = None


class _Message(_Wire):
    id: str
    type: str
    timestamp: int = 0
    text: _Text | None = None
    image: _Media | None = None
    interactive: _Interactive | None = None
    sender: str = Field("", alias="from")  # "from" is a Python keyword


class _Profile(_Wire):
    name: str = ""


class _Contact(_Wire):
    wa_id: str = ""
    profile: _Profile | None = None


class _Metadata(_Wire):
    phone_number_id: str = ""


class _Value(_Wire):
    metadata: _Metadata | None = None
    contacts: list[_Contact] = []
    messages: list[_Message] = []
    # statuses (sent/delivered/read/failed of our own messages) are deliberately not parsed


class _Change(_Wire):
    field: str = ""
    value: _Value


class _Entry(_Wire):
    changes: list[_Change] = []


class _Payload(_Wire):
    object: str = ""
    entry: list[_Entry] = []


# ---- what the adapter acts on ----------------------------------------------------------
@dataclass(frozen=True)
class Inbound:
    """One message a WhatsApp user sent us. ``kind``: text | image | button | other."""

    message_id: str
    sender: str  # the user's WhatsApp id (phone number digits)
    timestamp: int  # Unix seconds, as Meta reports it
    kind: str
    text: str = ""  # text body, image caption, or the tapped button's title
    media_id: str = ""
    button_id: str = ""
    phone_number_id: str = ""


class PayloadError(ValueError):
    """The body is not a WhatsApp Business Account webhook we can read."""


def parse(body: bytes) -> list[Inbound]:
    """The user messages in a webhook body; statuses and other fields are ignored."""
    try:
        payload = _Payload.model_validate_json(body)
    except ValidationError as exc:
        raise PayloadError(_where(exc)) from None
    if payload.object != "whatsapp_business_account":
        raise PayloadError("unexpected object field")
    return [
        _inbound(msg, change.value)
        for entry in payload.entry
        for change in entry.changes
        if change.field == "messages"
        for msg in change.value.messages
    ]


def _where(exc: ValidationError) -> str:
    """Where and how the body is wrong, never what it holds: pydantic's ``input`` would
    put a user's prompt and phone number in the log."""
    first = exc.errors(include_url=False, include_context=False, include_input=False)[0]
    loc = ".".join(str(part) for part in first["loc"])
    return f"{first['type']} at {loc or 'top level'} ({exc.error_count()} problem(s))"


def too_old(msg: Inbound, now_s: float, max_age_s: float) -> bool:
    """A message older than ``max_age_s`` (or without a timestamp) is a replay: its
    idempotency key may have expired, so it must not become a new, charged job."""
    return msg.timestamp <= 0 or now_s - msg.timestamp > max_age_s


def _inbound(msg: _Message, value: _Value) -> Inbound:
    sender = msg.sender or (value.contacts[0].wa_id if value.contacts else "")
    base: dict[str, Any] = {
        "message_id": msg.id,
        "sender": sender,
        "timestamp": msg.timestamp,
        "phone_number_id": value.metadata.phone_number_id if value.metadata else "",
    }
    if msg.type == "text" and msg.text is not None:
        return Inbound(kind="text", text=msg.text.body, **base)
    if msg.type == "image" and msg.image is not None:
        return Inbound(kind="image", text=msg.image.caption, media_id=msg.image.id, **base)
    reply = msg.interactive.button_reply if msg.interactive else None
    if msg.type == "interactive" and reply is not None:
        return Inbound(kind="button", text=reply.title, button_id=reply.id, **base)
    return Inbound(kind="other", **base)
