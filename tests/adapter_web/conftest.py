"""Fixtures: the web chat on a real Redis (the test's own prefix)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bots.core.service import ClipService, CoreConfig
from bots.web.app import create_app
from clipbot.settings import Settings
from storage import QuotaLimits, Storage
from tests.adapter_web.web_helpers import GENEROUS, Chat, MakeChat


@pytest.fixture
def web_settings(prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]  # a developer's .env must not leak in
        redis_prefix=prefix, web_secret=f"test-secret-{prefix}-5Qz8rW2mXk7vB4nJ",
        web_password="",
        model_cache=tmp_path, bot_id=f"bot-{prefix}",
    )


@pytest.fixture
async def make_chat(storage: Storage, web_settings: Settings) -> AsyncIterator[MakeChat]:
    chats: list[Chat] = []

    async def make(limits: QuotaLimits = GENEROUS, **overrides: Any) -> Chat:
        settings = web_settings.model_copy(update=overrides)
        service = ClipService(storage, CoreConfig(limits=limits))
        server = TestServer(create_app(settings, storage, service))
        await server.start_server()
        chat = Chat(server, storage)
        chats.append(chat)
        return chat

    yield make
    for chat in chats:
        await chat.close()


