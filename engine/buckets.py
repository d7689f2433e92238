"""The fixed set of output shapes an engine generates.

A small, closed set keeps compiled kernels and cached plans warm: every request is snapped to
one of these buckets instead of asking the model for arbitrary sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

FPS = 16  # Wan 2.1 is trained at 16 fps
MAX_FRAMES = 81  # Wan 2.1's training length (5 s)
ASPECTS: tuple[str, ...] = ("16:9", "9:16", "1:1")
PROFILES: tuple[str, ...] = ("full", "preview")
MIN_SECONDS, MAX_SECONDS = 1, 5

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


def frames_for(seconds: int) -> int:
    """The smallest 4k+1 frame count covering ``seconds`` at 16 fps (the VAE packs 4 frames)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise ValueError(f"seconds must be a whole number, got {seconds!r}")
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be {MIN_SECONDS}..{MAX_SECONDS}, got {seconds}")
    wanted = seconds * FPS + 1
    return min(-(-(wanted - 1) // 4) * 4 + 1, MAX_FRAMES)


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
