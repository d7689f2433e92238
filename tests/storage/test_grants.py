"""The pure checks behind ``clipbot admin grant``: ranges and user names."""

from __future__ import annotations

import pytest

from storage.grants import GrantError, GrantValues, check_grant, check_user


@pytest.mark.parametrize(
    ("clips", "gpu", "inflight", "expected"),
    [
        (None, None, None, GrantValues()),
        ("0", "0", "1", GrantValues(0, 0.0, 1)),
        ("100000", "10000000", "100", GrantValues(100_000, 10_000_000.0, 100)),
        (" 20 ", "7200.5", None, GrantValues(20, 7200.5, None)),
        (5, 60.0, 2, GrantValues(5, 60.0, 2)),
    ],
)
def test_accepted_grants(clips, gpu, inflight, expected: GrantValues) -> None:
    assert check_grant(clips, gpu, inflight) == expected


@pytest.mark.parametrize(
    ("clips", "gpu", "inflight", "needle"),
    [
        ("-5", None, None, "--clips must be from 0 to 100000"),
        ("100001", None, None, "--clips must be from 0 to 100000"),
        ("1.5", None, None, "--clips must be a whole number"),
        ("abc", None, None, "--clips must be a whole number"),
        ("--5", None, None, "--clips must be a whole number"),
        ("²", None, None, "--clips must be a whole number"),
        ("", None, None, "--clips must be a whole number"),
        (None, "nan", None, "--gpu-seconds must be from 0"),
        (None, "inf", None, "--gpu-seconds must be from 0"),
        (None, "-1", None, "--gpu-seconds must be from 0"),
        (None, "1e9", None, "--gpu-seconds must be from 0"),
        (None, "lots", None, "--gpu-seconds must be a number"),
        (None, None, "0", "--inflight must be from 1 to 100"),
        (None, None, "101", "--inflight must be from 1 to 100"),
    ],
)
def test_refused_grants(clips, gpu, inflight, needle: str) -> None:
    with pytest.raises(GrantError, match=needle.replace("+", r"\+")):
        check_grant(clips, gpu, inflight)


@pytest.mark.parametrize("user", ["telegram:12345", "web:anna", "cli:bob", "discord:1:2"])
def test_good_user_names(user: str) -> None:
    assert check_user(user) == user


@pytest.mark.parametrize(
    "user", [":", "", "telegram", "telegram:", ":123", " :1", "telegram: ", " telegram:1",
             "telegram:1\n", "web:\x1b[2J", "web:" + "x" * 300],
)
def test_bad_user_names(user: str) -> None:
    with pytest.raises(GrantError):
        check_user(user)
