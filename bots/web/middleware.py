"""Every request passes here: session cookie, language, password, origin checks, and
errors turned into polite localised answers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from bots.i18n import t
from bots.web.context import (
    CTX,
    LOCALE,
    SESSION,
    UNAVAILABLE,
    ApiError,
    choose_locale,
    error_body,
)
from bots.web.limits import upload_slots_released
from bots.web.session import COOKIE, MAX_AGE_S, Session
from bots.web.upload import is_upload

log = logging.getLogger("clipbot.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Reachable without the operator password: the page itself, its files, logging in.
OPEN_PATHS = ("/", "/healthz", "/api/boot", "/api/login")
OPEN_PREFIXES = ("/static/",)
STATUS_KEYS = {
    400: "web_bad_request",
    401: "web_session_expired",
    403: "web_forbidden_origin",
    404: "web_not_found",
    405: "web_bad_request",
    413: "web_too_large",
    415: "web_bad_request",
    429: "web_busy",
    503: "web_busy",
}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self'; "
        "connect-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"
    ),
}


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    c = request.app[CTX]
    sess = c.signer.verify(request.cookies.get(COOKIE)) or c.signer.new()
    request[SESSION] = sess
    request[LOCALE] = choose_locale(request)
    try:
        _check(request, sess)
        async with upload_slots_released(request):
            response = await handler(request)
    except ApiError as exc:
        response = _error(request, exc.status, exc.key, **exc.params)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _error(request, exc.status, STATUS_KEYS.get(exc.status, "web_bad_request"))
    except UNAVAILABLE:
        log.exception("storage unavailable for %s", request.path)
        response = _error(request, 503, "web_server_error")
    except Exception:
        log.exception("error handling %s", request.path)
        response = _error(request, 500, "web_server_error")
    if not response.prepared:
        response.headers.update(SECURITY_HEADERS)
        fresh = request.get(SESSION, sess)
        if fresh.fresh:
            set_session_cookie(request, response, fresh)
    return response


def _check(request: web.Request, sess: Session) -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        _same_origin(request)
        if request.content_type != "application/json" and not is_upload(request):
            # Plain HTML forms can't send JSON, nor our upload header: one more wall
            # against cross-site posts.
            raise ApiError(415, "web_bad_request")
    elif request.path == "/api/events":
        _same_origin(request)  # WebSocket upgrades skip CORS; check who opens them
    if sess.authed or request.path in OPEN_PATHS or request.path.startswith(OPEN_PREFIXES):
        return
    raise ApiError(401, "web_password_needed")


def _same_origin(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not a browser, or a same-origin GET: cookies are what authenticates
    parts = urlsplit(origin)
    # The scheme counts too: a page on http://host must not act on https://host.
    if parts.netloc != request.host or parts.scheme != _scheme(request):
        raise ApiError(403, "web_forbidden_origin")


def _scheme(request: web.Request) -> str:
    # Behind a TLS proxy the app sees http; the proxy's header says what the browser used.
    return "https" if _is_https(request) else "http"


def _is_https(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto") == "https"


def _error(request: web.Request, status: int, key: str, **params: object) -> web.Response:
    loc = request.get(LOCALE, "en")
    if request.path.startswith(("/api/", "/clips/")) or request.path == "/api":
        return web.json_response(error_body(loc, key, **params), status=status)
    return web.Response(text=t(loc, key, **params), status=status,
                        content_type="text/plain", charset="utf-8")


def set_session_cookie(request: web.Request, response: web.StreamResponse, sess: Session) -> None:
    response.set_cookie(
        COOKIE,
        request.app[CTX].signer.sign(sess.user_id, sess.authed),
        max_age=MAX_AGE_S,
        httponly=True,
        samesite="Lax",
        # Behind an HTTPS proxy the app sees plain HTTP; a spoofed header only marks the
        # sender's own cookie Secure.
        secure=_is_https(request),
        path="/",
    )
