"""The bot's webhook endpoint against the fake Graph API and the real Redis (no engine)."""

from __future__ import annotations

import asyncio
import json
import socket

import aiohttp
import pytest

from bots.core import render
from bots.core.service import Submitted
from bots.i18n import normalize, t
from bots.whatsapp.app import ConfigError, serve
from bots.whatsapp.graph import GraphClient, GraphError
from storage import Storage
from tests.adapter_whatsapp import payloads as p
from tests.adapter_whatsapp.conftest import (
    TOKEN,
    VERIFY_TOKEN,
    VERSION,
    Meta,
    bot_limits,
    make_settings,
)
from tests.adapter_whatsapp.fake_graph import FakeGraph

USER = "16505551234"  # a US number: English replies


async def jobs_of(storage: Storage, wa_id: str = USER) -> list:
    return await storage.jobs.jobs_of(f"whatsapp:{wa_id}", 50)


async def keys_of(storage: Storage) -> set[str]:
    """Keys of this test's deployment, less the result stream the bot creates at start."""
    return {k async for k in storage.redis.scan_iter(match=storage.keys.pattern)
            if k != storage.keys.results("whatsapp")}


# ---- handshake ----------------------------------------------------------------------------
async def test_get_verification_echoes_challenge(meta: Meta) -> None:
    status, text = await meta.get({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                   "hub.challenge": "1158201444"})
    assert (status, text) == (200, "1158201444")


