"""Photos through python-telegram-bot and the fake Bot API: sent as a photo or "as a file",
they become image-to-video jobs carrying exactly the user's bytes; a download that fails is
answered politely and nothing is queued."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bots.i18n import t
from bots.telegram.app import Running
from storage import Storage
from storage.models import EngineInfo
from tests.adapter_telegram.fake_bot_api import FakeBotApi
from tests.adapter_telegram.updates import document, message, photo, user


def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def image_engine(storage: Storage) -> None:
    """An engine that says it animates images (no worker: jobs stay queued)."""
    await storage.engines.beat(EngineInfo(engine_id="i2v-engine", model="wan-i2v",
                                          device="cpu", preview=False, supports_image=True))


async def first_reply(api: FakeBotApi, chat_id: int) -> str:
    return (await api.wait_for(lambda: api.texts_to(chat_id), timeout=10))[0]


async def test_photo_becomes_an_image_to_video_job(
        api: FakeBotApi, bot: Running, storage: Storage, image_engine: None) -> None:
    data = png()
    await api.inject(photo("steam rising from the bread", sender=user(401),
                           file_id=api.add_file(data)))
    await first_reply(api, 401)
    [job] = await storage.jobs.jobs_of("telegram:401")
    assert job.request.has_image and job.request.prompt == "steam rising from the bread"
    assert await storage.image(job.id) == data  # the engine gets exactly the user's photo


@pytest.mark.parametrize("mime", ["image/jpeg", "image/png", "image/webp"])
async def test_photo_sent_as_a_file_is_treated_like_a_photo(
        api: FakeBotApi, bot: Running, storage: Storage, image_engine: None,
        mime: str) -> None:
    data = png(80, 60)
    await api.inject(document("", sender=user(402), file_id=api.add_file(data), mime=mime))
    assert await first_reply(api, 402) != t("en", "empty_prompt")
    [job] = await storage.jobs.jobs_of("telegram:402")
    assert job.request.has_image and await storage.image(job.id) == data


async def test_image_file_without_an_image_engine_is_refused_and_never_fetched(
        api: FakeBotApi, bot: Running, storage: Storage) -> None:
    await api.inject(document("move", sender=user(403), file_id=api.add_file(png()),
                              mime="image/png"))
    assert await first_reply(api, 403) == t("en", "image_unsupported")
    assert not api.called("getFile")
    assert await storage.jobs.jobs_of("telegram:403") == []


async def test_other_files_are_not_photos(
        api: FakeBotApi, bot: Running, storage: Storage, image_engine: None) -> None:
    await api.inject(document("", sender=user(404), file_id=api.add_file(b"GIF89a"),
                              mime="image/gif"))
    assert await first_reply(api, 404) == t("en", "image_bad")
    await api.inject(document("", sender=user(405), file_id=api.add_file(b"%PDF-1.4"),
                              mime="application/pdf"))
    assert await first_reply(api, 405) == t("en", "empty_prompt")
    assert not api.called("getFile")


async def test_failed_photo_download_is_answered_politely(
        api: FakeBotApi, bot: Running, storage: Storage, image_engine: None) -> None:
    fr = user(406, lang="fr")
    # The file server loses the file (404) after getFile found it...
    await api.inject(photo("", sender=fr, file_id=api.add_file(png(), lost=True)))
    assert await first_reply(api, 406) == t("fr", "image_bad")
    # ...or getFile itself refuses (an expired or unknown file id).
    await api.inject(document("", sender=fr, file_id="no-such-file", mime="image/jpeg"))
    replies = await api.wait_for(lambda: len(m := api.texts_to(406)) >= 2 and m, timeout=10)
    assert replies[1] == t("fr", "image_bad")
    assert len(api.called("getFile")) == 2
    assert await storage.jobs.jobs_of("telegram:406") == []
    # The bot is still answering.
    await api.inject(message("/help", sender=fr))
    assert (await api.wait_for(lambda: len(m := api.texts_to(406)) >= 3 and m))[2] == t(
        "fr", "help")
