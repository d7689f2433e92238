"""What every request handler shares, and the per-request facts the middleware works out."""

from __future__ import annotations

import asyncio
import re
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bots.core.commands import Commands
from bots.core.service import ClipService, Who
from bots.i18n import available, pick, t
from bots.web.session import Session, SessionSigner
from storage import Storage

if TYPE_CHECKING:  # events imports this module
    from bots.web.events import EventHub

LANG_COOKIE = "cb_lang"
# Redis unreachable right now (redis-py's ConnectionError is not the builtin one).
UNAVAILABLE: tuple[type[BaseException], ...] = (
    RedisConnectionError, RedisTimeoutError, ConnectionError, OSError,
)
# Ids that come from the browser (message ids, job ids in URLs) must look like this before
# they get anywhere near a Redis key.
SAFE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")  # with fullmatch: "$" would let "\n" in


@dataclass
class WebContext:
    storage: Storage
    service: ClipService
    commands: Commands
    signer: SessionSigner
    hub: EventHub
    index_html: str
    max_body: int
    body_timeout_s: float = 120.0  # to receive a whole request body


CTX = web.AppKey("clipbot_web", WebContext)
SOCKETS = web.AppKey("clipbot_web_sockets", weakref.WeakSet)
SESSION = web.RequestKey("clipbot_session", Session)
LOCALE = web.RequestKey("clipbot_locale", str)


class ApiError(Exception):
    """A refusal at the HTTP level: a status and a catalog key, rendered by the middleware."""

    def __init__(self, status: int, key: str, **params: Any) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.params = params


def ctx(request: web.Request) -> WebContext:
    return request.app[CTX]


def session(request: web.Request) -> Session:
    return request[SESSION]


def locale(request: web.Request) -> str:
    return request[LOCALE]


def choose_locale(request: web.Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in available():
        return chosen
    return pick(request.headers.get("Accept-Language"))


def who(request: web.Request) -> Who:
    """The person behind a request that must come from an established session."""
    s = session(request)
    if s.fresh:
        # No valid cookie: nothing to act for. The response carries a fresh one.
        raise ApiError(401, "web_session_expired")
    return Who("web", s.user_id, s.user_id, locale(request))


def safe_id(value: object) -> str:
    if not isinstance(value, str) or not SAFE_ID.fullmatch(value):
        raise ApiError(400, "web_bad_request")
    return value


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; 413 when too big, 400 when not a JSON object."""
    if request.content_length is not None and request.content_length > ctx(request).max_body:
        raise ApiError(413, "web_too_large")
    try:
        async with asyncio.timeout(ctx(request).body_timeout_s):
            body = await request.json()
    except TimeoutError:
        raise ApiError(408, "web_too_slow") from None
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "web_too_large") from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "web_bad_request") from None
    if not isinstance(body, dict):
        raise ApiError(400, "web_bad_request")
    return body


def error_body(loc: str, key: str, **params: Any) -> dict[str, str]:
    return {"error": key, "text": t(loc, key, **params)}
