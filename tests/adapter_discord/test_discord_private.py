"""What Discord answers privately is decided before anything public appears: a stranger's
Retry, an over-long `negative`, and the operator's default language for a language we
don't speak."""

from __future__ import annotations

import pytest

from bots.core.options import MAX_NEGATIVE_CHARS
from bots.i18n import t
from storage import QuotaLimits, Storage
from tests.adapter_discord.fake_discord import FakeDiscord
from tests.adapter_discord.harness import immediate_refusal, running_bot
from tests.adapter_discord.payloads import USER, click, slash, with_buttons

pytestmark = pytest.mark.slow
STRANGER = "700000000000000077"


async def test_a_strangers_retry_is_answered_only_to_them(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    async with running_bot(fake, storage, redis_url, limits=QuotaLimits(max_inflight=5)):
        sent = await fake.interact(slash(fake, "video", {"prompt": "a heron in the reeds"}))
        [status] = await fake.wait_for(lambda: fake.find("edit_message", sent["token"]))
        [job] = await storage.jobs.jobs_of(f"discord:{USER}")
        ids = (f"clip:retry:{job.id}", f"clip:vary:{job.id}")
        message = with_buttons(fake.messages[status.payload["id"]], *ids)
        for custom_id in ids:
            text = await immediate_refusal(fake, click(
                fake, message, custom_id, user_id=STRANGER, locale="fr"))
            assert text == t("fr", "again_not_yours")
        assert not await storage.jobs.jobs_of(f"discord:{STRANGER}")
        assert not fake.find("delete_message")


async def test_negative_over_the_limit_is_refused_in_the_default_language(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    too_long = "blur " * (MAX_NEGATIVE_CHARS // 5) + "x"
    async with running_bot(fake, storage, redis_url, default_locale="es"):
        # German is not one of ours: the operator's CLIPBOT_DEFAULT_LOCALE answers.
        text = await immediate_refusal(fake, slash(
            fake, "video", {"prompt": "a cat", "negative": too_long}, locale="de"))
        assert text == t("es", "negative_too_long", max=MAX_NEGATIVE_CHARS,
                         length=len(too_long.strip()))
        assert await storage.jobs.queue_depth() == 0
        quota = await storage.accounts.quota(f"discord:{USER}", QuotaLimits())
        assert quota.used_clips == 0
