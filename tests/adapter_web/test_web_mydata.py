"""/mydata in the web chat: the text answer with a download link, and GET /api/mydata,
which gives each browser its own user's data and nobody else's."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from bots.i18n import t
from storage import Storage
from tests.adapter_web.web_helpers import MakeChat, send


async def download(browser: TestClient) -> dict[str, Any]:
    resp = await browser.get("/api/mydata")
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Disposition"] == 'attachment; filename="mydata.json"'
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["Cache-Control"] == "no-store"
    return await resp.json()


async def test_mydata_shows_my_jobs_and_nobody_elses(
        make_chat: MakeChat, storage: Storage) -> None:
    chat = await make_chat()
    ana, ben = await chat.browser("fr"), await chat.browser()
    await send(ana, "un bateau en papier")
    await send(ana, "a heron at dawn --seconds 2")
    await send(ben, "ben's secret garden")

    reply = await send(ana, "/mydata")
    assert reply["kind"] == "reply"
    text = reply["text"]
    assert "un bateau en papier" in text and "a heron at dawn" in text
    assert "secret garden" not in text
    assert t("fr", "mydata_jobs", count=2) in text and t("fr", "state_queued") in text
    assert reply["link"] == {"href": "/api/mydata", "label": t("fr", "mydata_download"),
                             "filename": "mydata.json"}

    mine = await download(ana)
    assert [j["prompt"] for j in mine["jobs"]] == ["a heron at dawn", "un bateau en papier"]
    assert text.startswith(t("fr", "mydata_title", user=mine["user"]))
    assert mine["retention"] == {"clip_ttl_s": 86400, "record_ttl_s": 7 * 86400}
    theirs = await download(ben)
    assert [j["prompt"] for j in theirs["jobs"]] == ["ben's secret garden"]
    assert theirs["user"] != mine["user"]


async def test_mydata_needs_a_session_and_the_password(
        make_chat: MakeChat, storage: Storage) -> None:
    chat = await make_chat()
    stranger = TestClient(chat.server)  # no cookie: nobody to export
    await stranger.start_server()
    chat.clients.append(stranger)
    resp = await stranger.get("/api/mydata")
    assert resp.status == 401 and "jobs" not in await resp.text()

    locked = await make_chat(web_password="open sesame")
    browser = await locked.browser()
    resp = await browser.get("/api/mydata")
    assert resp.status == 401
    assert (await resp.json())["text"] == t("en", "web_password_needed")


async def test_after_forget_mydata_shows_only_anonymous_counters(
        make_chat: MakeChat, storage: Storage) -> None:
    chat = await make_chat()
    ana = await chat.browser()
    await send(ana, "a paper boat on a puddle")
    await send(ana, "a heron at dawn")
    assert (await send(ana, "/forget"))["text"] == t("en", "forget_done")
    text = (await send(ana, "/mydata"))["text"]
    assert t("en", "mydata_no_jobs") in text
    assert "paper boat" not in text and "heron" not in text
    assert "Usage counters for" in text
    data = await download(ana)
    assert data["jobs"] == [] and set(data["quota_today"]) == {"day", "gpu_s", "clips"}
