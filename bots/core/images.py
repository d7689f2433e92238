"""Check a user's photo before it goes anywhere: size, pixel count, format allow-list.

Decompression bombs are refused from the header alone (Pillow reads dimensions without
decoding pixels), and nothing is decoded past ``MAX_PIXELS``.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from bots.core.options import InputError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 MP: any phone photo, but not a crafted bomb
FORMATS = frozenset({"JPEG", "PNG", "WEBP"})


def check_image(data: bytes) -> tuple[int, int]:
    """Return (width, height) of an acceptable photo, or raise InputError."""
    if len(data) > MAX_BYTES:
        raise too_big()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format not in FORMATS:
                    raise InputError("image_bad")
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise too_big()
                # Decode every byte (JPEG at 1/8 scale: cheap) so a truncated upload is
                # refused now rather than failing in the engine after being charged.
                img.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                img.load()
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InputError("image_bad") from None
    return width, height


def too_big() -> InputError:
    return InputError("image_too_big", max_mb=MAX_BYTES // 2**20, max_mp=MAX_PIXELS // 10**6)
