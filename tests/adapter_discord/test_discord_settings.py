"""Per-server settings through discord.py against the fake Discord and a real Redis:
allowed channels, the shared daily pool, rules scoped to a server, and ``/settings``."""

from __future__ import annotations

import pytest

from bots.core.moderation import Rules
from bots.i18n import t
from storage import GuildSettings, QuotaLimits, Storage
from tests.adapter_discord.fake_discord import Call, FakeDiscord
from tests.adapter_discord.harness import (
    immediate_refusal,
    private_answer,
    running_bot,
)
from tests.adapter_discord.payloads import CHANNEL, GUILD, USER, click, slash

pytestmark = pytest.mark.slow
ALLOWED = "700000000000000077"
CATEGORY = "700000000000000078"
OTHER_USER = "700000000000000055"
OPERATOR = "700000000000000099"
NAME = f"discord:{GUILD}"
SEND_MESSAGES = str(1 << 11)
MANAGE_GUILD = str((1 << 5) | (1 << 11))
TEXT, CATEGORY_TYPE = 0, 4


def head(locale: str, key: str, **params: object) -> str:
    """A catalog message up to its ``{reset}`` (a duration that depends on the clock)."""
    return t(locale, key, **params, reset="\0").split("\0")[0]




async def queued(fake: FakeDiscord, payload: dict) -> Call:
    """A /video that was accepted: its status message shows the queued job."""
    await fake.interact(payload)
    [status] = await fake.wait_for(lambda: fake.find("edit_message", payload["token"]))
    assert status.payload.get("embeds"), status.payload
    return status


def settings(fake: FakeDiscord, sub: str, options: dict | None = None, *,
             permissions: str = MANAGE_GUILD, user_id: str = USER, **kw) -> dict:
    return slash(fake, "settings", options, sub=sub, permissions=permissions,
                 user_id=user_id, **kw)


