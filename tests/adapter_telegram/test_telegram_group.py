"""Groups: /video, an @mention or a reply to us is the way in (privacy mode hides other
plain text); the requester pays; a member's buttons answer only that member."""

from __future__ import annotations

from bots.i18n import t
from bots.telegram.app import Running
from storage import QuotaLimits, Storage
from tests.adapter_telegram.fake_bot_api import BOT_USERNAME, FakeBotApi
from tests.adapter_telegram.updates import GROUP_ID, message, photo, press, user

LIMITS = QuotaLimits(daily_clips=5, max_inflight=3, max_queue=50)


async def test_group_video_charges_the_requesting_user(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    ana, ben = user(601, name="Ana"), user(602, name="Ben", lang="pt")
    await api.inject(message("just chatting about bread", sender=ana, chat_id=GROUP_ID))
    await api.inject(message("/other_bots_command", sender=ana, chat_id=GROUP_ID))
    asked = await api.inject(message(f"/video@{BOT_USERNAME} a dog surfing --seconds 1",
                                     sender=ben, chat_id=GROUP_ID))
    ack = await api.wait_for(lambda: api.sent_to(GROUP_ID), timeout=10)
    assert len(ack) == 1  # plain text and other bots' commands got no answer
    call = api.called("sendMessage")[0]
    assert call.params["reply_parameters"]["message_id"] == asked["message"]["message_id"]
    assert ack[0]["text"] == t("pt", "ack_no_engine")  # Ben's language; no engine online

    [job] = await storage.jobs.jobs_of("telegram:602")
    assert (job.request.chat_id, job.request.user_id) == (str(GROUP_ID), "602")
    assert job.request.prompt == "a dog surfing"
    assert (await storage.accounts.quota("telegram:602", LIMITS)).inflight == 1
    assert (await storage.accounts.quota("telegram:601", LIMITS)).used_clips == 0
    assert not await storage.jobs.jobs_of(f"telegram:{GROUP_ID}")

    await api.inject(message("/quota", sender=ana, chat_id=GROUP_ID))
    replies = await api.wait_for(lambda: len(m := api.sent_to(GROUP_ID)) >= 2 and m,
                                 timeout=10)
    assert replies[1]["text"].startswith("Today you have 5 of 5 clips left")


async def test_bare_unknown_command_in_group_is_ignored_but_addressed_one_answered(
        api: FakeBotApi, bot: Running) -> None:
    ana = user(603)
    await api.inject(message("/dance", sender=ana, chat_id=GROUP_ID))
    addressed = await api.inject(message(f"/dance@{BOT_USERNAME}", sender=ana,
                                         chat_id=GROUP_ID))
    await api.wait_for(lambda: api.sent_to(GROUP_ID), timeout=10)
    await api.inject(message("/help", sender=ana, chat_id=GROUP_ID))
    await api.wait_for(lambda: len(api.sent_to(GROUP_ID)) >= 2, timeout=10)
    texts = [m["text"] for m in api.sent_to(GROUP_ID)]
    assert texts == [t("en", "unknown_command", command="/dance"), t("en", "help")]
    # The one answer to /dance is a reply to the addressed command, not to the bare one.
    answer = api.called("sendMessage")[0]
    assert answer.params["reply_parameters"]["message_id"] == addressed["message"]["message_id"]


async def test_reply_to_our_message_in_group_is_a_request(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    ana = user(604)
    await api.inject(message("/help", sender=ana, chat_id=GROUP_ID))
    [ours] = await api.wait_for(lambda: api.sent_to(GROUP_ID), timeout=10)
    asked = await api.inject(message("a cat please", sender=ana, chat_id=GROUP_ID,
                                     reply_to_message=ours))
    replies = await api.wait_for(lambda: len(m := api.sent_to(GROUP_ID)) >= 2 and m,
                                 timeout=10)
    assert replies[1]["text"] == t("en", "ack_no_engine")
    assert api.called("sendMessage")[1].params["reply_parameters"]["message_id"] == \
        asked["message"]["message_id"]
    [job] = await storage.jobs.jobs_of("telegram:604")
    assert job.request.prompt == "a cat please"


async def test_mention_in_group_is_a_request_and_a_bare_mention_asks_for_a_prompt(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    ana = user(605)
    await api.inject(message(f"@{BOT_USERNAME} a cat on a windowsill", sender=ana,
                             chat_id=GROUP_ID))
    [ack] = await api.wait_for(lambda: api.sent_to(GROUP_ID), timeout=10)
    assert ack["text"] == t("en", "ack_no_engine")
    [job] = await storage.jobs.jobs_of("telegram:605")
    assert job.request.prompt == "a cat on a windowsill"
    await api.inject(message(f"@{BOT_USERNAME}", sender=ana, chat_id=GROUP_ID))
    await api.inject(message("@someone_else a dog", sender=ana, chat_id=GROUP_ID))
    replies = await api.wait_for(lambda: len(m := api.sent_to(GROUP_ID)) >= 2 and m,
                                 timeout=10)
    assert replies[1]["text"] == t("en", "empty_prompt")
    assert len(await storage.jobs.jobs_of("telegram:605")) == 1


async def test_another_members_retry_is_answered_only_to_them(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    ana, ben = user(606), user(607, lang="es")
    await api.inject(message(f"/video@{BOT_USERNAME} a heron in the reeds", sender=ana,
                             chat_id=GROUP_ID))
    [ack] = await api.wait_for(lambda: api.sent_to(GROUP_ID), timeout=10)
    [job] = await storage.jobs.jobs_of("telegram:606")
    await api.inject(press(f"r:{job.id}", sender=ben, on=ack))
    [answer] = await api.wait_for(lambda: api.called("answerCallbackQuery"), timeout=10)
    assert answer.params["text"] == t("es", "again_not_yours")
    assert answer.params.get("show_alert") in (True, "true")
    assert len(api.sent_to(GROUP_ID)) == 1  # nothing public
    assert not await storage.jobs.jobs_of("telegram:607")


async def test_photo_with_a_mention_in_group_is_a_request(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    ana = user(608)
    quiet = api.add_file(b"\xff\xd8 holiday snap")
    await api.inject(photo("look at this", sender=ana, file_id=quiet, chat_id=GROUP_ID))
    asked = api.add_file(b"\xff\xd8 not really a jpeg")
    await api.inject(photo(f"@{BOT_USERNAME} make it move", sender=ana, file_id=asked,
                           chat_id=GROUP_ID))
    await api.wait_for(lambda: api.sent_to(GROUP_ID), timeout=10)
    await api.inject(message("/help", sender=ana, chat_id=GROUP_ID))
    await api.wait_for(lambda: t("en", "help") in api.texts_to(GROUP_ID), timeout=10)
    # No engine here animates images: the polite refusal shows the mention was heard, and
    # the photo without one got nothing.
    assert api.texts_to(GROUP_ID) == [t("en", "image_unsupported"), t("en", "help")]
