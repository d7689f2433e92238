"""Request → bucket: a closed table of sizes and Wan-compatible frame counts."""

from __future__ import annotations

import pytest

from engine.buckets import ASPECTS, PROFILES, Bucket, all_buckets, resolve_bucket


@pytest.mark.parametrize(
    ("aspect", "seconds", "profile", "expected"),
    [
        ("16:9", 1, "full", Bucket(832, 480, 17, 16)),
        ("16:9", 5, "full", Bucket(832, 480, 81, 16)),
        ("9:16", 2, "full", Bucket(480, 832, 33, 16)),
        ("1:1", 3, "full", Bucket(624, 624, 49, 16)),
        ("1:1", 4, "full", Bucket(624, 624, 65, 16)),
        ("16:9", 1, "preview", Bucket(256, 144, 17, 16)),
        ("9:16", 5, "preview", Bucket(144, 256, 81, 16)),
        ("1:1", 2, "preview", Bucket(192, 192, 33, 16)),
    ],
)
def test_resolve_bucket(aspect: str, seconds: int, profile: str, expected: Bucket) -> None:
    assert resolve_bucket(aspect, seconds, profile) == expected


@pytest.mark.parametrize(
    ("aspect", "seconds", "profile", "message"),
    [
        ("4:3", 2, "full", "aspect"),
        ("16:9", 0, "full", "seconds"),
        ("16:9", 6, "preview", "seconds"),
        ("16:9", 2.5, "preview", "seconds"),
        ("16:9", True, "preview", "seconds"),
        ("16:9", 2, "huge", "profile"),
    ],
)
def test_resolve_bucket_refuses(aspect: str, seconds: int, profile: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_bucket(aspect, seconds, profile)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_bucket_fits_wan(profile: str) -> None:
    buckets = all_buckets(profile)
    assert len(buckets) == len(ASPECTS) * 5
    for b in buckets:
        assert b.width % 16 == 0 and b.height % 16 == 0  # VAE 8× times patch 2
        assert (b.num_frames - 1) % 4 == 0 and b.num_frames <= 81
