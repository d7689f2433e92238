"""The delivery sink with a real python-telegram-bot Bot against the fake Bot API:
a clip over the upload limit is re-encoded to fit, and described as sent."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest
from telegram import Bot

from bots.telegram.delivery import TelegramSink
from bots.telegram.state import TelegramState
from clipbot.media import encode_mp4, probe_mp4, thumbnail_jpeg
from storage import ClipMeta, JobRecord, JobRequest, JobState, Storage
from tests.adapter_telegram.conftest import TOKEN
from tests.adapter_telegram.fake_bot_api import FakeBotApi


@pytest.fixture
async def real_bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        yield bot


def noisy_clip() -> tuple[bytes, bytes]:
    frames = np.random.default_rng(7).integers(0, 255, (16, 144, 256, 3), dtype=np.uint8)
    return encode_mp4(frames, 16, crf=10), thumbnail_jpeg(frames[0])


async def test_oversized_clip_is_refitted_and_described_as_sent(
        api: FakeBotApi, real_bot: Bot, storage: Storage) -> None:
    clip, thumb = noisy_clip()
    limit = len(clip) // 4
    request = JobRequest(platform="telegram", user_id="901", chat_id="901", locale="en",
                         prompt="static on an old television", seconds=2, seed=3,
                         reply={"message_id": 12})
    meta = ClipMeta(width=256, height=144, frames=16, fps=16, duration_s=1.0,
                    size_bytes=len(clip), model="preview", preview=True)
    job = JobRecord(id="job-fit-1", user="telegram:901", state=JobState.DONE,
                    request=request, clip_id="c1", meta=meta)
    sink = TelegramSink(real_bot, storage, TelegramState(storage.redis, storage.keys),
                        upload_limit_bytes=limit)
    await sink.deliver_clip(job, clip, thumb)

    [video] = api.called("sendVideo")
    sent = video.files["video"].data
    info = probe_mp4(sent)
    assert len(sent) <= limit < len(clip)
    assert info.codec == "h264"
    assert (video.params["width"], video.params["height"]) == (info.width, info.height)
    assert video.params["duration"] == 1
    # Delivering again (the pump retrying after a crash) sends nothing new.
    await sink.deliver_clip(job, clip, thumb)
    assert len(api.called("sendVideo")) == 1
