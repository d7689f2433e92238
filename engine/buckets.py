"""The fixed set of output shapes an engine generates.

A small, closed set keeps compiled kernels and cached plans warm: every request is snapped to
one of these buckets instead of asking the model for arbitrary sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

# The request contract lives in clipbot.contract (shared with the bots); re-exported here.
from clipbot.contract import ASPECTS, FPS, MAX_SECONDS, MIN_SECONDS, frames_for

PROFILES: tuple[str, ...] = ("full", "preview")

# Wan 2.1 480p sizes; the preview sizes keep the aspect and stay divisible by 16
# (VAE factor 8 × patch 2), which the Wan pipeline requires.
_SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "full": {"16:9": (832, 480), "9:16": (480, 832), "1:1": (624, 624)},
    "preview": {"16:9": (256, 144), "9:16": (144, 256), "1:1": (192, 192)},
}


@dataclass(frozen=True)
class Bucket:
    width: int
    height: int
    num_frames: int
    fps: int

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.fps


def resolve_bucket(aspect: str, seconds: int, profile: str) -> Bucket:
    """The bucket for a request; ``ValueError`` names the bad input."""
    if profile not in _SIZES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    sizes = _SIZES[profile]
    if aspect not in sizes:
        raise ValueError(f"unknown aspect ratio {aspect!r}; expected one of {', '.join(ASPECTS)}")
    width, height = sizes[aspect]
    return Bucket(width=width, height=height, num_frames=frames_for(seconds), fps=FPS)


def all_buckets(profile: str) -> list[Bucket]:
    """Every bucket of a profile, for warm-up (shapes first, then lengths)."""
    return [
        resolve_bucket(aspect, seconds, profile)
        for aspect in ASPECTS
        for seconds in range(MIN_SECONDS, MAX_SECONDS + 1)
    ]
