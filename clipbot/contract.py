"""What a video request may ask for: shared by the bots (which check and price it) and the
engine (which renders it). Pure values; imports nothing of the project, so both sides can
depend on it without depending on each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Platform(StrEnum):
    """Where a request came from; also the prefix of a user key (``telegram:12345``)."""

    TELEGRAM = "telegram"
    DISCORD = "discord"
    WHATSAPP = "whatsapp"
    WEB = "web"


ASPECTS: tuple[str, ...] = ("16:9", "9:16", "1:1")
MIN_SECONDS, MAX_SECONDS = 1, 5
MAX_STEPS = 100
FPS = 16  # Wan 2.1 is trained at 16 fps
MAX_FRAMES = 81  # Wan 2.1's training length (5 s)

# Wan 2.1's 480p sizes: the reference a price is computed from, whatever size an engine
# actually renders (CLIPBOT_GPU_SECONDS_PER_FULL_CLIP is the price of 81 frames at these).
PRICED_SIZES: dict[str, tuple[int, int]] = {
    "16:9": (832, 480), "9:16": (480, 832), "1:1": (624, 624),
}


@dataclass(frozen=True)
class Shape:
    width: int
    height: int
    num_frames: int


def frames_for(seconds: int) -> int:
    """The smallest 4k+1 frame count covering ``seconds`` at 16 fps (the VAE packs 4 frames)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise ValueError(f"seconds must be a whole number, got {seconds!r}")
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be {MIN_SECONDS}..{MAX_SECONDS}, got {seconds}")
    wanted = seconds * FPS + 1
    return min(-(-(wanted - 1) // 4) * 4 + 1, MAX_FRAMES)


def priced_shape(aspect: str, seconds: int) -> Shape:
    """The reference size and length a request is priced at; ``ValueError`` names bad input."""
    if aspect not in PRICED_SIZES:
        raise ValueError(f"unknown aspect ratio {aspect!r}; expected one of {', '.join(ASPECTS)}")
    width, height = PRICED_SIZES[aspect]
    return Shape(width=width, height=height, num_frames=frames_for(seconds))
