"""Operator moderation rules: transparent, applied before anything is queued.

A rules file (JSON) is a list of rules::

    [{"name": "no violence", "words": ["gore", "blood"], "regex": [], "languages": ["en"],
      "chats": []}]

``words`` match whole words case-insensitively; ``regex`` are Python patterns;
``languages``/``chats`` (empty = all) limit where a rule applies. The user is told the
rule's name; nothing is hidden.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Rule:
    name: str
    patterns: tuple[re.Pattern[str], ...]
    languages: frozenset[str] = field(default_factory=frozenset)
    chats: frozenset[str] = field(default_factory=frozenset)

    def applies(self, locale: str, chat: str) -> bool:
        lang_ok = not self.languages or locale in self.languages
        return lang_ok and (not self.chats or chat in self.chats)


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...] = ()

    @classmethod
    def from_data(cls, data: list[dict[str, object]]) -> Rules:
        out = []
        for item in data:
            words = [str(w) for w in item.get("words", [])]  # type: ignore[union-attr]
            regexes = [str(r) for r in item.get("regex", [])]  # type: ignore[union-attr]
            pats = [re.compile(rf"(?<!\w){re.escape(w)}(?!\w)", re.I) for w in words]
            pats += [re.compile(r, re.I) for r in regexes]
            out.append(
                Rule(
                    name=str(item["name"]),
                    patterns=tuple(pats),
                    languages=frozenset(item.get("languages", [])),  # type: ignore[arg-type]
                    chats=frozenset(str(c) for c in item.get("chats", [])),  # type: ignore[union-attr]
                )
            )
        return cls(tuple(out))

    @classmethod
    def load(cls, path: Path | None) -> Rules:
        if path is None:
            return cls()
        return cls.from_data(json.loads(path.read_text(encoding="utf-8")))

    def check(self, prompt: str, *, locale: str = "en", chat: str = "") -> str | None:
        """The name of the first rule the prompt breaks, or None."""
        for rule in self.rules:
            if rule.applies(locale, chat) and any(p.search(prompt) for p in rule.patterns):
                return rule.name
        return None
