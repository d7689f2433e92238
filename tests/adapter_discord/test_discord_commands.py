"""/quota, /status, /forget and the operators' /grant, /ban, /stats through discord.py."""

from __future__ import annotations

import json

import pytest

from bots.core import render
from bots.core.service import Who
from bots.i18n import t
from storage import QuotaLimits, Storage
from tests.adapter_discord.fake_discord import FakeDiscord
from tests.adapter_discord.harness import (
    immediate_refusal,
    private_answer,
    running_bot,
)
from tests.adapter_discord.payloads import USER, slash

pytestmark = pytest.mark.slow
AUTOCOMPLETE_RESULT = 8
OPERATOR = "700000000000000099"
MEMBER = "700000000000000055"
LIMITS = QuotaLimits(daily_clips=7, daily_gpu_s=300.0)
ROOMY = QuotaLimits(daily_gpu_s=10_000.0, max_inflight=5)



async def test_quota_answers_privately_in_the_users_language(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    async with running_bot(fake, storage, redis_url, limits=LIMITS) as service:
        text = await private_answer(fake, slash(fake, "quota", locale="pt-BR"))
        view = await service.quota(Who("discord", USER, "x", "pt"))
        assert text == render.quota("pt", view)
        assert text != render.quota("en", view)  # really Portuguese, not the fallback
        assert "7" in text


async def test_status_and_forget(fake: FakeDiscord, storage: Storage, redis_url: str) -> None:
    async with running_bot(fake, storage, redis_url):
        await fake.interact(slash(fake, "video", {"prompt": "a quiet harbour"}))
        await fake.wait_for(lambda: fake.find("edit_message"))
        status = await private_answer(fake, slash(fake, "status", locale="fr"))
        assert "a quiet harbour" in status and t("fr", "state_queued") in status

        # Typing in /video's prompt suggests the user's own earlier prompts.
        typing = await fake.interact(
            slash(fake, "video", {"prompt": "HARB"}, focused="prompt"))
        [suggest] = await fake.wait_for(lambda: fake.find("callback", typing["token"]))
        assert suggest.payload == {"type": AUTOCOMPLETE_RESULT, "data": {"choices": [
            {"name": "a quiet harbour", "value": "a quiet harbour"}]}}
        other = await fake.interact(
            slash(fake, "video", {"prompt": "harb"}, focused="prompt", user_id=MEMBER))
        [none] = await fake.wait_for(lambda: fake.find("callback", other["token"]))
        assert none.payload["data"]["choices"] == []  # nobody sees someone else's prompts

        done = await private_answer(fake, slash(fake, "forget", locale="fr"))
        assert done == t("fr", "forget_done")
        assert await storage.jobs.jobs_of(f"discord:{USER}") == []


async def test_operator_commands_check_the_operator_list(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    admins = frozenset({OPERATOR})
    async with running_bot(fake, storage, redis_url, admins=admins, limits=LIMITS):
        grant = {"clips": 40}
        refused = await private_answer(
            fake, slash(fake, "grant", grant, user_id=MEMBER, users={"user": MEMBER}))
        assert refused == t("en", "admin_only")
        assert (await storage.accounts.limits_for(f"discord:{MEMBER}", LIMITS)).daily_clips == 7

        ok = await private_answer(
            fake, slash(fake, "grant", grant, user_id=OPERATOR, users={"user": MEMBER}))
        assert ok.startswith(t("en", "admin_done"))
        assert (await storage.accounts.limits_for(f"discord:{MEMBER}", LIMITS)).daily_clips == 40

        await private_answer(fake, slash(fake, "ban", user_id=OPERATOR, users={"user": MEMBER}))
        assert (await storage.accounts.quota(f"discord:{MEMBER}", LIMITS)).banned
        # The banned member is told so, privately, and nothing is queued.
        refusal = await immediate_refusal(
            fake, slash(fake, "video", {"prompt": "a fox"}, user_id=MEMBER))
        assert refusal == t("en", "banned")
        assert await storage.jobs.queue_depth() == 0

        stats = await private_answer(fake, slash(fake, "stats", user_id=OPERATOR))
        assert "0 waiting" in stats


async def test_mydata_is_private_and_only_mine(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    async with running_bot(fake, storage, redis_url, limits=ROOMY):
        for prompt, user_id in (("a quiet harbour", USER), ("a lantern festival", USER),
                                ("a member's secret garden", MEMBER)):
            sent = await fake.interact(slash(fake, "video", {"prompt": prompt}, user_id=user_id))
            await fake.wait_for(lambda s=sent: fake.find("edit_message", s["token"]))

        payload = slash(fake, "mydata", locale="pt-BR")
        text = await private_answer(fake, payload)
        assert text.startswith(t("pt", "mydata_title", user=f"discord:{USER}"))
        assert "a quiet harbour" in text and "a lantern festival" in text
        assert "secret garden" not in text and MEMBER not in text
        [answer] = fake.find("edit_message", payload["token"])
        assert answer.files == []  # short: the text is all of it

        done = await private_answer(fake, slash(fake, "forget"))
        assert done == t("en", "forget_done")
        after = await private_answer(fake, slash(fake, "mydata"))
        assert t("en", "mydata_no_jobs") in after and "harbour" not in after
        assert "Usage counters for" in after  # anonymous numbers, kept so quotas hold


async def test_long_mydata_comes_with_a_private_json_file(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    long_prompt = "an old tram crossing a bridge in the fog at dawn, " * 5
    async with running_bot(fake, storage, redis_url, limits=ROOMY):
        sent = await fake.interact(slash(fake, "video", {"prompt": long_prompt}))
        await fake.wait_for(lambda: fake.find("edit_message", sent["token"]))
        payload = slash(fake, "mydata")
        text = await private_answer(fake, payload)
    assert long_prompt.strip() not in text and text.endswith(t("en", "mydata_file"))
    [answer] = fake.find("edit_message", payload["token"])
    [upload] = answer.files
    assert upload.filename == "mydata.json"
    data = json.loads(upload.data)
    assert data["user"] == f"discord:{USER}"
    assert [j["prompt"] for j in data["jobs"]] == [long_prompt.strip()]
