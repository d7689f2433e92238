"""Password guessing is limited per client address and overall, atomically in Redis, so a
flood of parallel guesses gets no more tries than the limits allow (#15 item 2)."""

from __future__ import annotations

import asyncio
from collections import Counter

from aiohttp.test_utils import TestClient

from bots.i18n import t
from tests.adapter_web.web_helpers import MakeChat

PASSWORD = "open sesame"


async def _login(client: TestClient, password: str, address: str | None = None) -> tuple[int, dict]:
    headers = {"X-Forwarded-For": address} if address else {}
    resp = await client.post("/api/login", json={"password": password}, headers=headers)
    return resp.status, await resp.json()


async def test_parallel_guesses_from_one_address_stop_at_the_limit(make_chat: MakeChat) -> None:
    chat = await make_chat(web_password=PASSWORD, web_login_attempts=5,
                           web_login_global_attempts=1000, web_login_window_s=600)
    browsers = [await chat.browser("fr") for _ in range(10)]
    guesses = [_login(b, f"guess-{i}-{n}") for n in range(10) for i, b in enumerate(browsers)]
    results = await asyncio.gather(*guesses)
    statuses = Counter(status for status, _ in results)
    assert statuses == {401: 5, 429: 95}, statuses
    locked = next(body for status, body in results if status == 429)
    assert locked["error"] == "web_login_locked"
    # French, with when to try again (about 10 minutes).
    assert locked["text"] == t("fr", "web_login_locked", wait=t("fr", "unit_minutes", n=10))
    # The right password during the lockout is refused too: no guess is ever checked.
    status, body = await _login(browsers[0], PASSWORD)
    assert (status, body["error"]) == (429, "web_login_locked")


async def test_the_overall_limit_holds_across_addresses(make_chat: MakeChat) -> None:
    chat = await make_chat(web_password=PASSWORD, web_login_attempts=3,
                           web_login_global_attempts=20, web_login_window_s=600,
                           web_trust_forwarded_for=True)
    browsers = [await chat.browser() for _ in range(50)]
    guesses = [_login(b, "wrong", f"198.51.100.{i}") for i, b in enumerate(browsers)
               for _ in range(3)]
    statuses = Counter(status for status, _ in await asyncio.gather(*guesses))
    assert statuses == {401: 20, 429: 130}, statuses


async def test_right_password_within_the_limits_logs_in(make_chat: MakeChat) -> None:
    chat = await make_chat(web_password=PASSWORD, web_login_attempts=3,
                           web_login_global_attempts=10, web_login_window_s=600)
    browser = await chat.browser()
    assert (await _login(browser, "wrong"))[0] == 401
    status, body = await _login(browser, PASSWORD)
    assert (status, body) == (200, {"ok": True})
    assert (await browser.get("/api/history")).status == 200
