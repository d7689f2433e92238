"""Refusals and bad input through the web chat: clear localised answers, nothing changed.

No engine here: jobs stay queued, which is all these tests need.
"""

from __future__ import annotations

import pytest
from aiohttp import WSMsgType, WSServerHandshakeError

from bots.core import render
from bots.core.service import Refusal
from bots.i18n import t
from bots.web.session import COOKIE
from storage import QuotaLimits, Storage
from tests.adapter_web.web_helpers import MakeChat, send


async def queued(storage: Storage) -> int:
    return await storage.jobs.queue_depth()


async def test_help_quota_and_commands_in_the_browsers_language(make_chat: MakeChat) -> None:
    chat = await make_chat()
    es = await chat.browser("es-MX,es;q=0.9,en;q=0.5")
    assert (await send(es, "/help"))["text"] == t("es", "help")
    quota = await send(es, "/quota")
    assert quota["kind"] == "reply" and quota["text"].startswith(t("es", "quota")[:8])
    assert "100" in quota["text"]
    assert (await send(es, "/status"))["text"] == t("es", "status_none")
    assert (await send(es, "/cancel"))["text"] == t("es", "cancel_nothing")
    assert (await send(es, "/frobnicate"))["text"] == t("es", "unknown_command",
                                                         command="/frobnicate")
    assert (await send(es, "/lang"))["kind"] == "lang"


async def test_accept_language_picks_page_language_and_switcher_remembers(
    make_chat: MakeChat,
) -> None:
    chat = await make_chat()
    ar = await chat.browser("ar-EG,ar;q=0.9")
    page = await (await ar.get("/")).text()
    assert '<html lang="ar" dir="rtl">' in page
    assert t("ar", "btn_download") in page
    boot = await (await ar.get("/api/boot")).json()
    assert boot["dir"] == "rtl" and boot["strings"]["welcome"] == t("ar", "welcome")
    assert {lang["code"] for lang in boot["languages"]} >= {
        "en", "es", "pt", "fr", "id", "sw", "hi", "ar", "zh"
    }

    switched = await ar.get("/api/boot", params={"lang": "fr"})
    assert (await switched.json())["lang"] == "fr"
    page = await (await ar.get("/")).text()  # still Accept-Language: ar, but the choice wins
    assert '<html lang="fr" dir="ltr">' in page
    assert (await send(ar, "/help"))["text"] == t("fr", "help")
    bad = await ar.get("/api/boot", params={"lang": "xx"})
    assert bad.status == 400 and (await bad.json())["text"] == t("fr", "web_bad_request")

    zh = await chat.browser("zh-CN")
    assert (await send(zh, "   "))["text"] == render.refusal("zh", Refusal("empty_prompt"))
    unknown = await chat.browser("tlh")  # Klingon: not offered, English it is
    assert '<html lang="en" dir="ltr">' in await (await unknown.get("/")).text()


async def test_quota_exhaustion_is_friendly_and_localised(make_chat: MakeChat,
                                                          storage: Storage) -> None:
    limits = QuotaLimits(daily_gpu_s=100_000, daily_clips=1, max_inflight=5, max_queue=50)
    chat = await make_chat(limits=limits)
    pt = await chat.browser("pt-BR")
    first = await send(pt, "um gato no telhado")
    assert first["kind"] == "ack" and first["job"]["state"] == "queued"
    assert first["job"]["text"].startswith(t("pt", "progress_queued")[:10])
    second = await send(pt, "um cachorro na praia")
    assert second["kind"] == "refusal" and second["key"] == "quota_clips"
    assert second["text"].startswith(t("pt", "quota_clips", limit=1, reset="")[:20])
    assert "{" not in second["text"]
    assert await queued(storage) == 1


