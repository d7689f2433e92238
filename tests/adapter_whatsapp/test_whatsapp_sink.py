"""The delivery sink on a real encoded clip bigger than the limit, against the fake Graph."""

from __future__ import annotations

import time

import aiohttp
import numpy as np

from bots.core import render
from bots.whatsapp.delivery import WhatsAppSink
from bots.whatsapp.graph import GraphClient
from bots.whatsapp.state import ChatState
from clipbot.media import encode_mp4, probe_mp4
from storage import ClipMeta, JobRecord, JobRequest, JobState, Storage
from tests.adapter_whatsapp import payloads as p
from tests.adapter_whatsapp.conftest import TOKEN, VERSION
from tests.adapter_whatsapp.fake_graph import FakeGraph

WA = "33612345678"


def noisy_clip() -> bytes:
    # Noise is the worst case for a video encoder: the clip lands well over the limit.
    frames = np.random.default_rng(7).integers(0, 255, (17, 144, 256, 3), dtype=np.uint8)
    return encode_mp4(frames, 16)


async def test_clip_over_the_limit_is_reencoded_to_fit(storage: Storage,
                                                      graph: FakeGraph) -> None:
    clip = noisy_clip()
    limit = len(clip) // 3
    job = JobRecord(
        id="job-fit-1", user=f"whatsapp:{WA}", state=JobState.DONE,
        request=JobRequest(platform="whatsapp", user_id=WA, chat_id=WA, locale="fr",
                           prompt="du bruit", seconds=1, seed=5),
        meta=ClipMeta(width=256, height=144, frames=17, fps=16, duration_s=1.06,
                      size_bytes=len(clip), model="preview", preview=True),
    )
    state = ChatState(storage.redis, storage.keys)
    await state.saw_user(WA, time.time())
    async with aiohttp.ClientSession() as http:
        client = GraphClient(http, base_url=graph.url, version=VERSION,
                             phone_number_id=p.PHONE_NUMBER_ID, token=TOKEN)
        await WhatsAppSink(storage, client, state, video_limit=limit).deliver_clip(
            job, clip, None)
    [video] = graph.to(WA, "video")
    sent = graph.media[video["video"]["id"]].data
    assert len(sent) <= limit < len(clip)
    info = probe_mp4(sent)
    assert info.codec == "h264" and not info.has_b_frames and info.faststart
    assert info.frames == 17
    assert video["video"]["caption"] == render.caption(job)
    [buttons] = graph.to(WA, "interactive")
    titles = [b["reply"]["title"] for b in buttons["interactive"]["action"]["buttons"]]
    assert all(1 <= len(title) <= 20 for title in titles)
