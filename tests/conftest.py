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
