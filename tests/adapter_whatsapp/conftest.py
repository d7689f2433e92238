"""The WhatsApp bot against a fake Graph API, both on 127.0.0.1, with the real Redis."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bots.whatsapp.app import running
from clipbot.settings import Settings
from storage import QuotaLimits, Storage
from tests.adapter_whatsapp.fake_graph import FakeGraph
from tests.adapter_whatsapp.payloads import PHONE_NUMBER_ID, signature

APP_SECRET = "test-app-secret-0123456789"
VERIFY_TOKEN = "verify-me-please"
TOKEN = "EAAJBtesttoken0123456789"
VERSION = "v21.0"


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph(VERSION, PHONE_NUMBER_ID, TOKEN).start()
    try:
        yield fake
    finally:
        await fake.close()


def make_settings(redis_url: str, prefix: str, graph_url: str, **over: Any) -> Settings:
    values: dict[str, Any] = {
        "redis_url": redis_url, "redis_prefix": prefix, "bot_id": f"wa-{uuid.uuid4().hex[:6]}",
        "whatsapp_token": TOKEN, "whatsapp_app_secret": APP_SECRET,
        "whatsapp_verify_token": VERIFY_TOKEN, "whatsapp_phone_number_id": PHONE_NUMBER_ID,
        "whatsapp_graph_url": graph_url, "whatsapp_api_version": VERSION,
        "daily_clips": 20, "max_inflight": 2, "max_queue": 50, "rules_file": None,
    }
    values.update(over)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def bot_limits() -> QuotaLimits:
    """The quota limits ``make_settings`` gives the bot."""
    return make_settings("redis://127.0.0.1:6379/0", "unused", "").limits


@pytest.fixture
def settings(redis_url: str, prefix: str, graph: FakeGraph) -> Settings:
    return make_settings(redis_url, prefix, graph.url)


@dataclass
class Meta:
    """Plays Meta's side of the webhook: signs and posts bodies to the bot."""

    url: str
    http: aiohttp.ClientSession

    async def post(self, payload: dict[str, Any] | bytes, *, secret: str = APP_SECRET,
                   sign: bool = True, headers: dict[str, str] | None = None) -> int:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        h = {"Content-Type": "application/json", **(headers or {})}
        if sign:
            h["X-Hub-Signature-256"] = signature(secret, body)
        # aiohttp warns about posting big raw bytes; a stream is what it wants.
        data = io.BytesIO(body) if len(body) > 1024 * 1024 else body
        async with self.http.post(self.url, data=data, headers=h) as resp:
            await resp.read()
            return resp.status

    async def get(self, params: dict[str, str]) -> tuple[int, str]:
        async with self.http.get(self.url, params=params) as resp:
            return resp.status, await resp.text()


@pytest.fixture
async def meta(settings: Settings, storage: Storage) -> AsyncIterator[Meta]:
    async with running(settings, storage, host="127.0.0.1", port=0) as url, \
            aiohttp.ClientSession() as http:
        yield Meta(url, http)
