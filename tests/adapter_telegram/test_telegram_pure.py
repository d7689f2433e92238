"""The adapter's pure decisions, as tables."""

from __future__ import annotations

import datetime as dtm

import pytest

from bots.i18n import t
from bots.telegram.parse import (
    Action,
    Button,
    addressed_to_us,
    button_data,
    command_of,
    locale_for,
    message_key,
    parse_button,
    retry_seconds,
    without_mention,
)
from bots.telegram.texts import MENU, menu


@pytest.mark.parametrize(("text", "expected"), [
    ("/video a cat", ("video", "", "a cat")),
    ("/Video@Clip_Bot  a cat ", ("video", "clip_bot", "a cat")),
    ("/video\na cat\non a roof", ("video", "", "a cat\non a roof")),
    ("/help", ("help", "", "")),
    ("a cat /video", ("", "", "a cat /video")),
    ("", ("", "", "")),
])
def test_command_of(text: str, expected: tuple[str, str, str]) -> None:
    assert command_of(text) == expected


@pytest.mark.parametrize(("target", "username", "private", "ours"), [
    ("", "clip_bot", True, True),
    ("", "clip_bot", False, False),
    ("clip_bot", "Clip_Bot", False, True),
    ("other_bot", "clip_bot", True, False),
])
def test_addressed_to_us(target: str, username: str, private: bool, ours: bool) -> None:
    assert addressed_to_us(target, username, private=private) is ours


@pytest.mark.parametrize(("chosen", "app_lang", "expected"), [
    (None, "es", "es"),
    (None, "pt-BR", "pt"),
    (None, "de", "en"),
    ("fr", "es", "fr"),
    ("xx", "es", "es"),
    (None, None, "en"),
])
def test_locale_for(chosen: str | None, app_lang: str | None, expected: str) -> None:
    assert locale_for(chosen, app_lang) == expected


def test_locale_default_is_the_servers() -> None:
    assert locale_for(None, "de", default="es") == "es"


@pytest.mark.parametrize(("data", "expected"), [
    ("r:abc", Button(Action.RETRY, "abc")),
    ("c:abc", Button(Action.CANCEL, "abc")),
    ("l:es", Button(Action.LANG, "es")),
    ("x:abc", None), ("r:", None), ("r", None), (None, None),
])
def test_parse_button(data: str | None, expected: Button | None) -> None:
    assert parse_button(data) == expected


def test_button_data_fits_telegram_limit() -> None:
    assert parse_button(button_data(Action.VARY, "A" * 16)) == Button(Action.VARY, "A" * 16)
    with pytest.raises(ValueError):
        button_data(Action.RETRY, "A" * 63)


@pytest.mark.parametrize(("text", "expected"), [
    ("@Clip_Bot a cat on a windowsill", "a cat on a windowsill"),
    ("a cat @clip_bot on a roof", "a cat on a roof"),
    ("@clip_bot_two a cat", "@clip_bot_two a cat"),  # another bot whose name starts like ours
    ("@clip_bot", ""),
])
def test_without_mention(text: str, expected: str) -> None:
    assert without_mention(text, "clip_bot") == expected


def test_retry_seconds_takes_both_ptb_forms() -> None:
    assert retry_seconds(3) == 3.0
    assert retry_seconds(dtm.timedelta(seconds=2.5)) == 2.5


def test_message_key_is_per_chat() -> None:
    assert message_key(1, 5) != message_key(2, 5)
    assert message_key(-100, 5) == message_key("-100", "5")


def test_menu_has_valid_commands_in_each_language() -> None:
    for lang in ("en", "es", "ar"):
        names = [name for name, _ in menu(lang)]
        assert names == list(MENU)
        assert all(1 <= len(desc) <= 256 for _, desc in menu(lang))
    # Translated, not English copies.
    assert dict(menu("es"))["video"] == t("es", "cmd_video") != t("en", "cmd_video")
