"""Commands and refusals through python-telegram-bot and the fake Bot API (no engine)."""

from __future__ import annotations

from bots.i18n import t
from bots.telegram.app import Running
from storage import QuotaLimits, Storage
from tests.adapter_telegram.conftest import ADMIN_ID
from tests.adapter_telegram.fake_bot_api import FakeBotApi
from tests.adapter_telegram.updates import message, photo, user


async def reply_to(api: FakeBotApi, chat_id: int, n: int = 1) -> list[str]:
    return await api.wait_for(lambda: (got := api.texts_to(chat_id)) and len(got) >= n and got,
                              timeout=10)


async def nothing_queued(storage: Storage) -> bool:
    return await storage.jobs.queue_depth() == 0 and not await storage.redis.keys(
        storage.keys.base + "job:*")


async def test_start_sets_menu_in_every_language(api: FakeBotApi, bot: Running) -> None:
    menus = api.called("setMyCommands")
    codes = {c.params.get("language_code") for c in menus}
    assert None in codes and {"es", "ar", "zh"} <= codes
    default = next(c for c in menus if c.params.get("language_code") is None)
    assert [c["command"] for c in default.params["commands"]][:3] == ["video", "help", "quota"]
    assert api.called("getMe") and api.called("deleteWebhook")  # polling mode


async def test_help_and_quota(api: FakeBotApi, bot: Running) -> None:
    ana = user(201)
    await api.inject(message("/help", sender=ana))
    assert (await reply_to(api, 201))[0] == t("en", "help")
    await api.inject(message("/quota", sender=ana))
    text = (await reply_to(api, 201, 2))[1]
    assert text.startswith("Today you have 5 of 5 clips left")


async def test_unknown_command_gets_a_polite_answer(api: FakeBotApi, bot: Running) -> None:
    await api.inject(message("/dance now", sender=user(202)))
    assert (await reply_to(api, 202))[0] == t("en", "unknown_command", command="/dance")


async def test_bad_options_are_refused_in_the_users_language(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    await api.inject(message("a cat on a roof --ar 4:3", sender=user(203, lang="es")))
    text = (await reply_to(api, 203))[0]
    assert "4:3" in text and text != t("en", "bad_aspect", value="4:3", choices="")
    assert text.startswith(t("es", "bad_aspect", value="4:3", choices="").split("4:3")[0])
    await api.inject(message("a cat\x07 on a roof", sender=user(203, lang="es")))
    assert (await reply_to(api, 203, 2))[1] == t("es", "bad_characters")
    assert await nothing_queued(storage)


async def test_spanish_user_gets_spanish_help(api: FakeBotApi, bot: Running) -> None:
    await api.inject(message("/help", sender=user(204, lang="es-MX")))
    text = (await reply_to(api, 204))[0]
    assert text == t("es", "help") != t("en", "help")


async def test_lang_command_overrides_app_language(api: FakeBotApi, bot: Running) -> None:
    await api.inject(message("/lang fr", sender=user(205, lang="en")))
    assert (await reply_to(api, 205))[0] == t("fr", "lang_set")
    await api.inject(message("/help", sender=user(205, lang="en")))
    assert (await reply_to(api, 205, 2))[1] == t("fr", "help")


async def test_photo_without_image_engine_is_refused(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    file_id = api.add_file(b"\xff\xd8 not really a jpeg")
    await api.inject(photo("make it move", sender=user(206), file_id=file_id))
    assert (await reply_to(api, 206))[0] == t("en", "image_unsupported")
    assert await nothing_queued(storage)


async def test_admin_commands_only_for_admins(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    await api.inject(message("/stats", sender=user(207)))
    assert (await reply_to(api, 207))[0] == t("en", "admin_only")
    await api.inject(message("/grant 207 9", sender=user(207)))
    assert (await reply_to(api, 207, 2))[1] == t("en", "admin_only")
    assert (await storage.accounts.limits_for("telegram:207", bot_limits())).daily_clips == 5

    admin = user(ADMIN_ID)
    await api.inject(message("/grant 207 9", sender=admin))
    assert (await reply_to(api, ADMIN_ID))[0].startswith(t("en", "admin_done") + " telegram:207")
    assert (await storage.accounts.limits_for("telegram:207", bot_limits())).daily_clips == 9
    await api.inject(message("/ban 207", sender=admin))
    await reply_to(api, ADMIN_ID, 2)
    assert (await storage.accounts.quota("telegram:207", bot_limits())).banned
    await api.inject(message("/stats", sender=admin))
    assert (await reply_to(api, ADMIN_ID, 3))[2] == t(
        "en", "stats", queued=0, running=0, engines=0, done=0, failed=0, cancelled=0, avg="–")
    await api.inject(message("/grant nobody x", sender=admin))
    assert (await reply_to(api, ADMIN_ID, 4))[3] == t("en", "grant_usage")


def bot_limits() -> QuotaLimits:
    """The limits ``make_settings`` gives the bot."""
    return QuotaLimits(daily_clips=5, max_inflight=3, max_queue=50)


async def test_status_cancel_and_forget(api: FakeBotApi, bot: Running, storage: Storage) -> None:
    ana = user(208)
    await api.inject(message("/cancel", sender=ana))
    assert (await reply_to(api, 208))[0] == t("en", "cancel_nothing")
    await api.inject(message("a tram in the rain", sender=ana))
    await reply_to(api, 208, 2)
    await api.inject(message("/status", sender=ana))
    assert (await reply_to(api, 208, 3))[2] == t(
        "en", "status_line", state=t("en", "state_queued"), prompt="a tram in the rain")
    await api.inject(message("/cancel", sender=ana))
    assert (await reply_to(api, 208, 4))[3] == t("en", "cancelled")
    await api.inject(message("/lang es", sender=ana))
    await reply_to(api, 208, 5)
    await api.inject(message("/forget", sender=ana))
    assert (await reply_to(api, 208, 6))[5] == t("es", "forget_done")
    assert not await storage.jobs.jobs_of("telegram:208")
    # /forget dropped the language choice too: back to the app's language.
    await api.inject(message("/help", sender=ana))
    assert (await reply_to(api, 208, 7))[6] == t("en", "help")


async def test_start_welcomes_with_an_example(api: FakeBotApi, bot: Running) -> None:
    await api.inject(message("/start", sender=user(209, lang="pt-BR")))
    text = (await reply_to(api, 209))[0]
    assert text == t("pt", "welcome") and t("pt", "example_prompt") in text


async def test_sticker_in_private_chat_gets_guidance(api: FakeBotApi, bot: Running) -> None:
    sticker = {"file_id": "st1", "file_unique_id": "st1u", "type": "regular", "width": 512,
               "height": 512, "is_animated": False, "is_video": False}
    await api.inject(message(None, sender=user(210), sticker=sticker))
    assert (await reply_to(api, 210))[0] == t("en", "empty_prompt")
