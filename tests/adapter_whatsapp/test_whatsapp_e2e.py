"""Prompt in, playable H.264 clip out: the bot, the fake Graph API, Redis and the real
preview engine together."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bots.core import render
from bots.i18n import t
from bots.whatsapp.state import WINDOW_S
from clipbot.media import probe_mp4
from storage import JobRecord, Storage
from tests.adapter_whatsapp import payloads as p
from tests.adapter_whatsapp.conftest import Meta, bot_limits
from tests.adapter_whatsapp.fake_graph import VIDEO_LIMIT, FakeGraph

pytestmark = pytest.mark.slow
USER = "16505550199"


async def delivered(storage: Storage, wa_id: str, n: int = 1) -> list[JobRecord]:
    """Wait until ``n`` of the user's jobs are delivered (charge committed, event acked)."""
    import asyncio

    async def poll() -> list[JobRecord]:
        while True:
            jobs = await storage.jobs.jobs_of(f"whatsapp:{wa_id}", 20)
            done = [j for j in jobs if j.delivered]
            if len(done) >= n:
                return done
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), 60)


def check_clip(graph: FakeGraph, video_msg: dict[str, Any]) -> None:
    media = graph.media[video_msg["video"]["id"]]
    assert media.mime == "video/mp4" and len(media.data) <= VIDEO_LIMIT
    info = probe_mp4(media.data)
    assert info.codec == "h264" and info.pix_fmt == "yuv420p"
    assert info.profile in ("Main", "Baseline", "Constrained Baseline")
    assert not info.has_b_frames and info.faststart and info.frames > 0


async def test_text_becomes_an_uploaded_h264_video_with_buttons(
    meta: Meta, storage: Storage, graph: FakeGraph, engine: object
) -> None:
    prompt = "a red kite over the sea --ar 9:16 --seconds 1"
    assert await meta.post(p.text(USER, "wamid.E2E1", prompt)) == 200
    [job] = await delivered(storage, USER)
    [video] = graph.to(USER, "video")
    check_clip(graph, video)
    assert graph.uploads == [{"messaging_product": "whatsapp", "type": "video/mp4"}]
    assert video["video"]["caption"] == render.caption(job)
    assert t("en", "preview_notice") in video["video"]["caption"]  # the preview model says so
    [buttons] = graph.to(USER, "interactive")
    ids = [b["reply"]["id"] for b in buttons["interactive"]["action"]["buttons"]]
    assert ids == [f"retry:{job.id}", f"vary:{job.id}"]
    # order the user sees: acknowledgement, clip, buttons
    assert [m["type"] for m in graph.to(USER)] == ["text", "video", "interactive"]
    quota = await storage.accounts.quota(f"whatsapp:{USER}", bot_limits())
    assert quota.used_clips == 1 and quota.inflight == 0
    # "typing…" on the user's message: once after the acknowledgement, again on progress
    typing = [r for r in graph.reads if r["message_id"] == "wamid.E2E1"]
    assert len(typing) >= 2 and all(r["typing_indicator"] == {"type": "text"} for r in typing)

    # Tapping Vary (Meta may send the tap twice): one new job, one new clip.
    tap = p.button_reply(USER, "wamid.E2E2", f"vary:{job.id}", "Vary")
    assert await meta.post(tap) == 200
    assert await meta.post(tap) == 200
    jobs = await delivered(storage, USER, 2)
    newest = max(jobs, key=lambda j: j.created_at_ms)
    assert newest.request.prompt.startswith("a red kite over the sea, ")
    assert newest.request.aspect == "9:16" and newest.request.seed != job.request.seed
    assert len(graph.to(USER, "video")) == 2 and len(jobs) == 2
    check_clip(graph, graph.to(USER, "video")[1])


async def test_result_after_the_24h_window_is_held_and_sent_on_next_message(
    meta: Meta, storage: Storage, graph: FakeGraph, engine: object
) -> None:
    # The user's last message is older than 24 h when the clip finishes (Meta would refuse
    # a free-form message now), so the clip must wait for them to write again.
    old = int(time.time() - WINDOW_S - 3600)
    assert await meta.post(p.text(USER, "wamid.OLD", "a paper lantern --seconds 1", ts=old)) == 200
    [job] = await delivered(storage, USER)
    assert graph.to(USER, "video") == []
    [media_id] = [m for m in graph.media if graph.media[m].mime == "video/mp4"]
    assert probe_mp4(graph.media[media_id].data).codec == "h264"
    assert (await storage.accounts.quota(f"whatsapp:{USER}", bot_limits())).used_clips == 1

    assert await meta.post(p.text(USER, "wamid.NEW", "/quota")) == 200
    await graph.wait_for(lambda: graph.to(USER, "video"))
    await graph.wait_for(lambda: len(graph.texts(USER)) == 3)
    kinds = [m["type"] for m in graph.to(USER)]
    assert kinds == ["text", "text", "video", "interactive", "text"]
    assert graph.texts(USER)[1] == t("en", "wa_held")
    [video] = graph.to(USER, "video")
    assert video["video"] == {"id": media_id, "caption": render.caption(job)}
    # announced once only
    assert await meta.post(p.text(USER, "wamid.NEW2", "/quota")) == 200
    await graph.wait_for(lambda: len(graph.texts(USER)) == 4)
    assert len(graph.to(USER, "video")) == 1


async def test_meta_refusing_the_window_also_holds_the_result(
    meta: Meta, storage: Storage, graph: FakeGraph, engine: object
) -> None:
    # Our clock says the window is open but Meta's says closed (error 131047).
    assert await meta.post(p.text(USER, "wamid.W1", "a slow river --seconds 1")) == 200
    await graph.wait_for(lambda: graph.texts(USER))
    graph.closed_windows.add(USER)
    await delivered(storage, USER)
    assert graph.to(USER, "video") == []
    graph.closed_windows.clear()
    assert await meta.post(p.text(USER, "wamid.W2", "/help")) == 200
    await graph.wait_for(lambda: graph.to(USER, "video"))
    check_clip(graph, graph.to(USER, "video")[0])
