"""The command table: the same answers for every platform, /lang checked in one place,
operator orders parsed and range-checked once (real Redis)."""

from __future__ import annotations

import pytest

from bots.core import operator
from bots.core.commands import ButtonKind, Commands, Style, parse_lang
from bots.core.early import early_refusal
from bots.core.operator import Action, Order, parse_order
from bots.core.service import ClipService, CoreConfig, Submitted, Who
from bots.i18n import available, t
from storage import QuotaLimits, Storage
from storage.grants import GrantError, GrantValues

LIMITS = QuotaLimits(daily_clips=2, daily_gpu_s=1000.0, max_inflight=2, max_queue=10)
ANA = Who("telegram", "11", "11", "es")
ADMIN = Who("telegram", "99", "99", "en")


class Memory:
    def __init__(self) -> None:
        self.langs: dict[str, str] = {}
        self.forgotten: list[str] = []

    async def set_lang(self, user_id: str, lang: str) -> None:
        self.langs[user_id] = lang

    async def forget(self, user_id: str) -> None:
        self.forgotten.append(user_id)


@pytest.fixture
def service(storage: Storage) -> ClipService:
    return ClipService(storage, CoreConfig(limits=LIMITS, admins=frozenset({"telegram:99"})))


@pytest.mark.parametrize(("arg", "expected"), [
    ("es", "es"), ("PT-br", "pt"), ("zh_Hans", "zh"), (" fr ", "fr"),
    ("klingon", None), ("english", None), ("", None), ("e", None),
])
def test_parse_lang(arg: str, expected: str | None) -> None:
    assert parse_lang(arg) == expected


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("grant", ["123", "9"], Order(Action.GRANT, "telegram:123", GrantValues(daily_clips=9))),
    ("grant", ["discord:5", "-", "60", "2"],
     Order(Action.GRANT, "discord:5", GrantValues(daily_gpu_s=60.0, max_inflight=2))),
    ("ban", ["123"], Order(Action.BAN, "telegram:123")),
    ("ban", ["123", "off"], Order(Action.UNBAN, "telegram:123")),
    ("unban", ["123"], Order(Action.UNBAN, "telegram:123")),
    ("usage", ["123"], Order(Action.USAGE, "telegram:123")),
    ("stats", [], Order(Action.STATS)),
])
def test_parse_order(name: str, args: list[str], expected: Order) -> None:
    assert parse_order("telegram", name, args) == expected


@pytest.mark.parametrize(("name", "args"), [
    ("grant", ["123"]), ("grant", ["123", "x"]), ("grant", ["123", "-1"]),
    ("grant", ["123", "100001"]), ("grant", ["123", "1", "2", "3", "4"]),
    ("grant", ["123", "1", "nan"]), ("grant", ["123", "1", "5", "0"]),
    ("ban", []), ("ban", ["123", "on"]), ("usage", ["a:"]), ("stats", ["x"]),
])
def test_parse_order_refuses(name: str, args: list[str]) -> None:
    with pytest.raises(GrantError):
        parse_order("telegram", name, args)


async def test_plain_commands_answer_in_the_users_language(service: ClipService) -> None:
    commands = Commands(service)
    assert (await commands.run(ANA, "help")).text == t("es", "help")
    assert (await commands.run(ANA, "START")).text == t("es", "welcome")
    status = await commands.run(ANA, "status")
    assert (status.text, status.private) == (t("es", "status_none"), True)
    assert (await commands.run(ANA, "cancel")).key == "cancel_nothing"
    assert (await commands.run(ANA, "dance")).text == t("es", "unknown_command",
                                                          command="/dance")


async def test_lang_sets_or_offers_every_language(service: ClipService) -> None:
    memory = Memory()
    commands = Commands(service, memory)
    chosen = await commands.run(ANA, "lang", "pt-BR")
    assert (chosen.text, chosen.lang, memory.langs) == (t("pt", "lang_set"), "pt", {"11": "pt"})
    offer = await commands.run(ANA, "lang", "klingon")
    assert offer.text == t("es", "lang_choose") and offer.lang is None
    assert [b.arg for b in offer.buttons] == list(available())
    assert {b.kind for b in offer.buttons} == {ButtonKind.LANG}
    assert memory.langs == {"11": "pt"}


