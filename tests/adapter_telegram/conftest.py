"""The Telegram bot (python-telegram-bot itself) against a local fake Bot API server,
with the real Redis; the engine fixture adds a real preview-model engine."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bots.telegram.app import Running, running
from clipbot.settings import Settings
from storage import Storage
from tests.adapter_telegram.fake_bot_api import FakeBotApi

TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"
WEBHOOK_SECRET = "s3cret-Token_0123456789"
ADMIN_ID = 999
# Tests edit faster than production (4 s) and the fake allows fewer edits than that.
EDIT_INTERVAL_S = 0.25
QUEUE_EVERY_S = 0.2  # how often queue places are looked at (10 s in production)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    fake = await FakeBotApi(TOKEN).start()
    try:
        yield fake
    finally:
        await fake.close()


def make_settings(redis_url: str, prefix: str, api: FakeBotApi, **over: Any) -> Settings:
    values: dict[str, Any] = {
        "redis_url": redis_url, "redis_prefix": prefix, "bot_id": f"tg-{uuid.uuid4().hex[:6]}",
        "telegram_token": TOKEN, "telegram_base_url": api.base_url,
        "telegram_base_file_url": api.base_file_url, "admin_ids": [str(ADMIN_ID)],
        "daily_clips": 5, "max_inflight": 3, "max_queue": 50, "rules_file": None,
    }
    values.update(over)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(redis_url: str, prefix: str, api: FakeBotApi) -> Settings:
    return make_settings(redis_url, prefix, api)


def bot_running(settings: Settings, storage: Storage
                ) -> contextlib.AbstractAsyncContextManager[Running]:
    return running(settings, storage, webhook_host="127.0.0.1", webhook_port=0,
                   edit_interval_s=EDIT_INTERVAL_S, poll_timeout_s=1.0,
                   queue_every_s=QUEUE_EVERY_S)


@pytest.fixture
async def bot(settings: Settings, storage: Storage) -> AsyncIterator[Running]:
    async with bot_running(settings, storage) as run:
        yield run


@contextlib.asynccontextmanager
async def engine_running(storage: Storage, generator: object) -> AsyncIterator[object]:
    """A real preview-model engine started mid-test (the ``engine`` fixture starts with the
    test, too early for the restart scenario); 2 denoising steps per job."""
    import asyncio

    from engine.worker import Worker, WorkerConfig

    worker = Worker(storage, generator,  # type: ignore[arg-type]
                    WorkerConfig(engine_id=f"tg-engine-{uuid.uuid4().hex[:6]}",
                                 profile="preview", default_steps=2, heartbeat_ttl_s=1.5,
                                 block_ms=200, progress_interval_s=0.0))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def until(check: Any, timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll an async ``check`` until it returns something truthy."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (result := await check()):
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return result
