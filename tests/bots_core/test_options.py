"""The option parser and prompt validation, as tables."""

from __future__ import annotations

import pytest

from bots.core.options import InputError, VideoOptions, parse_request


@pytest.mark.parametrize(
    ("text", "prompt", "opts"),
    [
        ("a red kite over the sea", "a red kite over the sea", VideoOptions()),
        ("kite --ar 9:16", "kite", VideoOptions(aspect="9:16")),
        ("kite --ar=1:1 --seconds 3", "kite", VideoOptions(aspect="1:1", seconds=3)),
        ("—ar vertical bread", "bread", VideoOptions(aspect="9:16")),
        ("bread --seconds 5s --seed 7", "bread", VideoOptions(seconds=5, seed=7)),
        ("bread --no blurry, text --ar 16:9", "bread",
         VideoOptions(negative="blurry, text")),
        ("bread  \n with   steam", "bread with steam", VideoOptions()),
        ("bread --fast --steps 20", "bread", VideoOptions(fast=True, steps=20)),
        ("rock -- roll", "rock -- roll", VideoOptions()),
        ("خبز طازج عند الفجر 🍞", "خبز طازج عند الفجر 🍞", VideoOptions()),
        ("👨‍👩‍👧 family --ar square", "👨‍👩‍👧 family", VideoOptions(aspect="1:1")),
    ],
)
def test_parses(text: str, prompt: str, opts: VideoOptions) -> None:
    parsed = parse_request(text)
    assert parsed.prompt == prompt
    assert parsed.options == opts


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "empty_prompt"),
        ("   \n\t ", "empty_prompt"),
        ("--ar 9:16", "empty_prompt"),
        ("x" * 2001, "prompt_too_long"),
        ("x" * 10_000, "prompt_too_long"),
        ("bread\x00\x01", "bad_characters"),
        ("bread \x1b[31m", "bad_characters"),
        ("bad \ufffd\ufffd bytes", "bad_characters"),
        ("lone \udc80 surrogate", "bad_characters"),
        ("kite --colour red", "unknown_flag"),
        ("kite --ar", "missing_value"),
        ("kite --ar --seconds 2", "missing_value"),
        ("kite --no", "missing_value"),
        ("kite --no " + "blur " * 101, "negative_too_long"),  # over 500 characters
        ("kite --ar 4:3", "bad_aspect"),
        ("kite --seconds 0", "bad_seconds"),
        ("kite --seconds 6", "bad_seconds"),
        ("kite --seconds two", "bad_seconds"),
        ("kite --seed -1", "bad_seed"),
        ("kite --seed 99999999999", "bad_seed"),
        ("kite --steps 0", "bad_steps"),
        ("kite --steps 101", "bad_steps"),
    ],
)
def test_refuses(text: str, key: str) -> None:
    with pytest.raises(InputError) as err:
        parse_request(text)
    assert err.value.key == key


def test_exactly_max_length_is_fine() -> None:
    assert len(parse_request("y" * 2000).prompt) == 2000
