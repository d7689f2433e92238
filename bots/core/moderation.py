"""Operator moderation rules: transparent, applied before anything is queued.

A rules file (JSON) is a list of rules::

    [{"name": "no violence", "words": ["gore", "blood"], "regex": [], "languages": ["en"],
      "chats": []}]

``words`` match whole words case-insensitively; ``regex`` are Python patterns;
``languages``/``chats`` (empty = all) limit where a rule applies. A request belongs to its
chat and to any wider scopes the adapter names (a Discord channel's server), so a rule
listing a server's id applies in every channel of it. The user is told the rule's name;
nothing is hidden.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

# Scripts written without spaces between words: a rule word there matches as a substring.
_UNSPACED = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x2FFFF),  # CJK extensions B+
)


def normalize(text: str) -> str:
    """NFKC + casefold, so decomposed accents and full-width letters match their plain form."""
    return unicodedata.normalize("NFKC", text).casefold()


def _unspaced(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in _UNSPACED)


def _wordish(ch: str) -> bool:
    # Combining marks (Devanagari vowel signs...) belong to the word they sit in.
    return ch.isalnum() or ch == "_" or unicodedata.category(ch) in ("Mn", "Mc")


def contains_word(text: str, word: str) -> bool:
    """Whole-word match of normalised ``word`` in normalised ``text``."""
    start = 0
    while (i := text.find(word, start)) != -1:
        j = i + len(word)
        left = _unspaced(word[0]) or i == 0 or not _wordish(text[i - 1])
        right = _unspaced(word[-1]) or j == len(text) or not _wordish(text[j])
        if left and right:
            return True
        start = i + 1
    return False


@dataclass(frozen=True)
class Rule:
    name: str
    words: tuple[str, ...] = ()  # normalised
    patterns: tuple[re.Pattern[str], ...] = ()
    languages: frozenset[str] = field(default_factory=frozenset)
    chats: frozenset[str] = field(default_factory=frozenset)

    def applies(self, locale: str, scopes: Collection[str]) -> bool:
        """Whether the rule covers ``locale`` and any of the request's ``scopes`` (its chat
        and the wider places that chat belongs to)."""
        lang_ok = not self.languages or locale in self.languages
        return lang_ok and (not self.chats or not self.chats.isdisjoint(scopes))

    def matches(self, plain: str, folded: str) -> bool:
        return any(contains_word(folded, w) for w in self.words) or any(
            p.search(plain) for p in self.patterns
        )


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...] = ()

    @classmethod
    def from_data(cls, data: list[dict[str, object]]) -> Rules:
        def strings(item: dict[str, object], key: str) -> list[str]:
            return [str(v) for v in cast("list[object]", item.get(key) or [])]

        return cls(
            tuple(
                Rule(
                    name=str(item["name"]),
                    words=tuple(normalize(w) for w in strings(item, "words") if w.strip()),
                    patterns=tuple(re.compile(r, re.I) for r in strings(item, "regex")),
                    languages=frozenset(strings(item, "languages")),
                    chats=frozenset(strings(item, "chats")),
                )
                for item in data
            )
        )

    @classmethod
    def load(cls, path: Path | None) -> Rules:
        if path is None:
            return cls()
        return cls.from_data(json.loads(path.read_text(encoding="utf-8")))

    def check(
        self, prompt: str, *, locale: str = "en", chat: str = "", scopes: Iterable[str] = ()
    ) -> str | None:
        """The name of the first rule the prompt breaks, or None. ``scopes`` are further ids
        the chat belongs to (e.g. its Discord server), matched like ``chat``."""
        plain = unicodedata.normalize("NFKC", prompt)
        folded = plain.casefold()
        where = {s for s in (chat, *scopes) if s}
        for rule in self.rules:
            if rule.applies(locale, where) and rule.matches(plain, folded):
                return rule.name
        return None