async def test_queue_full_is_friendly_and_localised(make_chat: MakeChat,
                                                    storage: Storage) -> None:
    limits = QuotaLimits(daily_gpu_s=100_000, daily_clips=10, max_inflight=5, max_queue=1)
    chat = await make_chat(limits=limits)
    first, hi = await chat.browser(), await chat.browser("hi-IN")
    assert (await send(first, "a red kite"))["kind"] == "ack"
    full = await send(hi, "समुद्र पर एक लाल पतंग")
    assert full["kind"] == "refusal" and full["key"] == "queue_full"
    assert full["text"].startswith(t("hi", "queue_full", eta="")[:12])
    assert "{" not in full["text"]
    assert await queued(storage) == 1


async def test_prompt_in_any_language_reaches_the_model_unchanged(
    make_chat: MakeChat, storage: Storage
) -> None:
    chat = await make_chat()
    sw = await chat.browser("sw")
    prompt = "نافذة مخبز عند شروق الشمس 🍞 dirisha la mkate"
    ack = await send(sw, prompt + " --ar 1:1")
    job = await storage.jobs.get(ack["job"]["id"])
    assert job.request.prompt == prompt and job.request.aspect == "1:1"
    assert job.request.locale == "sw" and job.user.startswith("web:")


async def test_missing_or_forged_cookie_is_refused_and_replaced(make_chat: MakeChat,
                                                                storage: Storage) -> None:
    chat = await make_chat()
    browser = await chat.browser("fr")
    good = browser.session.cookie_jar.filter_cookies(browser.make_url("/"))[COOKIE].value
    user_id = good.split(".")[0]
    forged = f"{user_id[:-1]}{'A' if user_id[-1] != 'A' else 'B'}.1.{good.split('.')[2]}"
    for value in (forged, "garbage", good + "x", ""):
        browser.session.cookie_jar.clear()
        if value:
            browser.session.cookie_jar.update_cookies({COOKIE: value}, browser.make_url("/"))
        resp = await browser.post("/api/messages", json={"id": "forged-001", "text": "a cat"})
        assert resp.status == 401
        assert (await resp.json())["text"] == t("fr", "web_session_expired")
        fresh = resp.cookies[COOKIE]
        assert fresh.value.split(".")[0] not in (user_id, "")
        assert fresh["httponly"] and fresh["samesite"] == "Lax"
        history = await browser.get("/api/history")
        assert (await history.json())["jobs"] == []
    assert await queued(storage) == 0
    # The replacement cookie works.
    assert (await send(browser, "a cat"))["kind"] == "ack"


async def test_oversized_and_malformed_bodies(make_chat: MakeChat, storage: Storage) -> None:
    chat = await make_chat()
    browser = await chat.browser()
    huge = await browser.post("/api/messages", json={"id": "big-00001", "text": "x" * 40_000})
    assert huge.status == 413
    assert (await huge.json())["text"] == t("en", "web_too_large")
    cases = [
        dict(data=b"{not json", headers={"Content-Type": "application/json"}),
        dict(json=["a", "list"]),
        dict(json={"id": "short", "text": "a cat"}),
        dict(json={"id": "../../etc/passwd", "text": "a cat"}),
        dict(json={"id": "valid-0001", "text": 42}),
        dict(json={"id": "valid-0002", "text": "a cat", "aspect": "4:3"}),
        dict(data=b"\xff\xfe\x00garbage", headers={"Content-Type": "application/json"}),
    ]
    for kwargs in cases:
        resp = await browser.post("/api/messages", **kwargs)
        assert resp.status == 400, kwargs
        assert (await resp.json())["text"] == t("en", "web_bad_request")
    form = await browser.post("/api/messages", data={"id": "form-00001", "text": "a cat"})
    assert form.status == 415
    evil = await browser.post("/api/messages", json={"id": "evil-00001", "text": "a cat"},
                              headers={"Origin": "https://evil.example"})
    assert evil.status == 403
    assert (await evil.json())["text"] == t("en", "web_forbidden_origin")
    binary = await send(browser, "a cat \x00\x1b[2J")
    assert binary["kind"] == "refusal" and binary["text"] == t("en", "bad_characters")
    for path in ("/clips/..%2F..%2Fetc%2Fpasswd", "/clips/short", "/api/jobs/a%00b"):
        resp = await browser.get(path)
        assert resp.status in (400, 404), path
    assert (await browser.get("/static/../app.py")).status == 404
    assert await queued(storage) == 0


