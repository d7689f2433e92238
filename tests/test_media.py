"""MP4 output that phones play inline, thumbnails, and fitting a size limit."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from clipbot.media import decode_frames, encode_mp4, fit_to_size, probe_mp4, thumbnail_jpeg


def _noise(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    # Noise is the worst case for the encoder, so size limits are really tested.
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(frames, height, width, 3), dtype=np.uint8)


def test_encode_is_phone_friendly_h264() -> None:
    data = encode_mp4(_noise(17, 144, 256), fps=16)
    info = probe_mp4(data)
    assert (info.codec, info.pix_fmt, info.profile) == ("h264", "yuv420p", "Main")
    assert info.faststart and not info.has_b_frames
    assert (info.width, info.height, info.frames) == (256, 144, 17)
    assert info.fps == pytest.approx(16.0)
    assert info.duration_s == pytest.approx(17 / 16, abs=0.07)
    assert info.size_bytes == len(data)


def test_odd_dimensions_become_even() -> None:
    info = probe_mp4(encode_mp4(_noise(5, 71, 99)))
    assert (info.width, info.height, info.frames) == (98, 70, 5)


def test_decode_round_trip_keeps_the_picture() -> None:
    # A smooth gradient survives lossy coding closely; noise would not.
    ramp = np.linspace(0, 255, 64, dtype=np.float32)
    frame = np.stack([np.add.outer(ramp[:48], ramp) / 2] * 3, axis=-1).astype(np.uint8)
    frames = np.stack([frame] * 9)
    decoded = decode_frames(encode_mp4(frames, crf=18))
    assert decoded.shape == frames.shape and decoded.dtype == np.uint8
    assert np.abs(decoded.astype(int) - frames.astype(int)).mean() < 4


@pytest.mark.parametrize(
    "bad",
    [np.zeros((0, 16, 16, 3), np.uint8), np.zeros((2, 16, 16), np.uint8),
     np.zeros((2, 16, 16, 3), np.float32)],
)
def test_encode_refuses_bad_frames(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="frame"):
        encode_mp4(bad)


def test_fit_to_size_leaves_small_clips_alone() -> None:
    data = encode_mp4(_noise(5, 32, 32))
    assert fit_to_size(data, len(data)) is data


def test_fit_to_size_shrinks_under_the_limit() -> None:
    data = encode_mp4(_noise(33, 144, 256))
    limit = len(data) // 10
    smaller = fit_to_size(data, limit)
    info = probe_mp4(smaller)
    assert len(smaller) <= limit
    assert info.frames == 33 and info.codec == "h264" and info.faststart
    assert not info.has_b_frames


def test_fit_to_size_refuses_the_impossible() -> None:
    with pytest.raises(ValueError, match="cannot fit"):
        fit_to_size(encode_mp4(_noise(33, 144, 256)), 1000)


@pytest.mark.parametrize(("height", "width"), [(480, 832), (832, 480), (100, 120)])
def test_thumbnail_is_small_jpeg(height: int, width: int) -> None:
    jpeg = thumbnail_jpeg(_noise(1, height, width)[0])
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    assert max(image.size) == min(320, max(height, width))
    image.load()
