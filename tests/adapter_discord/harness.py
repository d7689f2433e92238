"""Run the Discord adapter (and, when a test needs it late, an engine) inside a test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bots.core.moderation import Rules
from bots.core.service import ClipService, CoreConfig
from bots.discord.app import run
from clipbot.settings import Settings
from storage import QuotaLimits, Storage
from tests.adapter_discord.fake_discord import FakeDiscord

BOT_ID = "discord-test-bot"


def bot_settings(fake: FakeDiscord, redis_url: str, prefix: str, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        redis_url=redis_url, redis_prefix=prefix, bot_id=BOT_ID,
        discord_token=fake.bot_token, discord_api_base=fake.api_base, **extra,
    )


@asynccontextmanager
async def running_bot(
    fake: FakeDiscord,
    storage: Storage,
    redis_url: str,
    *,
    window_s: float = 900.0,
    edit_interval_s: float = 0.0,
    admins: frozenset[str] = frozenset(),
    limits: QuotaLimits | None = None,
    rules: Rules | None = None,
    default_locale: str = "en",
) -> AsyncIterator[ClipService]:
    settings = bot_settings(fake, redis_url, storage.keys.prefix,
                            discord_token_window_s=window_s, default_locale=default_locale)
    service = ClipService(storage, CoreConfig(limits=limits or QuotaLimits(), admins=admins,
                                              rules=rules or Rules()))
    stop = asyncio.Event()
    sessions = fake.sessions
    task = asyncio.create_task(run(settings, storage, service, stop,
                                   edit_interval_s=edit_interval_s, poll_s=0.1,
                                   queue_every_s=0.2))
    try:
        await until_ready(fake, task, sessions + 1)
        yield service
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def until_ready(fake: FakeDiscord, task: asyncio.Task[Any], sessions: int) -> None:
    """Wait for the bot's READY, surfacing its exception if it died first."""
    ready = asyncio.create_task(fake.wait_ready(sessions))
    await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        ready.cancel()
        task.result()
        raise AssertionError("the bot stopped before it connected")
    ready.result()


@asynccontextmanager
async def engine_running(storage: Storage, generator: Any) -> AsyncIterator[Any]:
    """The same worker as the ``engine`` fixture, for tests that must start it late."""
    from engine.worker import Worker, WorkerConfig

    worker = Worker(
        storage, generator,
        WorkerConfig(engine_id=f"test-engine-{uuid.uuid4().hex[:6]}", profile="preview",
                     default_steps=2, heartbeat_ttl_s=1.5, block_ms=200,
                     progress_interval_s=0.0),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


# Interaction response types and the message flag the tests look for.
MESSAGE_WITH_SOURCE, DEFERRED_WITH_SOURCE, EPHEMERAL = 4, 5, 64


async def private_answer(fake: FakeDiscord, payload: dict[str, Any]) -> str:
    """The interaction was deferred privately at once, then answered; return the text."""
    await fake.interact(payload)
    token = payload["token"]
    [answer] = await fake.wait_for(lambda: fake.find("edit_message", token))
    [callback] = fake.find("callback", token)
    assert callback.payload["type"] == DEFERRED_WITH_SOURCE
    assert callback.payload["data"]["flags"] & EPHEMERAL
    assert callback.at <= answer.at
    return answer.payload["content"]


async def immediate_refusal(fake: FakeDiscord, payload: dict[str, Any]) -> str:
    """The interaction was answered at once, privately, and nothing else happened."""
    await fake.interact(payload)
    token = payload["token"]
    [answer] = await fake.wait_for(lambda: fake.find("callback", token))
    assert answer.payload["type"] == MESSAGE_WITH_SOURCE
    assert answer.payload["data"]["flags"] & EPHEMERAL
    assert not fake.find("edit_message", token) and not fake.find("followup", token)
    return answer.payload["data"]["content"]
