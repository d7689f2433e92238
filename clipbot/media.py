"""MP4 clips that play inline on phones, thumbnails, and fitting a platform's size limit.

Everything here is PyAV + Pillow (no torch), so bots can probe and shrink clips too.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Final

import av
import numpy as np
from av.video.frame import PictureType
from PIL import Image

# Inline playback on iOS/Android/WhatsApp: H.264 Main, 4:2:0, no B-frames (some players
# stutter on reordering), moov before mdat so playback starts before the download ends.
_CODEC: Final = "libx264"
_PRESET = "medium"
_BASE_OPTIONS = {"profile": "main", "bf": "0", "x264-params": "bframes=0", "preset": _PRESET}

# fit_to_size: aim below the limit because x264's rate control overshoots on short clips,
# and the container adds a few KiB of boxes.
_SAFETY = 0.85
_CONTAINER_OVERHEAD = 4096
_MIN_BITRATE = 16_000  # bits/s; below this even a tiny frame is mush
_TRIES_PER_SIZE = 3
_MIN_SIDE = 32


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    frames: int
    duration_s: float
    fps: float
    codec: str
    pix_fmt: str
    profile: str | None
    has_b_frames: bool
    faststart: bool  # 'moov' box before 'mdat'
    size_bytes: int


def encode_mp4(
    frames: np.ndarray, fps: int = 16, *, bitrate: int | None = None, crf: int = 23
) -> bytes:
    """Encode uint8 RGB frames [T,H,W,3] as phone-friendly H.264 MP4 (no audio).

    Odd widths/heights lose their last column/row: 4:2:0 needs even dimensions.
    ``bitrate`` (bits/s) switches from constant quality (``crf``) to a target bitrate.
    """
    _check_frames(frames)
    frames = frames[:, : frames.shape[1] // 2 * 2, : frames.shape[2] // 2 * 2]
    _, height, width, _ = frames.shape
    options: dict[str, object] = dict(_BASE_OPTIONS)
    if bitrate is None:
        options["crf"] = str(crf)
    else:
        # A VBV cap keeps short clips close to the target instead of front-loading bits.
        options.update(maxrate=str(bitrate), bufsize=str(bitrate * 2))
    # +faststart rewrites the file after the fact, which needs a real, reopenable file.
    with tempfile.TemporaryDirectory(prefix="clipbot-enc-") as tmp:
        path = Path(tmp) / "clip.mp4"
        with av.open(str(path), mode="w", format="mp4",
                     options={"movflags": "+faststart"}) as container:
            stream = container.add_stream(_CODEC, rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            if bitrate is not None:
                stream.bit_rate = bitrate
            stream.options = options
            for frame in frames:
                video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame),
                                                         format="rgb24")
                container.mux(stream.encode(video_frame))
            container.mux(stream.encode())
        return path.read_bytes()


def _check_frames(frames: np.ndarray) -> None:
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(
            f"frames must be uint8 [T,H,W,3], got {frames.dtype} {tuple(frames.shape)}"
        )
    if frames.shape[0] < 1 or frames.shape[1] < 2 or frames.shape[2] < 2:
        raise ValueError(f"need at least one 2×2 frame, got {tuple(frames.shape)}")


def thumbnail_jpeg(frame: np.ndarray, max_side: int = 320) -> bytes:
    """A JPEG of one RGB frame, longest side at most ``max_side`` (never upscaled)."""
    image = Image.fromarray(np.ascontiguousarray(frame)).convert("RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def decode_frames(data: bytes) -> np.ndarray:
    """All frames of the first video stream as uint8 RGB [T,H,W,3]."""
    with av.open(io.BytesIO(data), mode="r") as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    if not frames:
        raise ValueError("no video frames in the data")
    return np.stack(frames)


def probe_mp4(data: bytes) -> VideoInfo:
    """Describe an MP4, decoding every frame so the count is exact."""
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        pts: list[int] = []
        frames = 0
        b_frames = False
        for packet in container.demux(stream):
            if packet.pts is not None:
                pts.append(packet.pts)
            for frame in packet.decode():
                frames += 1
                b_frames = b_frames or frame.pict_type == PictureType.B
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        duration = _duration(stream, container.duration, frames, fps)
        reordered = any(b < a for a, b in pairwise(pts))
        return VideoInfo(
            width=ctx.width, height=ctx.height, frames=frames, duration_s=duration, fps=fps,
            codec=ctx.name, pix_fmt=ctx.pix_fmt or "", profile=ctx.profile,
            has_b_frames=bool(b_frames or reordered or ctx.has_b_frames),
            faststart=_moov_before_mdat(data), size_bytes=len(data),
        )


def _duration(stream: av.video.stream.VideoStream, container_us: int | None, frames: int,
              fps: float) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container_us is not None:
        return container_us / av.time_base
    return frames / fps if fps else 0.0


def _moov_before_mdat(data: bytes) -> bool:
    """Walk the top-level ISO-BMFF boxes and report whether 'moov' comes before 'mdat'."""
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset:offset + 4], "big")
        kind = data[offset + 4:offset + 8]
        if kind == b"moov":
            return True
        if kind == b"mdat":
            return False
        if size == 1:  # 64-bit size follows the type
            size = int.from_bytes(data[offset + 8:offset + 16], "big")
        elif size == 0:  # box runs to the end of the file
            return False
        if size < 8:
            return False
        offset += size
    return False


def fit_to_size(data: bytes, limit_bytes: int) -> bytes:
    """Return ``data`` if it fits in ``limit_bytes``, else a smaller re-encode that does.

    Lowers the bitrate first and halves the resolution only as a last resort;
    ``ValueError`` only when even the smallest encode cannot fit.
    """
    if len(data) <= limit_bytes:
        return data
    info = probe_mp4(data)
    frames = decode_frames(data)
    fps = round(info.fps) or 16
    duration = max(len(frames) / fps, 1.0 / fps)
    budget_bitrate = int((limit_bytes - _CONTAINER_OVERHEAD) * 8 * _SAFETY / duration)
    while True:
        # A smaller frame reaches a low bitrate without hitting x264's quality floor,
        # so each size starts again from the plain budget.
        bitrate = budget_bitrate
        for _ in range(_TRIES_PER_SIZE):
            if bitrate < _MIN_BITRATE:
                break
            out = encode_mp4(frames, fps, bitrate=bitrate)
            if len(out) <= limit_bytes:
                return out
            # Scale by how far off x264 was, with the margin again.
            bitrate = int(bitrate * limit_bytes / len(out) * _SAFETY)
        smaller = _halve(frames)
        if smaller is None:
            raise ValueError(f"cannot fit a {info.duration_s:.1f}s clip in {limit_bytes} bytes")
        frames = smaller


def _halve(frames: np.ndarray) -> np.ndarray | None:
    _, height, width, _ = frames.shape
    new_w, new_h = width // 2 // 2 * 2, height // 2 // 2 * 2
    if min(new_w, new_h) < _MIN_SIDE:
        return None
    return np.stack([
        np.asarray(Image.fromarray(f).resize((new_w, new_h), Image.Resampling.BILINEAR))
        for f in frames
    ])