async def test_video_outside_the_allowed_channels_is_refused_privately(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    await storage.guilds.add_channel(NAME, ALLOWED, max_channels=5)
    async with running_bot(fake, storage, redis_url):
        text = await immediate_refusal(
            fake, slash(fake, "video", {"prompt": "a red kite"}, locale="es-ES"))
        assert text == t("es", "dc_channel_not_allowed", channels=f"<#{ALLOWED}>")
        assert text != t("en", "dc_channel_not_allowed", channels=f"<#{ALLOWED}>")
        assert await storage.jobs.queue_depth() == 0
        assert (await storage.accounts.quota(f"discord:{USER}", QuotaLimits())).used_clips == 0

        # In the allowed channel, and in a direct message, /video works.
        status = await queued(fake, slash(fake, "video", {"prompt": "a red kite"},
                                          channel_id=ALLOWED))
        [job] = await storage.jobs.jobs_of(f"discord:{USER}")
        await queued(fake, slash(fake, "video", {"prompt": "a kite in a DM"},
                                 guild_id=None, channel_id="700000000000000066",
                                 user_id=OTHER_USER))
        assert await storage.jobs.queue_depth() == 2

        # A Retry clicked in another channel of the server is refused the same way (the
        # clip was, say, cross-posted there: its message carries the button).
        button = {"type": 2, "style": 1, "label": "Retry", "custom_id": f"clip:retry:{job.id}"}
        message = {**fake.messages[status.payload["id"]], "channel_id": CHANNEL,
                   "components": [{"type": 1, "components": [button]}]}
        retry = click(fake, message, f"clip:retry:{job.id}")
        assert await immediate_refusal(fake, retry) == t(
            "en", "dc_channel_not_allowed", channels=f"<#{ALLOWED}>")
        assert len(await storage.jobs.jobs_of(f"discord:{USER}")) == 1


async def test_an_exhausted_server_pool_refuses_until_a_clip_comes_back(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    await storage.guilds.set_pool(NAME, 1)
    async with running_bot(fake, storage, redis_url):
        await queued(fake, slash(fake, "video", {"prompt": "a harbour"}))
        # Refused privately at once: no public "thinking…" first.
        text = await immediate_refusal(
            fake, slash(fake, "video", {"prompt": "a lighthouse"}, user_id=OTHER_USER,
                        locale="fr"))
        assert text.startswith(head("fr", "pool_clips", limit="1"))
        assert head("fr", "pool_clips", limit="1") != head("en", "pool_clips", limit="1")
        assert text != head("fr", "pool_clips", limit="1")  # the reset time follows
        assert await storage.jobs.queue_depth() == 1
        other = f"discord:{OTHER_USER}"
        assert (await storage.accounts.quota(other, QuotaLimits())).used_clips == 0
        # A direct message draws on the member's own quota only.
        await queued(fake, slash(fake, "video", {"prompt": "a dm"}, guild_id=None,
                                 user_id=OTHER_USER))

        # The first member cancels: the server's clip comes back, once.
        await private_answer(fake, slash(fake, "cancel"))
        assert (await storage.guilds.pool_used(NAME))[0] == 0
        await queued(fake, slash(fake, "video", {"prompt": "a lighthouse"},
                                 user_id="700000000000000044"))
        assert (await storage.guilds.pool_used(NAME))[0] == 1


async def test_a_rule_naming_the_server_applies_in_all_its_channels(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    rules = Rules.from_data([{"name": "no swords here", "words": ["sword"], "chats": [GUILD]}])
    async with running_bot(fake, storage, redis_url, rules=rules):
        for channel in (CHANNEL, ALLOWED):
            text = await immediate_refusal(
                fake, slash(fake, "video", {"prompt": "a sword"}, channel_id=channel))
            assert text == t("en", "moderation", rule="no swords here")
        await queued(fake, slash(fake, "video", {"prompt": "a sword"}, guild_id=None))
        assert await storage.jobs.queue_depth() == 1


async def test_settings_need_manage_server_or_an_operator(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    async with running_bot(fake, storage, redis_url, admins=frozenset({OPERATOR})):
        names = {c["name"]: c for c in fake.commands["global"]}
        group = names["settings"]
        assert int(group["default_member_permissions"]) == 1 << 5  # Manage Server
        assert group["dm_permission"] is False
        assert {o["name"] for o in group["options"]} == {
            "show", "channel-add", "channel-remove", "pool"}

        refused = t("en", "dc_settings_managers_only")
        for payload in (
            settings(fake, "pool", {"clips": 3}, permissions=SEND_MESSAGES),
            settings(fake, "channel-add", channels={"channel": (ALLOWED, TEXT)},
                     permissions=SEND_MESSAGES),
            settings(fake, "show", permissions=SEND_MESSAGES),
        ):
            assert await private_answer(fake, payload) == refused
        assert await storage.guilds.get(NAME) == GuildSettings()

        # Outside a server there is nothing to set.
        dm = settings(fake, "pool", {"clips": 3}, guild_id=None)
        assert await private_answer(fake, dm) == t("en", "dc_settings_guild_only")

        # An operator of the bot may, without the permission.
        ok = await private_answer(fake, settings(fake, "pool", {"clips": 3}, user_id=OPERATOR,
                                                 permissions=SEND_MESSAGES))
        assert ok.startswith(t("en", "dc_settings_pool_set", clips=3))
        assert (await storage.guilds.get(NAME)).daily_clips == 3


async def test_settings_pool_channels_and_show(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    async with running_bot(fake, storage, redis_url):
        shown = await private_answer(fake, settings(fake, "show", locale="pt-BR"))
        assert shown == "\n".join([t("pt", "dc_settings_channels_all"),
                                   t("pt", "dc_settings_pool_off")])

        text = await private_answer(fake, settings(fake, "pool", {"clips": 5}))
        assert text.startswith(t("en", "dc_settings_pool_set", clips=5))
        await queued(fake, slash(fake, "video", {"prompt": "a kite"}))
        shown = await private_answer(fake, settings(fake, "show"))
        assert t("en", "dc_settings_channels_all") in shown
        assert shown.splitlines()[-1].startswith(head("en", "dc_settings_pool", used=1, clips=5))

        added = await private_answer(
            fake, settings(fake, "channel-add", channels={"channel": (ALLOWED, TEXT)}))
        assert added.startswith(t("en", "dc_settings_channel_added", channel=f"<#{ALLOWED}>"))
        assert t("en", "dc_settings_channels", channels=f"<#{ALLOWED}>") in added
        again = await private_answer(
            fake, settings(fake, "channel-add", channels={"channel": (ALLOWED, TEXT)}))
        assert again.startswith(
            t("en", "dc_settings_channel_present", channel=f"<#{ALLOWED}>"))
        assert await storage.guilds.get(NAME) == GuildSettings(frozenset({ALLOWED}), 5)

        removed = await private_answer(
            fake, settings(fake, "channel-remove", channels={"channel": (ALLOWED, TEXT)}))
        assert removed.startswith(
            t("en", "dc_settings_channel_removed", channel=f"<#{ALLOWED}>"))
        off = await private_answer(fake, settings(fake, "pool", {"clips": 0}))
        assert off.startswith(t("en", "dc_settings_pool_cleared"))
        assert await storage.guilds.get(NAME) == GuildSettings()


@pytest.mark.parametrize("clips", [-3, 100_001, 2**53])
async def test_absurd_pool_sizes_are_refused_and_change_nothing(
    fake: FakeDiscord, storage: Storage, redis_url: str, clips: int
) -> None:
    await storage.guilds.set_pool(NAME, 4)
    async with running_bot(fake, storage, redis_url):
        text = await private_answer(fake, settings(fake, "pool", {"clips": clips}, locale="sw"))
        assert text == t("sw", "dc_settings_bad_pool", max=100_000)
        category = settings(fake, "channel-add", channels={"channel": (CATEGORY, CATEGORY_TYPE)})
        assert await private_answer(fake, category) == t("en", "dc_settings_bad_channel")
        assert await storage.guilds.get(NAME) == GuildSettings(daily_clips=4)
