"""Operator moderation rules in the languages clipbot's users write.

Rules are transparent: ``check`` names the rule a prompt breaks, and the user is told it.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from bots.core.moderation import Rules

ROOT = Path(__file__).resolve().parents[2]

RULES = Rules.from_data(
    [
        {"name": "sin violencia", "words": ["sangre", "violación", "gore"],
         "languages": ["es"]},
        {"name": "no gore", "words": ["gore", "blood"], "regex": [r"\bdecapitat\w*"]},
        # Arabic attaches the article and prepositions to words (الدماء, بالعنف): a regex
        # with optional prefixes is how an operator covers them.
        {"name": "بدون عنف", "words": ["دماء"],
         "regex": [r"(?:^|\s)(?:و|ب|ل|ال|بال|وال)?عنف(?!\w)"], "languages": ["ar"]},
        {"name": "हिंसा नहीं", "words": ["हिंसा", "खून"], "languages": ["hi"]},
        {"name": "不要暴力", "words": ["暴力", "血腥"], "languages": ["zh"]},
        {"name": "school chat", "words": ["weapon", "gun"], "chats": ["-100777"]},
    ]
)


@pytest.mark.parametrize(
    "prompt, locale, chat, expected",
    [
        # Spanish: case-insensitive, accents kept, whole words only.
        ("un charco de SANGRE en la calle", "es", "", "sin violencia"),
        ("Sangre!", "es", "", "sin violencia"),
        ("una VIOLACIÓN de tráfico", "es", "", "sin violencia"),
        ("un atardecer sangriento", "es", "", None),  # another word that starts alike
        ("un atardecer rojo sangre", "en", "", None),  # rule scoped to Spanish speakers
        ("película gore", "es", "", "sin violencia"),  # first matching rule wins
        ("a gore scene", "en", "", "no gore"),
        ("blood-red sky", "en", "", "no gore"),  # punctuation is a word boundary
        ("bloodhound puppies", "en", "", None),
        ("the decapitated statue", "en", "", "no gore"),
        ("a decapod crab", "en", "", None),
        # Arabic.
        ("دماء على الأرض", "ar", "", "بدون عنف"),
        ("مشهد عنف في الشارع", "ar", "", "بدون عنف"),
        ("مشهد مليء بالعنف", "ar", "", "بدون عنف"),
        ("العنف في المدينة", "ar", "", "بدون عنف"),
        ("عنفوان الشباب", "ar", "", None),  # "vigour": starts alike, another word
        ("حديقة هادئة عند الغروب", "ar", "", None),
        ("دماء", "en", "", None),
        # Hindi.
        ("सड़क पर खून", "hi", "", "हिंसा नहीं"),
        ("हिंसा से भरा दृश्य", "hi", "", "हिंसा नहीं"),
        ("हिंसात्मक", "hi", "", None),  # longer word that starts with the rule word
        ("सूर्यास्त के समय एक शांत झील", "hi", "", None),
        # Chinese, where the word stands alone or between punctuation.
        ("暴力", "zh", "", "不要暴力"),
        ("「暴力」电影海报", "zh", "", "不要暴力"),  # quoted: punctuation bounds it
        ("海报:「暴力」", "zh", "", "不要暴力"),
        ("日落时的平静湖泊", "zh", "", None),
        # Per-chat override: only that group refuses these words.
        ("a water gun fight", "en", "-100777", "school chat"),
        ("a water gun fight", "en", "-100888", None),
        ("a water gun fight", "en", "", None),
    ],
)
def test_moderation_table(prompt: str, locale: str, chat: str, expected: str | None) -> None:
    assert RULES.check(prompt, locale=locale, chat=chat) == expected


@pytest.mark.parametrize("prompt", ["血腥暴力场面", "一个暴力的场景", "我想看暴力电影"])
def test_chinese_words_inside_a_sentence_are_refused(prompt: str) -> None:
    assert RULES.check(prompt, locale="zh") == "不要暴力"


@pytest.mark.parametrize("words, prompt", [(["खून"], "खूनी बादल"), (["कार"], "जंगल में शिकार")])
def test_hindi_whole_words_respect_vowel_signs(words: list[str], prompt: str) -> None:
    rules = Rules.from_data([{"name": "r", "words": words}])
    assert rules.check(prompt, locale="hi") is None


@pytest.mark.parametrize(
    "prompt",
    [unicodedata.normalize("NFD", "una violación"), "un charco de ｓａｎｇｒｅ"],
)
def test_equivalent_unicode_forms_are_refused(prompt: str) -> None:
    assert RULES.check(prompt, locale="es") == "sin violencia"


def test_no_rules_refuse_nothing() -> None:
    assert Rules().check("blood and gore everywhere") is None
    assert Rules.load(None).check("blood") is None


def test_example_rules_file_loads_and_names_its_rules() -> None:
    path = ROOT / "docker" / "rules.example.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    rules = Rules.load(path)
    assert [r.name for r in rules.rules] == [item["name"] for item in data]
    assert rules.check("a GORE movie poster", locale="en") is not None
    assert rules.check("a bakery window at sunrise", locale="en") is None
    assert rules.check("un charco de sangre", locale="es") is not None
    assert rules.check("血腥暴力场面", locale="zh") == "不要暴力"
    assert rules.check("a water pistol", locale="en", chat="-1001234567890") is not None
    assert rules.check("a water pistol", locale="en", chat="-42") is None


SCOPED = Rules.from_data([
    {"name": "server rule", "words": ["sword"], "chats": ["900"]},
    {"name": "channel rule", "words": ["axe"], "chats": ["31"]},
    {"name": "everywhere", "words": ["gore"]},
])


@pytest.mark.parametrize(
    "prompt, chat, scopes, expected",
    [
        # A rule naming a server applies in each of its channels (the chat is the channel).
        ("a sword on a wall", "31", ("900",), "server rule"),
        ("a sword on a wall", "32", ("900",), "server rule"),
        ("a sword on a wall", "31", ("901",), None),  # another server
        ("a sword on a wall", "31", (), None),  # a DM: no server
        ("a sword on a wall", "900", (), "server rule"),  # the id as the chat itself
        # A rule naming one channel stays there, even inside its server.
        ("an axe in a log", "31", ("900",), "channel rule"),
        ("an axe in a log", "32", ("900",), None),
        # Unscoped rules apply everywhere; empty ids never match a scoped rule.
        ("a gore scene", "32", ("901",), "everywhere"),
        ("a sword on a wall", "", ("",), None),
    ],
)
def test_rules_scoped_to_a_server_apply_in_all_its_channels(
    prompt: str, chat: str, scopes: tuple[str, ...], expected: str | None
) -> None:
    assert SCOPED.check(prompt, locale="en", chat=chat, scopes=scopes) == expected
