"""The Discord adapter's pure pieces, as tables."""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord import app_commands

from bots.core.options import InputError, VideoOptions
from bots.discord.commands import MAX_SEED, video_defaults
from bots.discord.layout import ReplyContext, progress_bar, relative_time
from bots.discord.translator import MAX_CHARS, CatalogTranslator
from bots.discord.views import CUSTOM_ID, clip_view, custom_id
from bots.i18n import catalog


@pytest.mark.parametrize(
    ("percent", "bar"),
    [
        (0, "▱▱▱▱▱▱▱▱▱▱▱▱ 0%"),
        (50, "▰▰▰▰▰▰▱▱▱▱▱▱ 50%"),
        (99, "▰▰▰▰▰▰▰▰▰▰▰▱ 99%"),
        (100, "▰▰▰▰▰▰▰▰▰▰▰▰ 100%"),
        (140, "▰▰▰▰▰▰▰▰▰▰▰▰ 100%"),
        (-3, "▱▱▱▱▱▱▱▱▱▱▱▱ 0%"),
    ],
)
def test_progress_bar(percent: float, bar: str) -> None:
    assert progress_bar(percent) == bar


def test_relative_time_rounds_up_to_whole_seconds() -> None:
    assert relative_time(1700000000.2) == "<t:1700000001:R>"


@pytest.mark.parametrize(
    ("age", "window", "alive"),
    [
        (0, 900, True),
        (869, 900, True),  # 30 s margin before Discord's own deadline
        (870, 900, False),
        (0.5, 1.0, True),
        (0.8, 1.0, False),  # short windows keep a quarter as margin
    ],
)
def test_token_alive_leaves_a_margin(age: float, window: float, alive: bool) -> None:
    ctx = ReplyContext(app_id="1", token="t", created_at=1000.0, channel_id="2", user_id="3")
    assert ctx.token_alive(1000.0 + age, window) is alive


def test_reply_context_round_trips_and_ignores_foreign_contexts() -> None:
    ctx = ReplyContext(app_id="1", token="t", created_at=5.0, channel_id="2", user_id="3",
                       guild_id="4", status_message_id="9", upload_limit=25 << 20)
    assert ReplyContext.from_dict(ctx.to_dict()) == ctx
    assert ReplyContext.from_dict({"chat_id": 5, "message_id": 7}) is None  # a Telegram job


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((None, None, None, None), VideoOptions()),
        (("9:16", 3, 7, "blur, text"),
         VideoOptions(aspect="9:16", seconds=3, seed=7, negative="blur, text")),
        (("square", None, MAX_SEED, "   "), VideoOptions(aspect="1:1", seed=MAX_SEED)),
    ],
)
def test_video_defaults_maps_slash_options(args: tuple, expected: VideoOptions) -> None:
    assert video_defaults(*args) == expected


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (("7:3", None, None, None), "bad_aspect"),
        ((None, 0, None, None), "bad_seconds"),
        ((None, 99, None, None), "bad_seconds"),
        ((None, None, -1, None), "bad_seed"),
        ((None, None, MAX_SEED + 1, None), "bad_seed"),
        ((None, None, None, "ok\x00"), "bad_characters"),
    ],
)
def test_video_defaults_refuses_what_discord_should_have_blocked(args: tuple, key: str) -> None:
    with pytest.raises(InputError) as info:
        video_defaults(*args)
    assert info.value.key == key


def test_button_ids_fit_discord_and_parse_back() -> None:
    import re

    cid = custom_id("vary", "AbC-_12345678901")
    assert len(cid) <= 100
    m = re.fullmatch(CUSTOM_ID, cid)
    assert m is not None and m["action"] == "vary" and m["job_id"] == "AbC-_12345678901"
    assert re.fullmatch(CUSTOM_ID, "clip:delete:abc") is None
    ids = [item.custom_id for item in clip_view("en", "J1").children]  # type: ignore[attr-defined]
    assert ids == ["clip:retry:J1", "clip:vary:J1"]


def test_command_descriptions_are_translated_and_fit_discord() -> None:
    keys = [k for k in catalog("en") if k.startswith(("dc_cmd_", "dc_opt_", "dc_aspect_"))]
    assert len(keys) >= 20
    for lang in ("es", "hi", "zh"):
        for key in keys:
            assert 1 <= len(catalog(lang)[key]) <= MAX_CHARS, (lang, key)
    assert catalog("fr")["dc_cmd_video"] != catalog("en")["dc_cmd_video"]


def test_translator_uses_catalogs_only_and_respects_discord_limits() -> None:
    translator = CatalogTranslator()
    ctx = app_commands.TranslationContext(app_commands.TranslationContextLocation.other, None)

    def run(key: str | None, locale: discord.Locale) -> str | None:
        s = app_commands.locale_str("English", **({"key": key} if key else {}))
        return asyncio.run(translator.translate(s, locale, ctx))

    assert run("btn_retry", discord.Locale.american_english) is None  # English is the source
    assert run(None, discord.Locale.brazil_portuguese) is None
    assert run("dc_no_such_key", discord.Locale.french) is None
    pt = run("btn_retry", discord.Locale.brazil_portuguese)
    assert pt == catalog("pt").get("btn_retry")
    long_key = next((k for k, v in catalog("pt").items() if len(v) > MAX_CHARS), None)
    if long_key is not None:
        assert len(run(long_key, discord.Locale.brazil_portuguese) or "") == MAX_CHARS
