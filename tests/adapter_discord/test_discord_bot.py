"""The Discord adapter through discord.py against the local fake Discord, real Redis and
the preview engine."""

from __future__ import annotations

import asyncio
import itertools
import re

import pytest

from bots.core.options import MAX_SECONDS
from bots.discord.app import serve
from bots.i18n import t
from clipbot.media import probe_mp4
from storage import JobState, QuotaLimits, Storage
from tests.adapter_discord.fake_discord import Call, FakeDiscord
from tests.adapter_discord.harness import (
    bot_settings,
    engine_running,
    immediate_refusal,
    running_bot,
    until_ready,
)
from tests.adapter_discord.payloads import CHANNEL, USER, click, custom_ids, slash

pytestmark = pytest.mark.slow
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content
DEFERRED_WITH_SOURCE, MESSAGE_WITH_SOURCE = 5, 4
EPHEMERAL = 64


def edits(fake: FakeDiscord, token: str) -> list[Call]:
    return fake.find("edit_message", token)


def embed_text(call: Call) -> str:
    return " ".join(e.get("description", "") for e in call.payload.get("embeds") or [])


def is_final(call: Call) -> bool:
    """The status message's last edit: 'Ready', and the Cancel button gone."""
    return call.payload.get("components") == [] and t("en", "state_done") in embed_text(call)


async def followup_of(fake: FakeDiscord, token: str, timeout: float = 90.0) -> Call:
    calls = await fake.wait_for(lambda: fake.find("followup", token), timeout)
    return calls[0]


async def jobs_of(storage: Storage, user: str = USER) -> list:
    return await storage.jobs.jobs_of(f"discord:{user}", 50)


async def test_video_defers_edits_status_and_follows_up_with_h264(
    fake: FakeDiscord, storage: Storage, redis_url: str, engine: object
) -> None:
    async with running_bot(fake, storage, redis_url):
        # Connected without privileged intents; commands registered with descriptions.
        assert fake.identify is not None
        assert fake.identify["intents"] & PRIVILEGED_INTENTS == 0
        names = {c["name"] for c in fake.commands["global"]}
        assert {"video", "quota", "status", "cancel", "forget", "grant", "ban", "stats"} <= names

        limit = 5 * 1024 * 1024
        payload = slash(fake, "video", {"prompt": "a bakery window at sunrise",
                                        "aspect": "9:16", "seconds": 1, "seed": 7},
                        size_limit=limit)
        await fake.interact(payload)
        await fake.interact(payload)  # the gateway delivers the same interaction again
        token = payload["token"]
        follow = await followup_of(fake, token)

        # One deferral accepted (the re-delivery's answer is refused by Discord), one job.
        callbacks = fake.find("callback", token)
        assert sorted((c.payload["type"], c.status) for c in callbacks) == [
            (DEFERRED_WITH_SOURCE, 200), (DEFERRED_WITH_SOURCE, 400)]
        [job] = await jobs_of(storage)
        assert job.request.aspect == "9:16" and job.request.seed == 7

        status = edits(fake, token)
        assert status, "the deferred reply was never turned into a status embed"
        first = embed_text(status[0])
        assert re.search(r"<t:\d+:R>", first), first  # the countdown
        assert "▱" in first  # the progress bar
        assert any("▰" in embed_text(c) for c in status[1:]), "no progress shown"
        assert custom_ids(status[0].payload) == [f"clip:cancel:{job.id}"]
        assert min(c.at for c in callbacks) <= status[0].at <= follow.at

        # The clip: an H.264 MP4 under the guild's limit, with Retry / Vary buttons.
        [upload] = follow.files
        assert upload.filename.endswith(".mp4")
        assert len(upload.data) <= limit
        info = probe_mp4(upload.data)
        assert info.codec == "h264" and info.frames > 0
        assert "a bakery window at sunrise" in follow.payload["content"]
        assert custom_ids(follow.payload) == [f"clip:retry:{job.id}", f"clip:vary:{job.id}"]

        # Charged once, marked delivered; the status message ends as done without buttons.
        await fake.wait_for(lambda: is_final(edits(fake, token)[-1]))
        assert "100%" in embed_text(edits(fake, token)[-1])
        # Marked delivered only after Discord accepted the clip and the last edit: poll.
        for _ in range(200):
            if (await storage.jobs.get(job.id)).delivered:  # type: ignore[union-attr]
                break
            await asyncio.sleep(0.05)
        assert (await storage.jobs.get(job.id)).delivered  # type: ignore[union-attr]
        assert len(fake.find("followup", token)) == 1
        assert (await storage.accounts.quota(job.user, QuotaLimits())).used_clips == 1

        # Retry on the delivered clip, in a server with a tiny upload limit: a new job with
        # the same prompt, re-encoded down to fit rather than refused.
        message = fake.messages[follow_message_id(fake, job.id)]
        tiny = len(upload.data) * 2 // 3
        retry = await fake.interact(
            click(fake, message, f"clip:retry:{job.id}", size_limit=tiny))
        second = await followup_of(fake, retry["token"])
        jobs = await jobs_of(storage)
        assert len(jobs) == 2
        new = next(j for j in jobs if j.id != job.id)
        assert new.request.prompt == job.request.prompt
        stored = await storage.clips.get(new.clip_id)
        assert stored is not None and len(stored) > tiny  # so it had to be re-encoded
        [small] = second.files
        assert len(small.data) <= tiny
        assert probe_mp4(small.data).codec == "h264" and probe_mp4(small.data).frames > 0
        assert not fake.find("webhook_rejected")


