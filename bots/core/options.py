"""Parse a chat message into a prompt and options. Pure: no I/O, tested with tables.

Syntax: free text with optional flags anywhere, e.g.
``a bakery window at sunrise --ar 9:16 --seconds 3 --seed 7 --no blurry, text``.
Phones often turn ``--`` into an em dash, so ``—ar`` is read as ``--ar``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any

# Re-exported: adapters read the limits from here.
from clipbot.contract import ASPECTS as ASPECTS
from clipbot.contract import MAX_SECONDS as MAX_SECONDS
from clipbot.contract import MAX_STEPS, MIN_SECONDS

MAX_PROMPT_CHARS = 2000
MAX_NEGATIVE_CHARS = 500  # what Discord's /video declares for its `negative` option
ASPECT_ALIASES = {
    "16:9": "16:9", "landscape": "16:9", "wide": "16:9", "horizontal": "16:9",
    "9:16": "9:16", "portrait": "9:16", "vertical": "9:16", "story": "9:16",
    "1:1": "1:1", "square": "1:1",
}
_FLAG = re.compile(r"(?:--|—|–)([a-zA-Z][a-zA-Z-]*)(?:=(.*))?")
_FLAG_NAMES = {
    "ar": "aspect", "aspect": "aspect",
    "seconds": "seconds", "sec": "seconds", "duration": "seconds", "s": "seconds",
    "seed": "seed",
    "steps": "steps",
    "no": "negative", "neg": "negative", "negative": "negative",
    "fast": "fast",
}


class InputError(ValueError):
    """A refusal the user sees: ``key`` names a message in the catalogs."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class VideoOptions:
    aspect: str = "16:9"
    seconds: int = 2
    seed: int | None = None
    steps: int | None = None
    negative: str | None = None
    fast: bool = False


@dataclass(frozen=True)
class ParsedRequest:
    prompt: str
    options: VideoOptions = field(default_factory=VideoOptions)


def clean_prompt(text: str) -> str:
    """Collapse whitespace; refuse empty, too long, or binary/control-character text."""
    if any(_is_forbidden(ch) for ch in text):
        raise InputError("bad_characters")
    prompt = " ".join(text.split())
    if not prompt:
        raise InputError("empty_prompt")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InputError("prompt_too_long", max=MAX_PROMPT_CHARS, length=len(prompt))
    return prompt


def clean_negative(text: str) -> str:
    """The things to keep out of a clip (``--no …``, Discord's ``negative``), cleaned and
    capped: the same limit whichever way it was typed."""
    negative = clean_prompt(text)
    if len(negative) > MAX_NEGATIVE_CHARS:
        raise InputError("negative_too_long", max=MAX_NEGATIVE_CHARS, length=len(negative))
    return negative


def _is_forbidden(ch: str) -> bool:
    if ch in "\n\r\t":
        return False
    # Cc: control bytes (NUL, ESC...); Cs: lone surrogates from undecodable bytes;
    # U+FFFD: what a decoder leaves of binary input. Cf (ZWJ, RTL marks) is fine.
    return unicodedata.category(ch) in ("Cc", "Cs", "Co") or ch == "\ufffd"


def parse_request(text: str, defaults: VideoOptions | None = None) -> ParsedRequest:
    """Split ``text`` into prompt words and flags; raise InputError on anything unclear."""
    if len(text) > MAX_PROMPT_CHARS * 2:
        raise InputError("prompt_too_long", max=MAX_PROMPT_CHARS, length=len(text))
    opts = defaults or VideoOptions()
    words: list[str] = []
    tokens = text.split()
    i = 0
    while i < len(tokens):
        m = _FLAG.fullmatch(tokens[i])
        if not m:
            words.append(tokens[i])
            i += 1
            continue
        name = _FLAG_NAMES.get(m.group(1).lower())
        if name is None:
            raise InputError("unknown_flag", flag=tokens[i][:40])
        if name == "fast":
            opts, i = replace(opts, fast=True), i + 1
            continue
        value, i = _flag_value(tokens, i, m.group(2), name)
        opts = _apply(opts, name, value)
    return ParsedRequest(prompt=clean_prompt(" ".join(words)), options=opts)


def _flag_value(tokens: list[str], i: int, inline: str | None, name: str) -> tuple[str, int]:
    if inline:
        return inline, i + 1
    if name == "negative":
        # The negative prompt runs until the next flag.
        j = i + 1
        while j < len(tokens) and not _FLAG.fullmatch(tokens[j]):
            j += 1
        if j == i + 1:
            raise InputError("missing_value", flag=tokens[i])
        return " ".join(tokens[i + 1 : j]), j
    if i + 1 >= len(tokens) or _FLAG.fullmatch(tokens[i + 1]):
        raise InputError("missing_value", flag=tokens[i])
    return tokens[i + 1], i + 2


def _apply(opts: VideoOptions, name: str, value: str) -> VideoOptions:
    if name == "aspect":
        return replace(opts, aspect=parse_aspect(value))
    if name == "seconds":
        return replace(opts, seconds=parse_seconds(value))
    if name == "seed":
        return replace(opts, seed=parse_seed(value))
    if name == "steps":
        return replace(opts, steps=parse_steps(value))
    return replace(opts, negative=clean_negative(value))


def parse_aspect(value: str) -> str:
    aspect = ASPECT_ALIASES.get(value.strip().lower().replace("x", ":").replace("/", ":"))
    if aspect is None:
        raise InputError("bad_aspect", value=value[:20], choices=", ".join(ASPECTS))
    return aspect


def parse_seconds(value: str) -> int:
    return _int_in(value.lower().removesuffix("s"), MIN_SECONDS, MAX_SECONDS, "bad_seconds")


def parse_seed(value: str) -> int:
    return _int_in(value, 0, 2**32 - 1, "bad_seed")


def parse_steps(value: str) -> int:
    return _int_in(value, 1, MAX_STEPS, "bad_steps")


def _int_in(value: str, low: int, high: int, key: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise InputError(key, value=value[:20], min=low, max=high) from None
    if not low <= n <= high:
        raise InputError(key, value=value[:20], min=low, max=high)
    return n