async def test_websocket_rejects_bad_frames_politely(make_chat: MakeChat) -> None:
    chat = await make_chat()
    browser = await chat.browser("es")
    ws = await browser.ws_connect("/api/events")
    for frame in ("not json", "[1, 2]", '{"type": "launch-missiles"}', '{"type": "lang"}',
                  '{"type": "lang", "lang": "xx"}'):
        await ws.send_str(frame)
        reply = await ws.receive_json(timeout=5)
        assert reply == {"type": "error", "error": "web_bad_frame",
                         "text": t("es", "web_bad_frame")}
    await ws.send_bytes(b"\x00\x01binary")
    assert (await ws.receive_json(timeout=5))["error"] == "web_bad_frame"
    await ws.send_str('{"type": "ping"}')
    assert await ws.receive_json(timeout=5) == {"type": "pong"}
    await ws.send_str('{"type": "lang", "lang": "ar"}')
    assert await ws.receive_json(timeout=5) == {"type": "lang", "lang": "ar"}
    await ws.send_str("x" * 10_000)  # over the frame limit: the server closes the socket
    msg = await ws.receive(timeout=5)
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    await ws.close()
    # Still usable afterwards: a new socket and the HTTP API answer normally.
    ws2 = await browser.ws_connect("/api/events")
    await ws2.send_str('{"type": "ping"}')
    assert await ws2.receive_json(timeout=5) == {"type": "pong"}
    await ws2.close()


async def test_websocket_needs_a_session_and_the_same_origin(make_chat: MakeChat) -> None:
    chat = await make_chat()
    browser = await chat.browser()
    with pytest.raises(WSServerHandshakeError) as cross:
        await browser.ws_connect("/api/events", headers={"Origin": "http://evil.example"})
    assert cross.value.status == 403
    browser.session.cookie_jar.clear()
    with pytest.raises(WSServerHandshakeError) as anon:
        await browser.ws_connect("/api/events")
    assert anon.value.status == 401


async def test_password_protects_a_private_deployment(make_chat: MakeChat,
                                                      storage: Storage) -> None:
    chat = await make_chat(web_password="open sesame")
    browser = await chat.browser("id")
    boot = await (await browser.get("/api/boot")).json()
    assert boot["password"] and not boot["authed"]
    locked = await browser.post("/api/messages", json={"id": "lock-00001", "text": "a cat"})
    assert locked.status == 401
    assert (await locked.json())["error"] == "web_password_needed"
    assert (await browser.get("/api/history")).status == 401
    wrong = await browser.post("/api/login", json={"password": "open sesame!"})
    assert wrong.status == 401 and (await wrong.json())["error"] == "web_password_wrong"
    assert await queued(storage) == 0
    right = await browser.post("/api/login", json={"password": "open sesame"})
    assert right.status == 200
    assert (await send(browser, "seekor kucing di atap"))["kind"] == "ack"
    assert (await (await browser.get("/api/boot")).json())["authed"]


async def test_security_headers_and_local_assets(make_chat: MakeChat) -> None:
    chat = await make_chat()
    browser = await chat.browser()
    page = await browser.get("/")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = await page.text()
    assert "http://" not in html and "https://" not in html  # no CDN, nothing remote
    for asset, kind in (("/static/app.js", "javascript"), ("/static/app.css", "css")):
        resp = await browser.get(asset)
        assert resp.status == 200 and kind in resp.headers["Content-Type"]
        body = await resp.text()
        assert "http://" not in body and "https://" not in body
    assert (await browser.get("/healthz")).status == 200
