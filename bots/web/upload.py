"""A chat message with a photo: a ``multipart/form-data`` body read part by part, with a
cap on every part, so a photo never costs more than ``MAX_IMAGE_BYTES`` of memory and a
text field never more than a few KB."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import BodyPartReader, web

from bots.core.images import MAX_BYTES as MAX_IMAGE_BYTES
from bots.core.images import too_big
from bots.web.context import CTX, ApiError
from bots.web.limits import take_upload_slot

# Browsers send this header only from our own script (fetch); a plain HTML form on another
# site can't, and a cross-site fetch that adds it needs a CORS preflight we never grant.
UPLOAD_HEADER = "X-Clipbot-Upload"
FIELDS = ("id", "text", "aspect")
MAX_FIELD = 8 * 1024  # 2,000 characters of text, up to 4 bytes each in UTF-8
OVERHEAD = 64 * 1024  # boundaries, part headers and the text fields
MAX_UPLOAD = MAX_IMAGE_BYTES + OVERHEAD
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Upload:
    fields: dict[str, str]
    # At most MAX_IMAGE_BYTES + 1 bytes: one byte more than allowed says "too big". Every
    # part is capped and none may repeat, so a body without a declared length is bounded too.
    image: bytes | None


def is_upload(request: web.Request) -> bool:
    """A photo message from our page: the only non-JSON body the chat accepts."""
    return (
        request.path == "/api/messages"
        and request.content_type == "multipart/form-data"
        and request.headers.get(UPLOAD_HEADER) == "1"
    )


async def read_upload(request: web.Request) -> Upload:
    """The message's text fields and photo; 413 when the body is larger than any photo
    message can be, 400 when it is not the form our page sends."""
    if request.content_length is not None and request.content_length > MAX_UPLOAD:
        raise _too_large()
    await take_upload_slot(request)  # 503 when all are taken: memory stays bounded
    try:
        async with asyncio.timeout(request.app[CTX].body_timeout_s):
            return await _read_form(request)
    except TimeoutError:
        raise ApiError(408, "web_too_slow") from None


async def _read_form(request: web.Request) -> Upload:
    fields: dict[str, str] = {}
    image: bytes | None = None
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name in fields or (
                part.name == "image" and image is not None
            ):
                raise ApiError(400, "web_bad_request")
            if part.name == "image":
                image = await _read(part, MAX_IMAGE_BYTES)
                if len(image) > MAX_IMAGE_BYTES:
                    break  # too big: the handler says so; the rest is never read
            elif part.name in FIELDS:
                raw = await _read(part, MAX_FIELD)
                if len(raw) > MAX_FIELD:
                    raise ApiError(413, "web_too_large")
                fields[part.name] = raw.decode("utf-8")
            else:
                raise ApiError(400, "web_bad_request")
    except (ValueError, AssertionError, UnicodeDecodeError):
        # aiohttp's multipart parser reports a malformed body with these.
        raise ApiError(400, "web_bad_request") from None
    return Upload(fields, image or None)  # an empty file part is no photo


async def _read(part: BodyPartReader, limit: int) -> bytes:
    """One part, or its first ``limit + 1`` bytes when it is longer than ``limit``: a
    bounded buffer, trimmed in place, copied once."""
    data = bytearray()
    while len(data) <= limit and (chunk := await part.read_chunk(CHUNK)):
        data += chunk
    del data[limit + 1:]
    return bytes(data)


def _too_large() -> ApiError:
    exc = too_big()
    return ApiError(413, exc.key, **exc.params)
