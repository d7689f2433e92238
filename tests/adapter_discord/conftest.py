"""Fixtures of the Discord adapter tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

# Imported first on purpose: it loads discord.py without the stdlib 'audioop' deprecation
# warning, which the test run would otherwise turn into an error.
import bots.discord  # noqa: F401  # isort: skip
from tests.adapter_discord.fake_discord import FakeDiscord


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
