"""Property-based tests of the option parser and prompt validation (pure, no I/O).

Whatever a phone, a bridge or an attacker sends, the parser either returns a clean request
or raises InputError with a key the catalogs know; it never raises anything else.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.core.options import (
    ASPECT_ALIASES,
    MAX_PROMPT_CHARS,
    MAX_SECONDS,
    MAX_STEPS,
    InputError,
    ParsedRequest,
    VideoOptions,
    clean_prompt,
    parse_request,
)

CATALOG = json.loads(
    (Path(__file__).parents[2] / "bots/i18n/catalogs/en.json").read_text(encoding="utf-8")
)
DASHES = ("-", "—", "–")
FAST = settings(max_examples=300, deadline=None)


def outcome(text: str) -> ParsedRequest | InputError:
    """Run the parser; any exception other than InputError fails the test right here."""
    try:
        return parse_request(text)
    except InputError as exc:
        return exc


def assert_clean(prompt: str) -> None:
    assert prompt, "an accepted prompt is never empty"
    assert len(prompt) <= MAX_PROMPT_CHARS
    assert prompt == prompt.strip() and "  " not in prompt
    for ch in prompt:
        assert unicodedata.category(ch) not in ("Cc", "Cs", "Co"), repr(ch)
        assert ch != "\ufffd"


def check(text: str) -> ParsedRequest | InputError:
    res = outcome(text)
    if isinstance(res, InputError):
        assert res.key in CATALOG, f"refusal key {res.key!r} has no catalog message"
    else:
        assert_clean(res.prompt)
        if res.options.negative is not None:
            assert_clean(res.options.negative)
    return res


# Text that looks like what people type, with flags mixed in, plus arbitrary unicode.
flag_words = st.sampled_from(
    ["--ar", "--seconds", "--seed", "--steps", "--no", "--fast", "—ar", "–seconds",
     "--AR", "--s", "--x", "--ar=", "--seed=", "--", "—", "---ar"]
)
values = st.sampled_from(["9:16", "16x9", "square", "3", "5s", "0", "-1", "99999999999", "abc"])
tokens = st.one_of(flag_words, values, st.text(min_size=1, max_size=12))
typed = st.lists(tokens, max_size=30).map(" ".join)


@FAST
@given(st.text(max_size=5000))
def test_any_text_gives_a_clean_request_or_a_known_refusal(text: str) -> None:
    check(text)


@FAST
@given(typed)
def test_flag_soup_gives_a_clean_request_or_a_known_refusal(text: str) -> None:
    check(text)


@FAST
@given(st.binary(max_size=600), st.sampled_from(["surrogateescape", "replace"]))
def test_random_bytes_are_refused_or_accepted_cleanly(data: bytes, errors: str) -> None:
    text = data.decode("utf-8", errors=errors)
    res = check(text)
    undecodable = any(unicodedata.category(c) == "Cs" or c == "\ufffd" for c in text)
    if undecodable:
        # Binary never gets through, whatever else the message contains.
        assert isinstance(res, InputError)
        if not any(t.startswith(DASHES) for t in text.split()) and len(text) <= 2000:
            assert res.key == "bad_characters"


@FAST
@given(st.text(max_size=3000))
def test_clean_prompt_is_idempotent_or_refuses(text: str) -> None:
    try:
        once = clean_prompt(text)
    except InputError as exc:
        assert exc.key in ("bad_characters", "empty_prompt", "prompt_too_long")
        return
    assert_clean(once)
    assert clean_prompt(once) == once
    assert once.split() == text.split()


def test_prompt_length_boundary() -> None:
    assert clean_prompt("a" * MAX_PROMPT_CHARS) == "a" * MAX_PROMPT_CHARS
    try:
        clean_prompt("a" * (MAX_PROMPT_CHARS + 1))
    except InputError as exc:
        assert exc.key == "prompt_too_long" and exc.params["length"] == MAX_PROMPT_CHARS + 1
    else:
        raise AssertionError("2001 characters accepted")


# Words of a prompt: any letters/symbols people use (RTL, CJK, emoji, ZWJ, RTL marks),
# never starting with a dash so they cannot be read as flags.
word_chars = st.characters(
    categories=("L", "M", "N", "P", "S", "Cf"), exclude_characters="\ufffd"
)
words = st.text(word_chars, min_size=1, max_size=15).filter(
    lambda w: not w.startswith(DASHES) and w.split() == [w]
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[list[str], VideoOptions, str]:
    prompt_words = draw(st.lists(words, min_size=1, max_size=12))
    opts = VideoOptions(
        aspect=draw(st.sampled_from(sorted(set(ASPECT_ALIASES.values())))),
        seconds=draw(st.integers(1, MAX_SECONDS)),
        seed=draw(st.none() | st.integers(0, 2**32 - 1)),
        steps=draw(st.none() | st.integers(1, MAX_STEPS)),
        negative=draw(st.none() | st.lists(words, min_size=1, max_size=4).map(" ".join)),
        fast=draw(st.booleans()),
    )
    alias = draw(st.sampled_from([k for k, v in ASPECT_ALIASES.items() if v == opts.aspect]))
    inline = draw(st.booleans())
    dash = draw(st.sampled_from(["--", "—", "–"]))

    def flag(name: str, value: str) -> list[str]:
        return [f"{dash}{name}={value}"] if inline else [f"{dash}{name}", value]

    unit = draw(st.sampled_from(["", "s"]))
    flags = [flag("ar", alias), flag("seconds", f"{opts.seconds}{unit}")]
    if opts.seed is not None:
        flags.append(flag("seed", str(opts.seed)))
    if opts.steps is not None:
        flags.append(flag("steps", str(opts.steps)))
    if opts.fast:
        flags.append([f"{dash}fast"])
    flags = draw(st.permutations(flags))
    # Flags go anywhere among the words; the negative prompt goes last (it runs to the end).
    cut = draw(st.integers(0, len(prompt_words)))
    parts = prompt_words[:cut] + [t for f in flags for t in f] + prompt_words[cut:]
    if opts.negative is not None:
        parts += [f"{dash}no", opts.negative]
    return prompt_words, opts, " ".join(parts)


@FAST
@given(requests())
def test_flags_round_trip(case: tuple[list[str], VideoOptions, str]) -> None:
    prompt_words, opts, text = case
    res = parse_request(text)
    assert res.prompt == " ".join(prompt_words)
    assert res.options == opts


@FAST
@given(st.lists(words, min_size=1, max_size=20).map(" ".join))
def test_unicode_prompts_pass_unchanged(prompt: str) -> None:
    assert parse_request(prompt).prompt == prompt


def test_rtl_emoji_and_zwj_examples_pass_unchanged() -> None:
    for prompt in (
        "قطة تلعب في الحديقة عند الغروب 🐱🌅",
        "\u200fשלום עולם\u200e with mixed direction",
        "familia 👨\u200d👩\u200d👧 en la playa, atardecer",
        "एक बिल्ली बगीचे में खेल रही है",
        "一只猫在花园里玩耍 🏳️\u200d🌈",
        "paka anacheza bustanini 🇰🇪",
    ):
        assert parse_request(prompt).prompt == prompt
        assert parse_request(prompt + " --ar 9:16").options.aspect == "9:16"
