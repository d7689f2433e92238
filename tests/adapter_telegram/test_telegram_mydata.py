"""/mydata through python-telegram-bot and the fake Bot API: the user's own data, as text,
plus the whole export as mydata.json when the text can't hold it all."""

from __future__ import annotations

import json

from bots.core import render
from bots.core.service import ClipService, Who
from bots.i18n import t
from bots.telegram.app import Running
from storage import Storage
from tests.adapter_telegram.fake_bot_api import FakeBotApi
from tests.adapter_telegram.updates import GROUP_ID, message, user

LONG_PROMPT = "a lighthouse keeper climbing the spiral stairs at dusk, " * 4


async def ask_mydata(api: FakeBotApi, chat_id: int, sender: dict, lang: str = "en") -> str:
    """Send /mydata and return the bot's answer (the message that starts with the title)."""
    title = t(lang, "mydata_title", user=f"telegram:{sender['id']}")
    before = len([x for x in api.texts_to(chat_id) if x.startswith(title)])
    await api.inject(message("/mydata", sender=sender, chat_id=chat_id))
    answers = await api.wait_for(
        lambda: len(m := [x for x in api.texts_to(chat_id) if x.startswith(title)]) > before
        and m, timeout=10)
    return answers[-1]


async def queued(api: FakeBotApi, sender: dict, prompt: str, acks: int) -> None:
    await api.inject(message(prompt, sender=sender))
    await api.wait_for(lambda: len(api.texts_to(sender["id"])) >= acks, timeout=10)


async def test_mydata_shows_my_jobs_and_nobody_elses(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    ana, ben = user(301, lang="es"), user(302)
    await queued(api, ana, "un barco de papel en un charco", 1)
    await queued(api, ana, "a red kite over the sea", 2)
    await queued(api, ben, "ben's secret castle", 1)

    text = await ask_mydata(api, 301, ana, "es")
    assert "un barco de papel en un charco" in text and "a red kite over the sea" in text
    assert "secret castle" not in text and "302" not in text
    assert t("es", "mydata_jobs", count=2) in text and t("es", "state_queued") in text
    assert t("es", "unit_days", n=7) in text  # the deployment's record TTL, in Spanish
    assert not api.called("sendDocument")  # short enough: no file needed


async def test_long_data_also_arrives_as_mydata_json(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    ana = user(303)
    await queued(api, ana, LONG_PROMPT, 1)
    await queued(api, user(304), "someone else's prompt", 1)
    text = await ask_mydata(api, 303, ana)
    assert LONG_PROMPT not in text  # cut in the text...
    [doc] = await api.wait_for(lambda: api.called("sendDocument"), timeout=10)
    upload = doc.files["document"]
    assert upload.filename == "mydata.json"
    assert doc.params["chat_id"] == 303 and doc.params["caption"] == t("en", "mydata_file")
    data = json.loads(upload.data)
    assert [j["prompt"] for j in data["jobs"]] == [LONG_PROMPT.strip()]  # ...whole here
    assert data["user"] == "telegram:303" and b"someone else" not in upload.data
    assert data == json.loads(render.mydata_json(
        await ClipService(storage).export(Who("telegram", "303", "303"))))


async def test_after_forget_mydata_shows_only_anonymous_counters(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    ana = user(305)
    await queued(api, ana, "a tram in the rain", 1)
    await queued(api, ana, "a fox in the snow", 2)
    await api.inject(message("/forget", sender=ana))
    await api.wait_for(lambda: t("en", "forget_done") in api.texts_to(305), timeout=10)
    text = await ask_mydata(api, 305, ana)
    assert "tram" not in text and "fox" not in text
    assert t("en", "mydata_no_jobs") in text
    assert "Usage counters for" in text  # the numbers stay, so /forget can't reset a quota
    assert not api.called("sendDocument")


async def test_mydata_in_a_group_reveals_nothing(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    ana = user(306)
    await queued(api, ana, "a private wish", 1)
    await api.inject(message("/mydata", sender=ana, chat_id=GROUP_ID))
    [answer] = await api.wait_for(lambda: api.texts_to(GROUP_ID), timeout=10)
    assert answer == t("en", "mydata_private")
    assert "a private wish" not in json.dumps([c.params for c in api.calls])
