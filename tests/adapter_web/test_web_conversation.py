"""The whole conversation through the web chat, against the real preview engine."""

from __future__ import annotations

import pytest

from bots.i18n import t
from clipbot.media import probe_mp4
from storage import JobState, Storage
from tests.adapter_web.web_helpers import (
    MakeChat,
    follow_until_final,
    send,
    wait_delivered,
)

pytestmark = pytest.mark.slow


async def test_prompt_to_playable_clip(make_chat: MakeChat, storage: Storage, engine) -> None:
    chat = await make_chat()
    browser = await chat.browser("en-GB,en;q=0.8")
    ws = await browser.ws_connect("/api/events")

    ack = await send(browser, "a bakery window at sunrise --seconds 1", "msg-00000001",
                     aspect="9:16")
    assert ack["kind"] == "ack"
    job = ack["job"]
    assert ack["text"].startswith("Got it! You are number 1 in the queue")
    assert job["prompt"] == "a bakery window at sunrise"  # flags are options, not prompt
    assert (job["aspect"], job["seconds"]) == ("9:16", 1)  # the shape button's choice

    updates = await follow_until_final(ws, job["id"])
    final = updates[-1]
    assert final["state"] == "done", final
    assert [u["state"] for u in updates[:-1]] and all(
        u["state"] in ("queued", "running") for u in updates[:-1]
    )
    assert any("%" in u["text"] for u in updates if u["state"] == "running")  # live progress
    assert final["preview"] is True
    assert final["caption"].startswith("“a bakery window at sunrise” · 1 s · 9:16")

    clip = await browser.get(final["clip"])
    assert clip.status == 200 and clip.headers["Content-Type"] == "video/mp4"
    info = probe_mp4(await clip.read())
    assert info.codec == "h264" and info.frames > 0 and info.duration_s > 0
    assert (info.width, info.height) == (final["width"], final["height"])
    part = await browser.get(final["clip"], headers={"Range": "bytes=0-99"})
    assert part.status == 206 and len(await part.read()) == 100
    assert part.headers["Content-Range"].endswith(f"/{info.size_bytes}")
    thumb = await browser.get(final["thumb"])
    assert thumb.status == 200 and (await thumb.read())[:2] == b"\xff\xd8"
    download = await browser.get(final["download"])
    assert "attachment" in download.headers["Content-Disposition"]

    # Delivered through the result pump: charged exactly once.
    record = await wait_delivered(storage, job["id"])
    assert record.state is JobState.DONE
    quota = await send(browser, "/quota")
    assert quota["text"].startswith("Today you have 99 of 100 clips left")

    # The same message id again (a browser resend) is the same job, no new charge.
    again = await send(browser, "a bakery window at sunrise --seconds 1", "msg-00000001")
    assert again["text"] == t("en", "ack_duplicate")
    assert again["job"]["id"] == job["id"]
    history = await (await browser.get("/api/history")).json()
    assert [j["id"] for j in history["jobs"]] == [job["id"]]
    assert history["jobs"][0]["clip"] == final["clip"]
    await ws.close()

    # Another browser can't see, retry or cancel it, and learns nothing about it.
    stranger = await chat.browser("es")
    for path in (final["clip"], final["thumb"], f"/api/jobs/{job['id']}"):
        resp = await stranger.get(path)
        assert resp.status == 404
        assert (await resp.json())["text"] == t("es", "not_found")
    for action, body in (("again", {"id": "steal-0001", "vary": False}), ("cancel", {})):
        resp = await stranger.post(f"/api/jobs/{job['id']}/{action}", json=body)
        assert resp.status == 404
    assert (await (await stranger.get("/api/history")).json())["jobs"] == []
    assert (await storage.jobs.get(job["id"])).state is JobState.DONE
    assert (await browser.get(final["clip"])).status == 200

    # An expired clip is "not found", politely.
    await storage.clips.delete(record.clip_id)
    gone = await browser.get(final["clip"])
    assert gone.status == 404 and (await gone.json())["text"] == t("en", "not_found")


async def test_retry_and_vary_make_new_jobs(make_chat: MakeChat, storage: Storage,
                                            engine) -> None:
    chat = await make_chat()
    browser = await chat.browser()
    ws = await browser.ws_connect("/api/events")
    first = (await send(browser, "a red kite over the sea --seconds 1 --seed 5"))["job"]
    assert (await follow_until_final(ws, first["id"]))[-1]["state"] == "done"

    retry = await browser.post(f"/api/jobs/{first['id']}/again",
                               json={"id": "retry-0001", "vary": False})
    body = await retry.json()
    assert body["kind"] == "ack" and body["job"]["id"] != first["id"]
    assert body["job"]["prompt"] == first["prompt"]
    assert body["job"]["seed"] != first["seed"]
    assert (await follow_until_final(ws, body["job"]["id"]))[-1]["state"] == "done"

    vary = await (await browser.post(f"/api/jobs/{first['id']}/again",
                                      json={"id": "vary-0001", "vary": True})).json()
    assert vary["job"]["prompt"].startswith(first["prompt"] + ", ")
    # Cancel it from the page: the browser hears the end and nothing is charged.
    stop = await browser.post(f"/api/jobs/{vary['job']['id']}/cancel", json={})
    assert (await stop.json())["text"] in (t("en", "cancelled"), t("en", "cancelling"))
    end = (await follow_until_final(ws, vary["job"]["id"]))[-1]
    assert end["state"] in ("cancelled", "done")
    if end["state"] == "cancelled":
        assert end["text"] == t("en", "cancelled")
    quota = await send(browser, "/quota")
    used = 2 if end["state"] == "cancelled" else 3
    assert quota["text"].startswith(f"Today you have {100 - used} of 100 clips left")
    await ws.close()


