"""A bot process restarted between submit and result still delivers, exactly once."""

from __future__ import annotations

import asyncio

from clipbot.settings import Settings
from storage import JobState, QuotaLimits, Storage
from tests.adapter_telegram.conftest import bot_running, engine_running, until
from tests.adapter_telegram.fake_bot_api import FakeBotApi
from tests.adapter_telegram.updates import message, user


async def test_restart_between_submit_and_result_delivers_once(
        api: FakeBotApi, settings: Settings, storage: Storage, preview_generator: object
) -> None:
    ana = user(501)
    async with bot_running(settings, storage):
        update = await api.inject(message("a paper boat on a puddle --seconds 1", sender=ana))
        ack = await api.wait_for(lambda: api.sent_to(501), timeout=10)
    [job] = await storage.jobs.jobs_of("telegram:501")
    assert job.state is JobState.QUEUED

    # The job finishes while no bot runs; the result waits in the stream.
    async def done() -> bool:
        return (await storage.jobs.get(job.id)).state is JobState.DONE

    async with engine_running(storage, preview_generator):
        await until(done, timeout=60, what="the engine to finish")
    assert not api.called("sendVideo")

    # The old process died before confirming its last update: Telegram serves it again.
    api.forget_confirmations()
    async with bot_running(settings, storage):
        await api.wait_for(lambda: api.called("sendVideo"), timeout=20)
        await api.wait_for(lambda: api.served.count(update["update_id"]) == 2, timeout=10)
        await until(lambda: _delivered(storage, job.id), what="the charge to be committed")
        await asyncio.sleep(0.5)  # room for a wrong second delivery or a second ack
    assert len(api.called("sendVideo")) == 1
    assert api.sent_to(501) == ack  # the first ack only: the re-served update was a duplicate
    video = api.called("sendVideo")[0]
    assert video.params["chat_id"] == 501
    view = await storage.accounts.quota("telegram:501", QuotaLimits())
    assert (view.used_clips, view.inflight) == (1, 0)

    # A third start re-reads nothing: the result was acked once.
    async with bot_running(settings, storage):
        await asyncio.sleep(0.5)
    assert len(api.called("sendVideo")) == 1


async def _delivered(storage: Storage, job_id: str) -> bool:
    job = await storage.jobs.get(job_id)
    return job is not None and job.delivered
