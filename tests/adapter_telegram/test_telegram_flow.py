"""Prompt -> ack -> progress -> H.264 upload, through python-telegram-bot, the fake Bot API,
the real Redis and a real preview-model engine."""

from __future__ import annotations

import asyncio
import itertools
import json

from bots.i18n import t
from bots.telegram.app import Running
from clipbot.media import probe_mp4
from storage import JobRecord, JobState, QuotaLimits, Storage
from tests.adapter_telegram.conftest import EDIT_INTERVAL_S, until
from tests.adapter_telegram.fake_bot_api import FakeBotApi
from tests.adapter_telegram.updates import message, press, user

LIMITS = QuotaLimits(daily_clips=5, max_inflight=3, max_queue=50)


async def delivered(storage: Storage, job_id: str) -> JobRecord | None:
    job = await storage.jobs.get(job_id)
    return job if job is not None and job.delivered else None


def buttons(msg: dict) -> list[str]:
    rows = msg.get("reply_markup", {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row]


async def ack_of(api: FakeBotApi, chat_id: int, n: int = 1) -> dict:
    """The n-th text message the bot sent to the chat (with its buttons)."""
    sent = await api.wait_for(lambda: len(m := api.sent_to(chat_id)) >= n and m, timeout=10)
    return sent[n - 1]


async def test_prompt_to_video(api: FakeBotApi, bot: Running, storage: Storage,
                               engine: object) -> None:
    ana = user(301)
    update = await api.inject(message("a bakery window at sunrise --seconds 1 --ar 9:16",
                                      sender=ana))
    ack = await ack_of(api, 301)
    assert ack["text"].startswith("Got it! You are number 1 in the queue")
    [cancel] = buttons(ack)
    job_id = cancel.removeprefix("c:")
    # Telegram hands the same message over again (a bot that died before confirming).
    await api.inject({"message": update["message"]})

    video = (await api.wait_for(lambda: api.called("sendVideo"), timeout=30))[0]
    p = video.params
    info = probe_mp4(video.files["video"].data)
    assert (info.codec, info.pix_fmt, info.has_b_frames) == ("h264", "yuv420p", False)
    assert (p["width"], p["height"]) == (info.width, info.height)
    assert info.height > info.width  # 9:16 asked for
    assert p["duration"] == max(1, round(info.duration_s))
    assert p["supports_streaming"] is True
    assert video.files["thumbnail"].data[:2] == b"\xff\xd8"  # a JPEG
    assert "a bakery window at sunrise" in p["caption"]
    assert t("en", "preview_notice") in p["caption"]
    assert buttons(p) == [f"r:{job_id}", f"v:{job_id}"]
    assert p["reply_parameters"]["message_id"] == update["message"]["message_id"]

    job = await until(lambda: delivered(storage, job_id), what="the charge to be committed")
    assert job.state is JobState.DONE
    view = await storage.accounts.quota("telegram:301", LIMITS)
    assert (view.used_clips, view.inflight) == (1, 0)
    # The status message served its purpose and is gone; any edits respected flood control.
    assert (301, ack["message_id"]) not in api.messages
    assert not api.violations
    edits = [c.params["text"] for c in api.called("editMessageText")]
    assert all(a != b for a, b in itertools.pairwise(edits))
    assert len(api.called("sendVideo")) == 1
    assert len(await storage.jobs.jobs_of("telegram:301")) == 1
    assert len(api.texts_to(301)) == 1  # one ack, no second "already have it"


async def publish_progress(storage: Storage, job_id: str, steps: int, pause_s: float) -> None:
    """Play an engine: each step's progress message twice (a repeat must not cause an edit)."""
    channel = storage.keys.progress_channel("telegram")
    while (await storage.redis.pubsub_numsub(channel))[0][1] < 1:
        await asyncio.sleep(0.02)
    for step in range(1, steps + 1):
        for _ in range(2):
            await storage.redis.publish(channel, json.dumps(
                {"job": job_id, "phase": "running", "step": step, "total": steps}))
        await asyncio.sleep(pause_s)
    await asyncio.sleep(0.3)


async def queued_job(api: FakeBotApi, chat_id: int) -> tuple[dict, str]:
    await api.inject(message("a lighthouse in a storm", sender=user(chat_id)))
    ack = await ack_of(api, chat_id)
    return ack, buttons(ack)[0].removeprefix("c:")


async def test_progress_edits_at_most_every_interval_and_only_on_change(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    api.edit_min_interval_s = 0.0  # this fake never pushes back: the pacing is all ours
    ack, job_id = await queued_job(api, 302)
    await publish_progress(storage, job_id, steps=30, pause_s=0.05)

    edits = api.called("editMessageText")
    assert len(edits) >= 3
    # Arrival times jitter a little, so count over the whole span.
    span = edits[-1].at - edits[0].at
    assert len(edits) - 1 <= (span + 0.2) / EDIT_INTERVAL_S
    texts = [c.params["text"] for c in edits]
    assert len(set(texts)) == len(texts)
    assert all(c.params["message_id"] == ack["message_id"] for c in edits)
    status = api.messages[(302, ack["message_id"])]
    assert status["text"] == texts[-1] and buttons(status) == [f"c:{job_id}"]


async def test_progress_edits_wait_out_retry_after(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    api.edit_min_interval_s = 0.6  # stricter than our interval: forces 429s
    ack, job_id = await queued_job(api, 307)
    await publish_progress(storage, job_id, steps=30, pause_s=0.08)

    assert api.rate_limited, "the fake never had to push back; the test proves nothing"
    assert not api.violations, "an edit came while Telegram's retry_after was running"
    accepted = [c.params["text"] for c in api.called("editMessageText")
                if c not in api.rate_limited]
    assert len(accepted) >= 2 and len(set(accepted)) == len(accepted)
    assert api.messages[(307, ack["message_id"])]["text"] == accepted[-1]


async def test_duplicate_update_makes_one_job_and_one_reservation(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    ana = user(303)
    first = await api.inject(message("two boats at dawn", sender=ana))
    await ack_of(api, 303)
    await api.inject({"message": first["message"]})
    await api.inject(message("/status", sender=ana))  # handled after the duplicate
    await api.wait_for(lambda: len(api.texts_to(303)) >= 2, timeout=10)
    assert len(api.texts_to(303)) == 2  # the ack and the /status answer, nothing else
    assert len(await storage.jobs.jobs_of("telegram:303")) == 1
    view = await storage.accounts.quota("telegram:303", LIMITS)
    assert (view.used_clips, view.inflight) == (1, 1)  # reserved once, committed on delivery
    assert await storage.jobs.queue_depth() == 1


async def test_cancel_button(api: FakeBotApi, bot: Running, storage: Storage) -> None:
    ana = user(304)
    await api.inject(message("a slow river", sender=ana))
    ack = await ack_of(api, 304)
    [data] = buttons(ack)
    await api.inject(press(data, sender=ana, on=ack))
    answer = (await api.wait_for(lambda: api.called("answerCallbackQuery"), timeout=10))[0]
    assert answer.params["text"] == t("en", "cancelled")
    status = await api.wait_for(
        lambda: (m := api.messages.get((304, ack["message_id"]))) and
        m["text"] == t("en", "cancelled") and m, timeout=10)
    assert "reply_markup" not in status  # no Cancel (nor Retry) on a cancelled job
    view = await storage.accounts.quota("telegram:304", LIMITS)
    assert (view.used_clips, view.inflight) == (0, 0)
    assert await storage.jobs.queue_depth() == 0
    # Someone else's tap on a Cancel button changes nothing.
    await api.inject(message("a second river", sender=ana))
    ack2 = await ack_of(api, 304, 2)
    await api.inject(press(buttons(ack2)[0], sender=user(399), on=ack2))
    answers = await api.wait_for(lambda: (a := api.called("answerCallbackQuery"))
                                 and len(a) >= 2 and a, timeout=10)
    assert answers[1].params["text"] == t("en", "cancel_nothing")
    assert await storage.jobs.queue_depth() == 1


async def test_retry_and_vary_buttons_queue_new_jobs(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    ana = user(305)
    await api.inject(message("a windmill at dusk --seed 7", sender=ana))
    ack = await ack_of(api, 305)
    job_id = buttons(ack)[0].removeprefix("c:")
    await api.inject(press(f"r:{job_id}", sender=ana, on=ack))
    await ack_of(api, 305, 2)
    await api.inject(press(f"v:{job_id}", sender=ana, on=ack))
    await ack_of(api, 305, 3)
    jobs = {j.id: j for j in await storage.jobs.jobs_of("telegram:305")}
    assert len(jobs) == 3
    original = jobs.pop(job_id)
    retry, vary = sorted(jobs.values(), key=lambda j: j.created_at_ms)
    assert retry.request.prompt == original.request.prompt
    assert vary.request.prompt.startswith(original.request.prompt + ", ")
    assert original.request.seed == 7
    assert len(api.called("answerCallbackQuery")) == 2
    # Another user's tap on Ana's Retry button makes nothing, and only they are told why.
    await api.inject(press(f"r:{job_id}", sender=user(398), on=ack))
    answers = await api.wait_for(lambda: len(a := api.called("answerCallbackQuery")) == 3
                                 and a, timeout=10)
    assert answers[2].params["text"] == t("en", "again_not_yours")
    assert len(api.sent_to(305)) == 3
    assert len(await storage.jobs.jobs_of("telegram:305")) == 3
    assert not await storage.jobs.jobs_of("telegram:398")


async def test_user_who_blocked_the_bot_does_not_stall_delivery(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    ana = user(306)
    await api.inject(message("a kite on the beach", sender=ana))
    ack = await ack_of(api, 306)
    job_id = buttons(ack)[0].removeprefix("c:")
    api.blocked.add(306)
    await api.inject(press(f"c:{job_id}", sender=ana, on=ack))
    # Retrying would take 5 tries with growing pauses (about 30 s) before giving up.
    job = await until(lambda: delivered(storage, job_id), timeout=10,
                      what="delivery to give up on a blocked chat")
    assert job.state is JobState.CANCELLED
    assert len(api.called("editMessageText")) == 1  # tried once, not again and again


async def test_status_follows_the_queue_while_waiting(
    api: FakeBotApi, bot: Running, storage: Storage, idle_engine: str
) -> None:
    """An engine that takes nothing: jobs wait. When the one ahead is cancelled, the next
    user's status message says their new place instead of the number the ack gave."""
    ahead, waiting = user(311), user(312, lang="es")
    await api.inject(message("a red kite", sender=ahead))
    await ack_of(api, 311)
    await api.inject(message("una cometa roja", sender=waiting))
    ack = await ack_of(api, 312)
    assert "2" in ack["text"]
    await asyncio.sleep(0.5)  # a few looks at the queue: nothing moved, nothing edited
    assert api.sent_to(312)[0]["text"] == ack["text"]

    await api.inject(message("/cancel", sender=ahead))
    place = t("es", "progress_queued", position=1, eta="ETA").split("ETA")[0]
    edited = await api.wait_for(
        lambda: (m := api.sent_to(312)[0])["text"].startswith(place) and m, timeout=10)
    assert edited["message_id"] == ack["message_id"]
    [cancel] = buttons(edited)  # still cancellable while it waits
    assert cancel.startswith("c:")