def follow_message_id(fake: FakeDiscord, job_id: str) -> str:
    return next(m["id"] for m in fake.messages.values()
                if custom_ids(m)[:1] == [f"clip:retry:{job_id}"])


async def test_serve_throttles_status_edits_to_one_per_five_seconds(
    fake: FakeDiscord, storage: Storage, redis_url: str, engine: object
) -> None:
    stop = asyncio.Event()
    settings = bot_settings(fake, redis_url, storage.keys.prefix)
    task = asyncio.create_task(serve(settings, stop))  # the real entry point, default pacing
    try:
        await until_ready(fake, task, 1)
        sent = await fake.interact(slash(fake, "video", {"prompt": "waves on a pier"}))
        await followup_of(fake, sent["token"])
        await fake.wait_for(lambda: is_final(edits(fake, sent["token"])[-1]))
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
    status = edits(fake, sent["token"])
    # The engine reports every step; only the final edit may come sooner than 5 s.
    gaps = [b.at - a.at for a, b in itertools.pairwise(status[:-1])]
    assert all(gap >= 4.9 for gap in gaps), gaps
    assert len(status) >= 2


BAD_OPTIONS = [  # what the Discord app should block, sent anyway: (options, key, params)
    ({"prompt": "a cat", "seconds": MAX_SECONDS + 4}, "bad_seconds",
     {"value": str(MAX_SECONDS + 4), "min": 1, "max": MAX_SECONDS}),
    ({"prompt": "a cat", "aspect": "7:3"}, "bad_aspect",
     {"value": "7:3", "choices": "16:9, 9:16, 1:1"}),
    ({"prompt": "a cat", "seed": -5}, "bad_seed", {"value": "-5", "min": 0, "max": 2**32 - 1}),
    ({"prompt": "   "}, "empty_prompt", {}),
    ({"prompt": "a cat", "negative": "\x1b[31m"}, "bad_characters", {}),
]


