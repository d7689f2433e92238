"""The pure decisions behind a Discord server's settings, as tables."""

from __future__ import annotations

import pytest

from bots.discord.policy import MAX_POOL, Admission, admission, mentions, pool_ok
from storage import GuildSettings, SharedPool

OPEN = GuildSettings()
TWO = GuildSettings(channels=frozenset({"20", "100"}))
POOLED = GuildSettings(channels=frozenset({"20"}), daily_clips=5)
POOL_ONLY = GuildSettings(daily_clips=3)


@pytest.mark.parametrize(
    "guild, settings, channel, parent, expected",
    [
        # No settings: every channel, no pool.
        ("9", OPEN, "1", None, Admission(True)),
        # An allow-list: its channels, and threads inside them, only.
        ("9", TWO, "20", None, Admission(True)),
        ("9", TWO, "100", None, Admission(True)),
        ("9", TWO, "555", "100", Admission(True)),  # a thread of an allowed channel
        ("9", TWO, "30", None, Admission(False, channels=("20", "100"))),
        ("9", TWO, "30", "31", Admission(False, channels=("20", "100"))),
        ("9", TWO, "", None, Admission(False, channels=("20", "100"))),
        # A pool is charged where requests are allowed, and only there.
        ("9", POOLED, "20", None, Admission(True, SharedPool("discord:9", 5))),
        ("9", POOLED, "21", None, Admission(False, channels=("20",))),
        ("9", POOL_ONLY, "77", None, Admission(True, SharedPool("discord:9", 3))),
        # Direct messages belong to no server: never limited, never pooled.
        (None, POOLED, "21", None, Admission(True)),
    ],
)
def test_admission(guild: str | None, settings: GuildSettings, channel: str,
                   parent: str | None, expected: Admission) -> None:
    assert admission(guild, settings, channel, parent) == expected


@pytest.mark.parametrize(
    "clips, ok",
    [(0, True), (1, True), (40, True), (MAX_POOL, True), (MAX_POOL + 1, False), (-1, False),
     (-(2**53), False), (2**53, False)],
)
def test_pool_sizes(clips: int, ok: bool) -> None:
    assert pool_ok(clips) is ok


@pytest.mark.parametrize(
    "ids, text",
    [((), ""), (("7",), "<#7>"), (("100", "20", "3"), "<#3>, <#20>, <#100>")],
)
def test_mentions_in_creation_order(ids: tuple[str, ...], text: str) -> None:
    assert mentions(ids) == text
