"""Webhook mode: Telegram POSTs updates; a wrong secret is refused and changes nothing."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bots.telegram.app import ConfigError, Running, running
from bots.telegram.webhook import SECRET_HEADER, secret_ok
from clipbot.settings import Settings
from storage import Storage
from tests.adapter_telegram.conftest import WEBHOOK_SECRET, bot_running, make_settings
from tests.adapter_telegram.fake_bot_api import FakeBotApi
from tests.adapter_telegram.updates import message, user

PUBLIC_URL = "https://bots.example.com/telegram/hook"


@pytest.fixture
async def hooked(redis_url: str, prefix: str, api: FakeBotApi, storage: Storage
                 ) -> AsyncIterator[Running]:
    settings = make_settings(redis_url, prefix, api, telegram_webhook_url=PUBLIC_URL,
                             telegram_webhook_secret=WEBHOOK_SECRET)
    async with bot_running(settings, storage) as run:
        yield run


async def post(url: str, update: dict[str, Any], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with aiohttp.ClientSession() as http, http.post(
            url, data=json.dumps(update), headers=headers) as resp:
        return resp.status


async def test_webhook_registered_with_secret(api: FakeBotApi, hooked: Running) -> None:
    [call] = api.called("setWebhook")
    assert call.params["url"] == PUBLIC_URL
    assert call.params["secret_token"] == WEBHOOK_SECRET
    assert hooked.webhook_url.endswith("/telegram/hook")
    assert not api.called("getUpdates")


async def test_wrong_secret_is_refused_and_nothing_queued(
        api: FakeBotApi, hooked: Running, storage: Storage) -> None:
    update = {"update_id": 77, **message("a red kite over hills", sender=user(701))}
    assert await post(hooked.webhook_url, update, "not-the-secret") == 403
    assert await post(hooked.webhook_url, update, None) == 403
    assert await post(hooked.webhook_url, update, WEBHOOK_SECRET[:-1]) == 403
    assert await storage.jobs.queue_depth() == 0
    assert not await storage.jobs.jobs_of("telegram:701")
    assert not api.called("sendMessage")


async def test_same_update_posted_twice_makes_one_job(
        api: FakeBotApi, hooked: Running, storage: Storage) -> None:
    update = {"update_id": 78, **message("a red kite over hills", sender=user(702))}
    assert await post(hooked.webhook_url, update, WEBHOOK_SECRET) == 200
    assert await post(hooked.webhook_url, update, WEBHOOK_SECRET) == 200
    await api.wait_for(lambda: api.sent_to(702), timeout=10)
    assert (await post(hooked.webhook_url, {"update_id": 79, **message(
        "/status", sender=user(702))}, WEBHOOK_SECRET)) == 200
    await api.wait_for(lambda: len(api.sent_to(702)) >= 2, timeout=10)
    assert len(api.sent_to(702)) == 2  # one ack, then the /status answer
    assert len(await storage.jobs.jobs_of("telegram:702")) == 1
    assert await storage.jobs.queue_depth() == 1


async def test_webhook_without_secret_does_not_start(
        redis_url: str, prefix: str, api: FakeBotApi, storage: Storage) -> None:
    settings: Settings = make_settings(redis_url, prefix, api, telegram_webhook_url=PUBLIC_URL)
    with pytest.raises(ConfigError):
        async with running(settings, storage):
            pass
    assert not api.calls  # refused before talking to Telegram


@pytest.mark.parametrize(("given", "ok"), [
    (WEBHOOK_SECRET, True), ("", False), (None, False), (WEBHOOK_SECRET + "x", False),
])
def test_secret_check(given: str | None, ok: bool) -> None:
    assert secret_ok(given, WEBHOOK_SECRET) is ok
    assert not secret_ok(given, "")  # an empty expected secret never matches


async def test_oversized_or_malformed_bodies_are_refused_and_the_bot_carries_on(
        api: FakeBotApi, hooked: Running, storage: Storage) -> None:
    headers = {"Content-Type": "application/json", SECRET_HEADER: WEBHOOK_SECRET}
    huge = json.dumps({"update_id": 80, **message("x" * (2 * 1024 * 1024), sender=user(703))})
    async with aiohttp.ClientSession() as http:
        for body, status in ((huge, 413), ("{not json", 400), ("[1, 2]", 400),
                             ('{"message": {}}', 400), (b"\xff\xfe\x00", 400)):
            data = io.BytesIO(body.encode() if isinstance(body, str) else body)
            async with http.post(hooked.webhook_url, data=data, headers=headers) as resp:
                assert resp.status == status, (body[:20], resp.status)
    assert await storage.jobs.queue_depth() == 0
    assert not api.called("sendMessage")
    # Still up: the next real update is handled.
    update = {"update_id": 81, **message("a red kite over hills", sender=user(703))}
    assert await post(hooked.webhook_url, update, WEBHOOK_SECRET) == 200
    await api.wait_for(lambda: api.sent_to(703), timeout=10)
    assert len(await storage.jobs.jobs_of("telegram:703")) == 1
