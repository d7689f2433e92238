"""``clipbot bots --telegram``'s entry point: serve(settings, stop) runs and cleans up."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bots.i18n import t
from bots.telegram.app import ConfigError, serve
from clipbot.settings import Settings
from tests.adapter_telegram.conftest import TOKEN
from tests.adapter_telegram.fake_bot_api import FakeBotApi
from tests.adapter_telegram.updates import message, user


async def test_serve_answers_until_stopped(api: FakeBotApi, settings: Settings,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    await api.inject(message("/help", sender=user(801)))
    await api.wait_for(lambda: api.texts_to(801), timeout=15)
    assert api.texts_to(801) == [t("en", "help")]
    stop.set()
    await asyncio.wait_for(task, timeout=15)
    # The updater confirmed what it handled on the way out.
    assert api.called("getUpdates")[-1].params["offset"] > 0
    assert "running (polling)" in caplog.text
    assert TOKEN not in caplog.text  # Bot API URLs carry the token; they stay out of logs


async def test_serve_without_token_explains(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="CLIPBOT_TELEGRAM_TOKEN"):
        await serve(settings.model_copy(update={"telegram_token": ""}), asyncio.Event())
