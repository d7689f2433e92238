"""/video with a photo attached: image-to-video when a live engine can animate images;
otherwise, or for a photo that is too large, broken or gone, a clear private answer and
nothing queued or charged."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from bots.core.images import MAX_BYTES, MAX_PIXELS
from bots.i18n import t
from storage import QuotaLimits, Storage
from storage.models import EngineInfo
from tests.adapter_discord.fake_discord import FakeDiscord
from tests.adapter_discord.harness import (
    DEFERRED_WITH_SOURCE,
    EPHEMERAL,
    immediate_refusal,
    running_bot,
)
from tests.adapter_discord.payloads import USER, slash

pytestmark = pytest.mark.slow


def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, format="PNG")
    return out.getvalue()


async def announce_image_engine(storage: Storage) -> None:
    await storage.engines.beat(EngineInfo(engine_id="i2v-engine", model="wan-i2v", device="cpu",
                                          preview=False, supports_image=True))


def video_with(fake: FakeDiscord, attachment: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return slash(fake, "video", {"prompt": "steam rising from the bread"},
                 attachments={"image": attachment}, **kw)



async def nothing_charged(storage: Storage) -> None:
    assert await storage.jobs.jobs_of(f"discord:{USER}", 10) == []
    assert await storage.jobs.queue_depth() == 0
    view = await storage.accounts.quota(f"discord:{USER}", QuotaLimits())
    assert (view.used_clips, view.inflight) == (0, 0)


async def test_photo_without_an_image_engine_is_refused_privately_and_never_fetched(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    async with running_bot(fake, storage, redis_url):
        text = await immediate_refusal(
            fake, video_with(fake, fake.host_attachment(png()), locale="es-ES"))
    assert text == t("es", "image_unsupported")
    assert fake.downloads == 0
    await nothing_charged(storage)


async def test_photo_becomes_an_image_to_video_job(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    await announce_image_engine(storage)
    data = png()
    async with running_bot(fake, storage, redis_url):
        payload = video_with(fake, fake.host_attachment(data))
        await fake.interact(payload)
        await fake.wait_for(lambda: fake.find("edit_message", payload["token"]))
    [callback] = fake.find("callback", payload["token"])
    assert callback.payload["type"] == DEFERRED_WITH_SOURCE
    [job] = await storage.jobs.jobs_of(f"discord:{USER}", 10)
    assert job.request.has_image and job.request.prompt == "steam rising from the bread"
    assert await storage.image(job.id) == data  # the engine gets exactly the user's photo
    assert fake.downloads == 1


async def test_too_large_broken_or_vanished_photos_are_refused_and_nothing_is_queued(
    fake: FakeDiscord, storage: Storage, redis_url: str
) -> None:
    await announce_image_engine(storage)
    async with running_bot(fake, storage, redis_url):
        # Declared larger than the limit: refused from the size alone, never downloaded.
        big = fake.host_attachment(png(), size=MAX_BYTES + 1)
        text = await immediate_refusal(fake, video_with(fake, big, locale="fr"))
        assert text == t("fr", "image_too_big", max_mb=MAX_BYTES // 2**20,
                         max_mp=MAX_PIXELS // 10**6)
        assert fake.downloads == 0

        # Fetched, then refused: not an image, an image that is cut off, a 404 at the CDN.
        cases = [
            fake.host_attachment(b"GIF89a but not really", content_type="image/gif"),
            fake.host_attachment(png()[:60]),
            fake.host_attachment(png(), missing=True),
        ]
        for attachment in cases:
            payload = video_with(fake, attachment)
            await fake.interact(payload)
            [refusal] = await fake.wait_for(lambda p=payload: fake.find("followup", p["token"]))
            assert refusal.payload["content"] == t("en", "image_bad"), attachment
            assert refusal.payload["flags"] & EPHEMERAL
        assert fake.downloads == len(cases)
    await nothing_charged(storage)
