"""Password guessing is limited per client address and for everyone together, in Redis so
that parallel requests and several web processes share one count."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from bots.i18n import duration
from bots.web.context import LOCALE, ApiError
from storage.ratelimit import RateLimiter

LOGIN_LIMIT = web.AppKey("clipbot_login_limit", RateLimiter)
TRUST_FORWARDED = web.AppKey("clipbot_trust_forwarded", bool)


def client_address(request: web.Request) -> str:
    """The caller's IP address. Behind the operator's proxy (CLIPBOT_WEB_TRUST_FORWARDED_FOR)
    the last X-Forwarded-For entry, the one that proxy added; anything unparsable counts
    as one shared "unknown" client, never as a key of its own making."""
    raw = request.remote or ""
    if request.app.get(TRUST_FORWARDED) and (fwd := request.headers.get("X-Forwarded-For")):
        raw = fwd.split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return "unknown"


async def check_login_rate(request: web.Request) -> None:
    """Count one login attempt, or refuse it (429) saying when to try again."""
    verdict = await request.app[LOGIN_LIMIT].attempt(client_address(request))
    if not verdict.allowed:
        wait = duration(request.get(LOCALE, "en"), max(1.0, verdict.retry_in_s))
        raise ApiError(429, "web_login_locked", wait=wait)