async def test_forget_clears_the_core_and_the_adapters_memory(
        service: ClipService, storage: Storage) -> None:
    memory = Memory()
    res = await service.request_video(ANA, "a kite", idem_key="k1")
    assert isinstance(res, Submitted)
    reply = await Commands(service, memory).run(ANA, "forget")
    assert reply.text == t("es", "forget_done") and memory.forgotten == ["11"]
    assert not await storage.jobs.jobs_of(ANA.user)


async def test_mydata_stays_out_of_groups_unless_the_platform_answers_privately(
        service: ClipService) -> None:
    in_group = await Commands(service).run(ANA, "mydata", group=True)
    assert in_group.key == "mydata_private" and in_group.file is None
    private = await Commands(service, style=Style(private_replies=True)).run(
        ANA, "mydata", group=True)
    assert private.key == "mydata" and private.private
    web = await Commands(service, style=Style(always_file=True)).run(ANA, "mydata")
    assert web.file is not None and web.file.name == "mydata.json"


async def test_operator_commands_only_for_operators(
        service: ClipService, storage: Storage) -> None:
    commands = Commands(service)
    refused = await commands.run(ANA, "grant", "11 50")
    assert refused.text == t("es", "admin_only")
    assert (await storage.accounts.limits_for("telegram:11", LIMITS)).daily_clips == 2
    usage = await commands.run(ADMIN, "grant", "11 lots")
    assert usage.text == t("en", "grant_usage")
    done = await commands.run(ADMIN, "grant", "11 50")
    assert done.text.startswith(t("en", "admin_done") + " telegram:11: ")
    assert (await storage.accounts.limits_for("telegram:11", LIMITS)).daily_clips == 50
    banned = await commands.run(ADMIN, "ban", "11")
    assert banned.text.endswith(t("en", "admin_banned"))
    assert (await storage.accounts.quota("telegram:11", LIMITS)).banned
    await commands.run(ADMIN, "unban", "telegram:11")
    assert not (await storage.accounts.quota("telegram:11", LIMITS)).banned
    assert (await commands.run(ADMIN, "unban", "")).text == t("en", "user_usage",
                                                               command="/unban")
    stats = await commands.operator(ADMIN, Order(Action.STATS))
    assert stats.text == t("en", "stats", queued=0, running=0, engines=0, done=0, failed=0,
                           cancelled=0, avg="–")


async def test_carry_out_is_what_the_cli_uses(storage: Storage) -> None:
    view = await operator.carry_out(
        storage, LIMITS, Order(Action.GRANT, "web:x", GrantValues(max_inflight=4)))
    assert not isinstance(view, operator.Stats)
    assert view.limits.max_inflight == 4 and view.limits.daily_clips == 2


async def test_early_refusals_match_what_the_submit_would_say(
        service: ClipService, storage: Storage) -> None:
    assert await early_refusal(service, ANA) is None
    first = await service.request_video(ANA, "a kite", idem_key="e1")
    assert isinstance(first, Submitted)
    bob = Who("telegram", "12", "12")
    stranger = await early_refusal(service, bob, again_of=first.job_id)
    assert stranger is not None and stranger.key == "again_not_yours"
    missing = await early_refusal(service, bob, again_of="nope")
    assert missing is not None and missing.key == "not_found"
    await service.request_video(ANA, "a boat", idem_key="e2")
    full = await early_refusal(service, ANA)
    assert full is not None and full.key == "inflight"
    submitted = await service.request_video(ANA, "a third", idem_key="e3")
    assert getattr(submitted, "key", None) == "inflight"
    await storage.accounts.set_banned(bob.user, True)
    banned = await early_refusal(service, bob)
    assert banned is not None and banned.key == "banned"
