"""/mydata on WhatsApp: the sender's own data as text, and the whole export as a
mydata.json document when the text can't hold it all (fake Graph API, real Redis)."""

from __future__ import annotations

import json
import logging

import pytest

from bots.i18n import t
from storage import Storage
from tests.adapter_whatsapp import payloads as p
from tests.adapter_whatsapp.conftest import Meta
from tests.adapter_whatsapp.fake_graph import FakeGraph

USER = "16505557001"  # a US number: English replies
OTHER = "16505557002"
LONG_PROMPT = "a night market in the rain, lanterns swaying above the stalls, " * 4


async def say(meta: Meta, graph: FakeGraph, wa_id: str, wamid: str, text: str) -> list[str]:
    """Send ``text`` and wait for the bot's answer to it; all texts the user got so far."""
    before = len(graph.texts(wa_id))
    assert await meta.post(p.text(wa_id, wamid, text)) == 200
    return await graph.wait_for(lambda: len(m := graph.texts(wa_id)) > before and m)


async def mydata(meta: Meta, graph: FakeGraph, wa_id: str, wamid: str) -> str:
    """Send /mydata and return the answer (other notices, e.g. a cancellation, may interleave)."""
    title = t("en", "mydata_title", user=f"whatsapp:{wa_id}")
    assert await meta.post(p.text(wa_id, wamid, "/mydata")) == 200
    [text] = await graph.wait_for(lambda: [x for x in graph.texts(wa_id) if x.startswith(title)])
    return text


async def test_mydata_shows_my_jobs_and_nobody_elses(
        meta: Meta, storage: Storage, graph: FakeGraph) -> None:
    await say(meta, graph, USER, "wamid.M1", "a paper boat on a puddle")
    await say(meta, graph, USER, "wamid.M2", "a heron at dawn")
    await say(meta, graph, OTHER, "wamid.M3", "the neighbour's secret recipe")

    text = await mydata(meta, graph, USER, "wamid.M4")
    assert "a paper boat on a puddle" in text and "a heron at dawn" in text
    assert "secret recipe" not in text and OTHER not in text
    assert "Videos are deleted after 24 h, job records after 7 days." in text
    assert graph.to(USER, "document") == [] and graph.uploads == []  # short: text only


async def test_long_mydata_also_arrives_as_a_json_document(
        meta: Meta, storage: Storage, graph: FakeGraph) -> None:
    await say(meta, graph, USER, "wamid.L1", LONG_PROMPT)
    await say(meta, graph, OTHER, "wamid.L2", "the neighbour's secret recipe")
    text = await mydata(meta, graph, USER, "wamid.L3")
    assert LONG_PROMPT.strip() not in text
    [doc] = await graph.wait_for(lambda: graph.to(USER, "document"))
    assert doc["document"]["filename"] == "mydata.json"
    assert doc["document"]["caption"] == t("en", "mydata_file")
    media = graph.media[doc["document"]["id"]]
    assert (media.mime, media.filename) == ("text/plain", "mydata.json")
    data = json.loads(media.data)
    assert data["user"] == f"whatsapp:{USER}"
    assert [j["prompt"] for j in data["jobs"]] == [LONG_PROMPT.strip()]
    assert b"secret recipe" not in media.data


async def test_after_forget_mydata_shows_only_anonymous_counters(
        meta: Meta, storage: Storage, graph: FakeGraph) -> None:
    await say(meta, graph, USER, "wamid.F1", "a paper boat on a puddle")
    await say(meta, graph, USER, "wamid.F2", "a heron at dawn")
    assert await meta.post(p.text(USER, "wamid.F3", "/forget")) == 200
    await graph.wait_for(lambda: t("en", "forget_done") in graph.texts(USER))
    text = await mydata(meta, graph, USER, "wamid.F4")
    assert t("en", "mydata_no_jobs") in text
    assert "paper boat" not in text and "heron" not in text
    assert "Usage counters for" in text


async def test_when_the_file_cannot_be_sent_the_text_still_arrives(
        meta: Meta, storage: Storage, graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="clipbot.whatsapp")
    graph.refused_uploads.add("text/plain")
    await say(meta, graph, USER, "wamid.U1", LONG_PROMPT)
    text = await mydata(meta, graph, USER, "wamid.U2")
    assert LONG_PROMPT[:40] in text and LONG_PROMPT.strip() not in text  # cut, with "…"
    assert graph.to(USER, "document") == []
    # Nothing broke: the next message is answered as usual, and the failure was expected.
    assert (await say(meta, graph, USER, "wamid.U3", "/help"))[-1] == t("en", "help")
    assert any(r.getMessage().startswith("could not send mydata.json") for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
