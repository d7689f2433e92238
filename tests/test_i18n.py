"""Message catalogs stay in step with English, and the locale helpers behave."""

from __future__ import annotations

import pytest

from bots import i18n

EN = i18n.catalog("en")
OTHERS = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT]


def test_every_language_has_a_catalog() -> None:
    assert i18n.available() == i18n.LANGUAGES


@pytest.mark.parametrize("lang", OTHERS)
def test_catalog_has_exactly_english_keys(lang: str) -> None:
    assert set(i18n.catalog(lang)) == set(EN)


@pytest.mark.parametrize("lang", OTHERS)
def test_catalog_placeholders_match_english(lang: str) -> None:
    cat = i18n.catalog(lang)
    wrong = {
        key: (i18n.placeholders(cat[key]), i18n.placeholders(text))
        for key, text in EN.items()
        if key in cat and i18n.placeholders(cat[key]) != i18n.placeholders(text)
    }
    assert not wrong


@pytest.mark.parametrize("lang", OTHERS)
def test_every_message_formats(lang: str) -> None:
    for key, text in EN.items():
        params = {name: "X" for name in i18n.placeholders(text)}
        assert i18n.t(lang, key, **params)


def test_t_falls_back_to_english_for_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(i18n.catalog("fr"), "cancelled")
    assert i18n.t("fr", "cancelled") == EN["cancelled"]
    assert i18n.t("fr", "no_such_key") == "no_such_key"


def test_t_fills_params_and_example() -> None:
    assert i18n.t("en", "unknown_command", command="/x") == EN["unknown_command"].replace(
        "{command}", "/x"
    )
    assert i18n.t("es", "empty_prompt").endswith(i18n.catalog("es")["example_prompt"])


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("pt-BR", "pt"), ("zh_Hans", "zh"), ("xx", "en"), (None, "en"), ("AR", "ar")],
)
def test_normalize(locale: str | None, expected: str) -> None:
    assert i18n.normalize(locale) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        ("de, sw;q=0.5", "sw"),
        ("", "en"),
        (None, "en"),
        ("garbage;q=x", "en"),
        ("en;q=0.3, hi;q=0.7", "hi"),
    ],
)
def test_pick(header: str | None, expected: str) -> None:
    assert i18n.pick(header) == expected


@pytest.mark.parametrize(
    ("lang", "seconds", "expected"),
    [("en", 40, "40 s"), ("en", 180, "3 min"), ("en", 7200, "2 h")],
)
def test_duration(lang: str, seconds: float, expected: str) -> None:
    assert i18n.duration(lang, seconds) == expected


def test_is_rtl() -> None:
    assert i18n.is_rtl("ar-EG")
    assert not i18n.is_rtl("en-US")


@pytest.mark.parametrize(("candidates", "default", "expected"), [
    (("pt-BR",), "es", "pt"), (("de", "fr"), "es", "fr"), (("de",), "es", "es"),
    ((None, ""), "ar", "ar"), (("de",), "xx", "en"), (("zh_Hans",), "en", "zh"),
])
def test_first_supported_falls_back_to_the_operators_default(
        candidates: tuple[str | None, ...], default: str, expected: str) -> None:
    assert i18n.first_supported(*candidates, default=default) == expected
