"""WhatsApp: a signed body we cannot read is logged without its contents (#15 item 8), and a
signed message older than CLIPBOT_WHATSAPP_MAX_AGE_S is refused as a replay (item 9)."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from clipbot.settings import Settings
from storage import Storage
from tests.adapter_whatsapp import payloads as p
from tests.adapter_whatsapp.conftest import Meta
from tests.adapter_whatsapp.fake_graph import FakeGraph

USER = "16505551234"
PROMPT = "a secret birthday surprise for maria"


async def test_unreadable_signed_body_is_logged_without_prompt_or_number(
    meta: Meta, caplog: pytest.LogCaptureFixture
) -> None:
    payload = p.text(USER, "wamid.BAD", PROMPT)
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"] = {"not": "a string", "from": USER, "body": PROMPT}  # fails validation
    message["timestamp"] = f"{PROMPT} {USER}"  # so does this, echoing both
    with caplog.at_level(logging.WARNING, logger="clipbot.whatsapp"):
        assert await meta.post(payload) == 200
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "cannot read" in logged
    assert PROMPT not in logged and USER not in logged and "birthday" not in logged


async def _jobs(storage: Storage) -> list:
    return await storage.jobs.jobs_of(f"whatsapp:{USER}", 10)


async def test_old_message_is_refused_with_a_log_line(
    meta: Meta, storage: Storage, graph: FakeGraph, settings: Settings,
    caplog: pytest.LogCaptureFixture
) -> None:
    old = int(time.time()) - 3 * 86400  # a 3-day-old signed message, replayed
    with caplog.at_level(logging.WARNING, logger="clipbot.whatsapp"):
        assert await meta.post(p.text(USER, "wamid.OLD3D", "a paper lantern", ts=old)) == 200
    assert any("replay" in r.getMessage() for r in caplog.records)
    # A fresh message after it is taken: the old one was not just slow.
    assert await meta.post(p.text(USER, "wamid.FRESH", "a paper lantern")) == 200

    async def fresh_job() -> None:
        while not await _jobs(storage):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(fresh_job(), 30)
    [job] = await _jobs(storage)
    assert job.request.prompt == "a paper lantern"
    assert settings.whatsapp_max_age_s < 48 * 3600


async def test_message_just_under_the_age_limit_is_taken(
    meta: Meta, storage: Storage, settings: Settings
) -> None:
    ts = int(time.time()) - settings.whatsapp_max_age_s + 600
    assert await meta.post(p.text(USER, "wamid.LATE", "a paper lantern", ts=ts)) == 200

    async def job() -> None:
        while not await _jobs(storage):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(job(), 30)