@pytest.mark.parametrize(
    "params",
    [{"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
     {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
     {}],
)
async def test_get_verification_forbidden(meta: Meta, params: dict[str, str]) -> None:
    status, text = await meta.get(params)
    assert status == 403 and "1" not in text


# ---- signatures ---------------------------------------------------------------------------
async def test_bad_or_missing_signature_is_401_and_queues_nothing(
    meta: Meta, storage: Storage, graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    body = p.encode(p.text(USER, "wamid.S1", "a red kite"))
    before = await keys_of(storage)
    assert await meta.post(body, sign=False) == 401
    assert await meta.post(body, secret="not-the-app-secret") == 401
    good = p.signature("test-app-secret-0123456789", body)
    tampered = body.replace(b"a red kite", b"a big kite")
    assert await meta.post(tampered, sign=False,
                           headers={"X-Hub-Signature-256": good}) == 401
    assert await meta.post(body, sign=False, headers={"X-Hub-Signature-256": "sha256="}) == 401
    await asyncio.sleep(0.2)
    assert await jobs_of(storage) == []
    assert await keys_of(storage) == before  # no idempotency key, no last-seen, nothing
    assert graph.messages == [] and graph.reads == []
    rejected = [r for r in caplog.records if "webhook rejected" in r.getMessage()]
    assert len(rejected) == 4
    for record in rejected:  # the log line never carries the secret or the signature
        assert "test-app-secret" not in record.getMessage()
        assert good[7:] not in record.getMessage()


async def test_oversized_body_is_413(meta: Meta, storage: Storage, graph: FakeGraph) -> None:
    payload = p.text(USER, "wamid.BIG", "x" * (1024 * 1024 + 10))
    assert await meta.post(payload) == 413
    assert await jobs_of(storage) == [] and graph.messages == []


async def test_signed_garbage_is_acknowledged_without_effect(
    meta: Meta, storage: Storage, graph: FakeGraph
) -> None:
    assert await meta.post(b'{"object": "page", "entry": []}') == 200
    assert await meta.post(b"not json at all") == 200
    await asyncio.sleep(0.2)
    assert graph.messages == []


# ---- messages -----------------------------------------------------------------------------
async def test_text_gets_queue_position_and_typing_indicator(
    meta: Meta, storage: Storage, graph: FakeGraph
) -> None:
    assert await meta.post(p.text(USER, "wamid.Q1", "a bakery window at sunrise --ar 9:16")) \
        == 200
    await graph.wait_for(lambda: graph.reads)
    [job] = await jobs_of(storage)
    assert job.request.aspect == "9:16" and job.request.reply == {"wamid": "wamid.Q1"}
    expected = render.ack("en", Submitted(job.id, 1, 0, engines_online=0))
    assert graph.texts(USER) == [expected]
    assert graph.reads == [{"messaging_product": "whatsapp", "status": "read",
                            "message_id": "wamid.Q1", "typing_indicator": {"type": "text"}}]


async def test_redelivered_message_makes_one_job_and_one_reply(
    meta: Meta, storage: Storage, graph: FakeGraph
) -> None:
    payload = p.text(USER, "wamid.DUP", "a lighthouse in a storm")
    statuses = await asyncio.gather(*(meta.post(payload) for _ in range(5)))
    assert statuses == [200] * 5
    await graph.wait_for(lambda: graph.texts(USER))
    assert await meta.post(payload) == 200  # and once more, a while later
    await asyncio.sleep(0.3)
    assert len(await jobs_of(storage)) == 1
    assert len(graph.texts(USER)) == 1
    quota = await storage.accounts.quota(f"whatsapp:{USER}", bot_limits())
    assert quota.inflight == 1


async def test_statuses_are_ignored(meta: Meta, storage: Storage, graph: FakeGraph) -> None:
    before = await keys_of(storage)
    for state in ("sent", "delivered", "read", "failed"):
        assert await meta.post(p.status(USER, "wamid.OUT1", state)) == 200
    await asyncio.sleep(0.2)
    assert graph.messages == [] and graph.reads == []
    assert await keys_of(storage) == before


async def test_bad_options_get_a_clear_answer_and_change_nothing(
    meta: Meta, storage: Storage, graph: FakeGraph
) -> None:
    assert await meta.post(p.text(USER, "wamid.BAD", "a cat --ar 4:3")) == 200
    [text] = await graph.wait_for(lambda: graph.texts(USER))
    assert text == t("en", "bad_aspect", value="4:3", choices="16:9, 9:16, 1:1")
    assert await jobs_of(storage) == []
    assert (await storage.accounts.quota(f"whatsapp:{USER}", bot_limits())).used_clips == 0


async def test_image_without_image_engine_is_refused_politely(
    meta: Meta, storage: Storage, graph: FakeGraph
) -> None:
    media_id = graph.add_media(b"\xff\xd8\xff fake jpeg", "image/jpeg")
    assert await meta.post(p.image(USER, "wamid.IMG", media_id, "make it move")) == 200
    [text] = await graph.wait_for(lambda: graph.texts(USER))
    assert text == t("en", "image_unsupported")
    assert await jobs_of(storage) == []


async def test_unsupported_message_type_explains_what_works(
    meta: Meta, graph: FakeGraph
) -> None:
    assert await meta.post(p.sticker(USER, "wamid.STK")) == 200
    [text] = await graph.wait_for(lambda: graph.texts(USER))
    assert text == t("en", "wa_unsupported")


async def test_buttons_for_unknown_or_foreign_jobs_are_refused(
    meta: Meta, storage: Storage, graph: FakeGraph
) -> None:
    assert await meta.post(p.text("447700900123", "wamid.OTHER", "a foggy harbour")) == 200
    await graph.wait_for(lambda: graph.texts("447700900123"))
    [theirs] = await jobs_of(storage, "447700900123")
    assert await meta.post(p.button_reply(USER, "wamid.BT1", f"retry:{theirs.id}", "Retry")) \
        == 200
    assert await meta.post(p.button_reply(USER, "wamid.BT2", "explode:now", "Boom")) == 200
    await graph.wait_for(lambda: len(graph.texts(USER)) == 2)
    assert sorted(graph.texts(USER)) == sorted([t("en", "again_not_yours"),
                                                t("en", "not_found")])
    assert await jobs_of(storage) == []


async def test_commands(meta: Meta, storage: Storage, graph: FakeGraph) -> None:
    assert await meta.post(p.text(USER, "wamid.C1", "/quota")) == 200
    await graph.wait_for(lambda: graph.texts(USER))
    assert "20" in graph.texts(USER)[0]
    assert await meta.post(p.text(USER, "wamid.C2", "/frobnicate")) == 200
    await graph.wait_for(lambda: len(graph.texts(USER)) == 2)
    assert graph.texts(USER)[1] == t("en", "unknown_command", command="/frobnicate")
    assert await meta.post(p.text(USER, "wamid.C3", "/cancel")) == 200
    await graph.wait_for(lambda: len(graph.texts(USER)) == 3)
    assert graph.texts(USER)[2] == t("en", "cancel_nothing")
    assert await meta.post(p.text(USER, "wamid.C4", "/lang klingon")) == 200
    await graph.wait_for(lambda: len(graph.texts(USER)) == 4)
    assert graph.texts(USER)[3].startswith(t("en", "lang_choose")) and "/lang en" in \
        graph.texts(USER)[3]
    assert await meta.post(p.text(USER, "wamid.C5", "/lang en")) == 200
    await graph.wait_for(lambda: len(graph.texts(USER)) == 5)
    assert graph.texts(USER)[4] == t("en", "lang_set")
    assert await jobs_of(storage) == []


async def test_forget_deletes_jobs_and_chat_memory(
    meta: Meta, storage: Storage, graph: FakeGraph
) -> None:
    assert await meta.post(p.text(USER, "wamid.F1", "a paper boat")) == 200
    await graph.wait_for(lambda: graph.texts(USER))
    assert await jobs_of(storage)
    assert await meta.post(p.text(USER, "wamid.F2", "/forget")) == 200
    # the running job is cancelled (and its notice sent); then everything is deleted
    await graph.wait_for(lambda: t("en", "forget_done") in graph.texts(USER))
    assert await jobs_of(storage) == []
    left = [k for k in await keys_of(storage) if USER in k and ":wa:msg:" not in k]
    assert not [k for k in left if ":wa:" in k]


# ---- Graph client and entry point -----------------------------------------------------
async def test_media_download_uses_the_bearer_token(graph: FakeGraph) -> None:
    media_id = graph.add_media(b"\x89PNG fake image bytes", "image/png")
    async with aiohttp.ClientSession() as http:
        client = GraphClient(http, base_url=graph.url, version=VERSION,
                             phone_number_id=p.PHONE_NUMBER_ID, token=TOKEN)
        assert await client.download(media_id, 1024) == (b"\x89PNG fake image bytes",
                                                          "image/png")
        with pytest.raises(GraphError):
            await client.download(media_id, 8)  # larger than allowed
        graph.report_sizes = False  # the limit holds while streaming, too
        with pytest.raises(GraphError) as err:
            await client.download(media_id, 8)
        assert err.value.status == 413
        wrong = GraphClient(http, base_url=graph.url, version=VERSION,
                            phone_number_id=p.PHONE_NUMBER_ID, token="wrong")
        with pytest.raises(GraphError) as err:
            await wrong.download(media_id, 1024)
        assert err.value.status == 401 and err.value.code == 190


async def test_serve_runs_until_stopped(redis_url: str, prefix: str, graph: FakeGraph) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = make_settings(redis_url, prefix, graph.url, whatsapp_host="127.0.0.1",
                             whatsapp_port=port)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    url = f"http://127.0.0.1:{port}/webhook"
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"}
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            try:
                async with http.get(url, params=params) as resp:
                    assert (resp.status, await resp.text()) == (200, "42")
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        else:
            pytest.fail("serve() never listened")
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_serve_refuses_to_start_unconfigured(redis_url: str, prefix: str) -> None:
    settings = make_settings(redis_url, prefix, "http://127.0.0.1:9", whatsapp_app_secret="")
    with pytest.raises(ConfigError, match="CLIPBOT_WHATSAPP_APP_SECRET"):
        await serve(settings, asyncio.Event())


def test_payload_fixture_is_valid_json() -> None:
    assert json.loads(p.encode(p.text(USER, "w", "x")))["object"] == "whatsapp_business_account"


async def test_replies_in_the_language_of_the_number(
    meta: Meta, storage: Storage, graph: FakeGraph
) -> None:
    brazil = "5511987654321"
    assert await meta.post(p.text(brazil, "wamid.PT1", "um gato --ar 4:3")) == 200
    [text] = await graph.wait_for(lambda: graph.texts(brazil))
    lang = normalize("pt")  # English until the Portuguese catalog is there
    assert text == t(lang, "bad_aspect", value="4:3", choices="16:9, 9:16, 1:1")
    assert await jobs_of(storage, brazil) == []


async def test_messages_for_another_number_of_the_account_are_left_alone(
    meta: Meta, storage: Storage, graph: FakeGraph
) -> None:
    payload = p.text(USER, "wamid.OTHERNUM", "a windmill at dusk")
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    assert await meta.post(payload) == 200
    await asyncio.sleep(0.3)
    assert graph.messages == [] and await jobs_of(storage) == []
