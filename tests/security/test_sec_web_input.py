"""Odd bytes in a cookie or a password are just a wrong cookie or a wrong password: a polite
answer, never a 500 (#15 item 7), and ids with a trailing newline are not ids (item 13)."""

from __future__ import annotations

import pytest

from bots.web.context import ApiError, safe_id
from bots.web.session import COOKIE, SessionSigner
from tests.adapter_web.web_helpers import MakeChat


@pytest.mark.parametrize("path", ["/", "/healthz", "/api/boot", "/static/app.js"])
async def test_non_ascii_cookie_is_no_cookie(make_chat: MakeChat, path: str) -> None:
    chat = await make_chat()
    client = await chat.browser()
    client.session.cookie_jar.clear()
    # Bytes above 0x7f reach the cookie parser as latin-1 characters.
    raw = f"{COOKIE}=AAAAAAAAAAAAAAAA.1.\u00e9\u00e9\u00e9"
    resp = await client.get(path, headers={"Cookie": raw})
    assert resp.status == 200, await resp.text()


async def test_lone_surrogate_password_is_a_wrong_password(make_chat: MakeChat) -> None:
    chat = await make_chat(web_password="open sesame")
    client = await chat.browser()
    resp = await client.post("/api/login", data=b'{"password": "\\ud800"}',
                             headers={"Content-Type": "application/json"})
    assert resp.status == 401
    assert (await resp.json())["error"] == "web_password_wrong"


def test_signer_rejects_non_ascii_and_trailing_newline() -> None:
    signer = SessionSigner(b"k" * 48)
    good = signer.sign("A" * 16, True)
    assert signer.verify(good) is not None
    assert signer.verify(good[:-1] + "\u00e9") is None
    user, flag, mac = good.split(".")
    assert signer.verify(f"{user}\n.{flag}.{mac}") is None
    assert signer.check_password("\ud800") is True  # no password set: everyone is in


@pytest.mark.parametrize("value", ["abcdefgh\n", "abcdefgh12\n"])
def test_safe_id_refuses_trailing_newline(value: str) -> None:
    assert safe_id(value.strip()) == value.strip()
    with pytest.raises(ApiError):
        safe_id(value)


def test_clip_id_refuses_trailing_newline() -> None:
    from storage.clips import check_id

    assert check_id("abcdefgh") == "abcdefgh"
    with pytest.raises(ValueError):
        check_id("abcdefgh\n")


async def test_origin_must_match_scheme_too(make_chat: MakeChat) -> None:
    chat = await make_chat()
    client = await chat.browser()
    host = f"{chat.server.host}:{chat.server.port}"
    body = {"id": "abcdefgh1234", "text": "/help"}
    wrong = await client.post("/api/messages", json=body, headers={"Origin": f"https://{host}"})
    assert wrong.status == 403
    assert (await wrong.json())["error"] == "web_forbidden_origin"
    right = await client.post("/api/messages", json=body, headers={"Origin": f"http://{host}"})
    assert right.status == 200, await right.text()
    proxied = await client.post("/api/messages", json=body, headers={
        "Origin": f"https://{host}", "X-Forwarded-Proto": "https"})
    assert proxied.status == 200