async def test_bad_options_get_a_private_localised_refusal_and_queue_nothing(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    async with running_bot(fake, storage, redis_url):
        for options, key, params in BAD_OPTIONS:
            sent = await fake.interact(slash(fake, "video", options, locale="es-ES"))
            [answer] = await fake.wait_for(lambda s=sent: fake.find("callback", s["token"]))
            assert answer.payload["type"] == MESSAGE_WITH_SOURCE, key
            assert answer.payload["data"]["flags"] & EPHEMERAL
            text = answer.payload["data"]["content"]
            assert text == t("es", key, **params)
            assert text != t("en", key, **params)  # really Spanish
        await asyncio.sleep(0.3)
        assert await jobs_of(storage) == []
        assert await storage.jobs.queue_depth() == 0
        assert not fake.find("followup") and not fake.find("edit_message")


async def test_quota_refusal_is_private_with_no_public_thinking(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    async with running_bot(fake, storage, redis_url, limits=QuotaLimits(daily_clips=0)):
        text = await immediate_refusal(fake, slash(fake, "video", {"prompt": "a lighthouse"}))
        assert "clips" in text
        assert not fake.find("delete_message")
        assert await jobs_of(storage) == []


async def test_cancel_button_cancels_a_queued_job_without_charge(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    async with running_bot(fake, storage, redis_url):  # no engine: the job stays queued
        sent = await fake.interact(slash(fake, "video", {"prompt": "a slow train"}))
        [status] = await fake.wait_for(lambda: edits(fake, sent["token"]))
        [job] = await jobs_of(storage)
        assert custom_ids(status.payload) == [f"clip:cancel:{job.id}"]

        message = fake.messages[status.payload["id"]]
        press = await fake.interact(click(fake, message, f"clip:cancel:{job.id}"))
        [answer] = await fake.wait_for(lambda: edits(fake, press["token"]))
        assert answer.payload["content"] == t("en", "cancelled")
        await fake.wait_for(
            lambda: t("en", "cancelled") in embed_text(edits(fake, sent["token"])[-1])
        )
        assert (await storage.jobs.get(job.id)).state is JobState.CANCELLED  # type: ignore[union-attr]
        quota = await storage.accounts.quota(f"discord:{USER}", QuotaLimits())
        assert quota.used_clips == 0 and quota.inflight == 0


async def test_status_embed_follows_the_queue_while_waiting(
    fake: FakeDiscord, storage: Storage, redis_url: str, idle_engine: str
) -> None:
    # An engine is online but takes nothing: both jobs wait, the second behind the first.
    other = "700000000000000077"
    async with running_bot(fake, storage, redis_url):
        first = await fake.interact(slash(fake, "video", {"prompt": "a slow train"}))
        await fake.wait_for(lambda: edits(fake, first["token"]))
        second = await fake.interact(
            slash(fake, "video", {"prompt": "un tren lento"}, user_id=other, locale="es-ES"))
        [status] = await fake.wait_for(lambda: edits(fake, second["token"]))
        assert t("es", "ack_queued", position=2, eta="X").split("X")[0] in embed_text(status)
        await asyncio.sleep(0.6)  # the queue is looked at (every 0.2 s here): nothing moved
        assert len(edits(fake, second["token"])) == 1

        await fake.interact(slash(fake, "cancel", {}))
        now_first = t("es", "ack_queued", position=1, eta="X").split("X")[0]
        moved = await fake.wait_for(
            lambda: (e := edits(fake, second["token"])) and now_first in embed_text(e[-1]) and e)
        assert re.search(r"<t:\d+:R>", embed_text(moved[-1]))  # a fresh countdown
        [job] = await jobs_of(storage, other)
        assert custom_ids(moved[-1].payload) == [f"clip:cancel:{job.id}"]


async def test_job_outliving_the_token_is_posted_in_the_channel(
    fake: FakeDiscord, storage: Storage, redis_url: str, preview_generator: object
) -> None:
    fake.token_window_s = 1.0
    async with running_bot(fake, storage, redis_url, window_s=1.0):
        sent = await fake.interact(slash(fake, "video", {"prompt": "fireflies in a jar"}))
        await fake.wait_for(lambda: edits(fake, sent["token"]))
        await asyncio.sleep(1.2)  # the interaction token is now dead
        async with engine_running(storage, preview_generator):
            [post] = await fake.wait_for(lambda: fake.find("channel_message"), 90)
        assert post.path.endswith(f"/channels/{CHANNEL}/messages")
        assert post.payload["content"].startswith(f"<@{USER}>")
        assert [str(u) for u in post.payload["allowed_mentions"]["users"]] == [USER]
        assert post.payload["allowed_mentions"]["parse"] == []
        [upload] = post.files
        assert probe_mp4(upload.data).codec == "h264"
        assert not fake.find("followup")
        assert not fake.find("webhook_rejected")  # never tried the dead token


async def test_late_failure_goes_by_dm_when_the_channel_refuses_the_bot(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    fake.token_window_s = 1.0
    async with running_bot(fake, storage, redis_url, window_s=1.0):  # no engine: stays queued
        sent = await fake.interact(
            slash(fake, "video", {"prompt": "rain on a window"}, locale="fr"))
        await fake.wait_for(lambda: edits(fake, sent["token"]))
        await asyncio.sleep(1.2)  # the interaction token is now dead
        fake.refuse_channels.add(CHANNEL)
        cancel = await fake.interact(slash(fake, "cancel", locale="fr"))
        [answer] = await fake.wait_for(lambda: edits(fake, cancel["token"]))
        assert answer.payload["content"] == t("fr", "cancelled")

        [refused, dm] = await fake.wait_for(
            lambda: len(fake.find("channel_message")) >= 2 and fake.find("channel_message"))
        assert refused.status == 403 and refused.path.endswith(f"/{CHANNEL}/messages")
        [opened] = fake.find("open_dm")
        assert str(opened.payload["recipient_id"]) == USER
        assert dm.status == 200 and CHANNEL not in dm.path
        assert dm.payload["content"] == f"<@{USER}> {t('fr', 'cancelled')}"
        assert len(fake.find("edit_message", sent["token"])) == 1  # dead token left alone
        assert not fake.find("webhook_rejected")


async def test_restarted_bot_delivers_a_job_finished_while_it_was_down(
    fake: FakeDiscord, storage: Storage, redis_url: str, preview_generator: object
) -> None:
    async with running_bot(fake, storage, redis_url):
        sent = await fake.interact(slash(fake, "video", {"prompt": "a snowy street"}))
        await fake.wait_for(lambda: edits(fake, sent["token"]))
    [job] = await jobs_of(storage)
    async with engine_running(storage, preview_generator):
        for _ in range(900):  # generous: CI machines can be slow
            if (await storage.jobs.get(job.id)).state is JobState.DONE:  # type: ignore[union-attr]
                break
            await asyncio.sleep(0.1)
    async with running_bot(fake, storage, redis_url):
        follow = await followup_of(fake, sent["token"])
        assert probe_mp4(follow.files[0].data).codec == "h264"
    assert (await storage.jobs.get(job.id)).delivered  # type: ignore[union-attr]
