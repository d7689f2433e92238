"""Photos from users: bombs, broken files and odd formats are refused before anything is
written; the check itself never crashes, whatever the bytes."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from bots.core.images import MAX_BYTES, check_image
from bots.core.options import InputError
from bots.core.service import ClipService, CoreConfig, Refusal, Submitted, Who
from storage import QuotaLimits, Storage
from storage.models import EngineInfo

LIMITS = QuotaLimits(daily_gpu_s=10_000, daily_clips=20, max_inflight=5, max_queue=100)
ALICE = Who("web", "alice", "chat-a", "fr")


def picture(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, fmt)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header claims ``width`` x ``height`` (CRC fixed up)."""
    data = bytearray(picture("PNG", (1, 1)))
    ihdr = bytearray(data[12:29])  # b"IHDR" + 13 bytes of fields
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def jpeg_claiming(width: int, height: int) -> bytes:
    data = bytearray(picture("JPEG", (8, 8)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


GOOD = {"jpeg": picture("JPEG"), "png": picture("PNG"), "webp": picture("WEBP")}
BAD = {
    "empty": (b"", "image_bad"),
    "random": (bytes(range(256)) * 4, "image_bad"),
    "gif": (picture("GIF"), "image_bad"),
    "bmp": (picture("BMP"), "image_bad"),
    "tiff": (picture("TIFF"), "image_bad"),
    "svg": (b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "image_bad"),
    "html": (b"<!doctype html><img src=x onerror=alert(1)>", "image_bad"),
    "truncated png": (picture("PNG", (300, 300))[:120], "image_bad"),
    "png bomb 4 GP": (png_claiming(65_535, 65_535), "image_too_big"),
    "png bomb 100 MP": (png_claiming(10_000, 10_000), "image_too_big"),
    "png 48 MP": (png_claiming(8_000, 6_000), "image_too_big"),
    "jpeg bomb 4 GP": (jpeg_claiming(65_535, 65_535), "image_too_big"),
    "jpeg 48 MP": (jpeg_claiming(8_000, 6_000), "image_too_big"),
    "over 10 MB": (GOOD["jpeg"] + b"\0" * MAX_BYTES, "image_too_big"),
}


def checked(data: bytes) -> tuple[int, int] | InputError:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's own warnings are not what is tested here
        try:
            return check_image(data)
        except InputError as exc:
            return exc


@pytest.mark.parametrize("name", list(BAD))
def test_bad_images_are_refused_by_name(name: str) -> None:
    data, key = BAD[name]
    res = checked(data)
    assert isinstance(res, InputError) and res.key == key, res


@pytest.mark.parametrize("name", list(GOOD))
def test_phone_formats_are_accepted(name: str) -> None:
    assert checked(GOOD[name]) == (64, 48)


MAGIC = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\0\0\0\0WEBPVP8 ", b"GIF89a", b"BM",
         b"II*\x00", b"MM\x00*", b"\x00\x00\x01\x00", b"%PDF-", b""]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MAGIC), st.binary(max_size=2048))
def test_random_bytes_behind_a_magic_number_never_crash(magic: bytes, tail: bytes) -> None:
    res = checked(magic + tail)
    assert isinstance(res, InputError | tuple)
    if isinstance(res, InputError):
        assert res.key in ("image_bad", "image_too_big")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(GOOD.values())), st.data())
def test_corrupted_photos_never_crash(data: bytes, draw: st.DataObject) -> None:
    buf = bytearray(data)
    for _ in range(draw.draw(st.integers(1, 8))):
        i = draw.draw(st.integers(0, len(buf) - 1))
        buf[i] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.integers(1, len(buf)))
    res = checked(bytes(buf[:cut]))
    assert isinstance(res, InputError | tuple)


def test_truncated_jpeg_is_refused_up_front() -> None:
    data = picture("JPEG", (640, 480))
    res = checked(data[: len(data) // 2])
    assert isinstance(res, InputError) and res.key == "image_bad"


# ---- through the submit path -------------------------------------------------------------
@pytest.fixture
async def service(storage: Storage) -> ClipService:
    return ClipService(storage, CoreConfig(limits=LIMITS))


async def announce_engine(storage: Storage, supports_image: bool) -> None:
    await storage.engines.beat(EngineInfo(engine_id="img-engine", model="m", device="cpu",
                                          preview=True, supports_image=supports_image))


async def assert_nothing_written(storage: Storage) -> None:
    assert await storage.jobs.queue_depth() == 0
    assert await storage.redis.xlen(storage.keys.lane()) == 0
    view = await storage.accounts.quota(ALICE.user, LIMITS)
    assert (view.used_clips, view.used_gpu_s, view.inflight) == (0, 0.0, 0)
    stray = [k async for k in storage.redis.scan_iter(match=storage.keys.base + "*")
             if ":idem:" in k or ":image:" in k or ":job:" in k]
    assert stray == []


@pytest.mark.parametrize("name", list(BAD))
async def test_bad_photo_through_the_core_changes_nothing(
    storage: Storage, service: ClipService, name: str
) -> None:
    await announce_engine(storage, supports_image=True)
    res = await service.request_video(ALICE, "la photo qui bouge", idem_key="tg:9",
                                      image=BAD[name][0])
    assert isinstance(res, Refusal) and res.key == BAD[name][1], res
    await assert_nothing_written(storage)


async def test_photo_without_an_image_engine_is_refused(
    storage: Storage, service: ClipService
) -> None:
    await announce_engine(storage, supports_image=False)
    res = await service.request_video(ALICE, "", idem_key="tg:9", image=GOOD["jpeg"])
    assert isinstance(res, Refusal) and res.key == "image_unsupported"
    await assert_nothing_written(storage)


async def test_good_photo_is_one_job_one_charge_even_when_resent(
    storage: Storage, service: ClipService
) -> None:
    await announce_engine(storage, supports_image=True)
    first = await service.request_video(ALICE, "", idem_key="tg:9", image=GOOD["png"])
    again = await service.request_video(ALICE, "", idem_key="tg:9", image=GOOD["png"])
    assert isinstance(first, Submitted) and isinstance(again, Submitted)
    assert again.duplicate and again.job_id == first.job_id
    assert (await service.quota(ALICE)).used_clips == 1
    job = await storage.jobs.get(first.job_id)
    assert job is not None and job.request.has_image
    assert await storage.image(first.job_id) == GOOD["png"]
