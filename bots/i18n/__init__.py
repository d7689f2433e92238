"""One place for every user-facing string, in every supported language."""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from string import Formatter
from typing import Any

DEFAULT = "en"
# Ordered as shown in language pickers.
LANGUAGES = ("en", "es", "pt", "fr", "id", "sw", "hi", "ar", "zh")
RTL = frozenset({"ar"})


@cache
def catalog(lang: str) -> dict[str, str]:
    path = resources.files(__package__) / "catalogs" / f"{lang}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def available() -> tuple[str, ...]:
    return tuple(lang for lang in LANGUAGES if catalog(lang))


def normalize(locale: str | None) -> str:
    """'pt-BR' -> 'pt', 'zh_Hans' -> 'zh'; unknown languages fall back to English."""
    if not locale:
        return DEFAULT
    lang = locale.replace("_", "-").split("-")[0].strip().lower()
    return lang if lang in available() else DEFAULT


def first_supported(*candidates: str | None, default: str = DEFAULT) -> str:
    """The first candidate whose language we speak ('pt-BR' counts as 'pt'), else
    ``default`` (the operator's CLIPBOT_DEFAULT_LOCALE), never silently English."""
    for candidate in candidates:
        if candidate:
            lang = candidate.replace("_", "-").split("-")[0].strip().lower()
            if lang in available():
                return lang
    return normalize(default)


def pick(accept_language: str | None) -> str:
    """Best supported language from an HTTP Accept-Language header (q=0 means 'not this')."""
    best, best_q = DEFAULT, 0.0
    for part in (accept_language or "").split(","):
        lang, *params = (p.strip() for p in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        code = normalize(lang)
        if code == lang.split("-")[0].strip().lower() and weight > best_q:
            best, best_q = code, weight
    return best


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(locale: str | None, key: str, **params: Any) -> str:
    """The message ``key`` in ``locale``, falling back to English, with params filled in."""
    lang = normalize(locale)
    text = catalog(lang).get(key) or catalog(DEFAULT).get(key) or key
    if "example" not in params and "{example}" in text:
        params["example"] = t(lang, "example_prompt")
    return text.format_map(_Safe(params))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def duration(locale: str | None, seconds: float) -> str:
    """A short human duration: '40 s', '3 min', '2 h'."""
    s = max(1, math.ceil(seconds))
    if s < 90:
        return t(locale, "unit_seconds", n=s)
    if s < 90 * 60:
        return t(locale, "unit_minutes", n=math.ceil(s / 60))
    return t(locale, "unit_hours", n=math.ceil(s / 3600))


def is_rtl(locale: str | None) -> bool:
    return normalize(locale) in RTL
