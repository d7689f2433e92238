"""Photos for image-to-video: allow-list, size and decompression-bomb checks; plumbing."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from bots.core.images import MAX_BYTES, check_image
from bots.core.options import InputError
from bots.core.service import ClipService, CoreConfig, Refusal, Submitted, Who
from storage import Storage
from storage.models import EngineInfo


def photo(fmt: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buf, fmt)
    return buf.getvalue()


def png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas: a decompression bomb's calling card."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_accepts_common_photo_formats(fmt: str) -> None:
    assert check_image(photo(fmt)) == (64, 48)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"", "image_bad"),
        (b"not an image at all", "image_bad"),
        (photo("JPEG")[:40], "image_bad"),
        (photo("GIF"), "image_bad"),
        (photo("BMP"), "image_bad"),
        (png_header_claiming(100_000, 100_000), "image_too_big"),
        (b"\xff" * (MAX_BYTES + 1), "image_too_big"),
    ],
)
def test_refuses_broken_foreign_or_giant_images(data: bytes, key: str) -> None:
    with pytest.raises(InputError) as err:
        check_image(data)
    assert err.value.key == key


async def test_photo_refused_politely_when_no_engine_animates_images(storage: Storage) -> None:
    service = ClipService(storage, CoreConfig())
    await storage.engines.beat(EngineInfo("e1", "wan-t2v", "cpu", False, supports_image=False))
    res = await service.request_video(Who("web", "u", "c"), "make it move", idem_key="p1",
                                      image=photo())
    assert res == Refusal("image_unsupported")
    assert await storage.jobs.queue_depth() == 0


async def test_photo_job_carries_the_image_to_the_engine(storage: Storage) -> None:
    service = ClipService(storage, CoreConfig())
    await storage.engines.beat(EngineInfo("e1", "wan-i2v", "cpu", False, supports_image=True))
    bad = await service.request_video(Who("web", "u", "c"), "move", idem_key="p0",
                                      image=b"garbage")
    assert bad == Refusal("image_bad") and await storage.jobs.queue_depth() == 0
    data = photo()
    res = await service.request_video(Who("web", "u", "c"), "make it move", idem_key="p2",
                                      image=data)
    assert isinstance(res, Submitted)
    job = await storage.jobs.get(res.job_id)
    assert job is not None and job.request.has_image
    assert await storage.image(res.job_id) == data
