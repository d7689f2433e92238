"""Shared fixtures: a real Redis, with a key prefix of our own per test, cleaned afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from storage import Storage

REDIS_URL = os.environ.get("CLIPBOT_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match="{" + name + "}:*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def storage(prefix: str) -> AsyncIterator[Storage]:
    store = await Storage.open(REDIS_URL, prefix, heartbeat_ttl_ms=1500)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(scope="session")
def preview_model_dir(tmp_path_factory: pytest.TempPathFactory):
    """The tiny random Wan pipeline, built once per test session (a few seconds)."""
    from engine.preview import ensure_preview_model

    return ensure_preview_model(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def preview_generator(preview_model_dir):
    from engine.pipeline import VideoGenerator

    return VideoGenerator.load(str(preview_model_dir), device="cpu")


@pytest.fixture
async def engine(storage: Storage, preview_generator) -> AsyncIterator[object]:
    """A real engine worker on the preview model, running in this event loop.

    Jobs use 2 denoising steps so each takes about a second on CPU.
    """
    import asyncio

    from engine.worker import Worker, WorkerConfig

    worker = Worker(
        storage,
        preview_generator,
        WorkerConfig(engine_id=f"test-engine-{uuid.uuid4().hex[:6]}", profile="preview",
                     default_steps=2, heartbeat_ttl_s=1.5, block_ms=200,
                     progress_interval_s=0.0),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    yield worker
    stop.set()
    await asyncio.wait_for(task, timeout=30)


@pytest.fixture
async def idle_engine(storage: Storage) -> AsyncIterator[str]:
    """An engine that is online (heartbeat kept fresh) but never takes a job: queued jobs
    stay queued while the bots see an engine and so give real ETAs."""
    import asyncio
    import contextlib

    from storage.models import EngineInfo

    info = EngineInfo(engine_id=f"idle-{uuid.uuid4().hex[:6]}", model="preview",
                      device="cpu", preview=True, supports_image=False)

    async def beat() -> None:
        while True:
            await storage.engines.beat(info)
            await asyncio.sleep(0.3)

    await storage.engines.beat(info)
    task = asyncio.create_task(beat())
    yield info.engine_id
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.fixture
def env(redis_url: str, prefix: str) -> dict[str, str]:
    """The environment a real ``clipbot`` process runs with in a test: our Redis, our prefix."""
    e = dict(os.environ)
    e.update(CLIPBOT_REDIS_URL=redis_url, CLIPBOT_REDIS_PREFIX=prefix, LANG="C.UTF-8",
             CLIPBOT_LOG_LEVEL="WARNING")
    return e
