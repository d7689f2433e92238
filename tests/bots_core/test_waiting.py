"""follow_queue: waiting users hear when their place in the queue moves, and only then."""

from __future__ import annotations

import asyncio

from bots.core.service import ClipService, CoreConfig, Submitted, Who
from bots.core.waiting import QueuePlace, follow_queue
from storage import JobRecord, QuotaLimits, Storage

LIMITS = QuotaLimits(daily_clips=10, daily_gpu_s=10_000.0, max_inflight=5)
TICK_S = 0.05


class Recorder:
    def __init__(self) -> None:
        self.places: list[tuple[str, QueuePlace]] = []

    async def on_queue_place(self, job: JobRecord, place: QueuePlace) -> None:
        self.places.append((job.id, place))


async def submit(service: ClipService, platform: str, user: str, n: int) -> str:
    res = await service.request_video(Who(platform, user, "chat", "en"), f"a kite {n}",
                                      idem_key=f"{platform}:{n}")
    assert isinstance(res, Submitted)
    return res.job_id


async def settle(ticks: int = 4) -> None:
    await asyncio.sleep(TICK_S * ticks)


async def test_only_moved_jobs_of_this_platform_are_reported(storage: Storage,
                                                               idle_engine: str) -> None:
    service = ClipService(storage, CoreConfig(limits=LIMITS))
    first = await submit(service, "telegram", "ana", 1)
    web = await submit(service, "web", "ben", 2)
    second = await submit(service, "telegram", "cy", 3)
    third = await submit(service, "telegram", "cy", 4)

    sink, stop = Recorder(), asyncio.Event()
    task = asyncio.create_task(
        follow_queue(storage, "telegram", sink, stop, service.eta, every_s=TICK_S))
    try:
        await settle()
        assert sink.places == []  # first sightings: the acknowledgement said it already

        assert await storage.jobs.cancel(first, "telegram:ana") == "cancelled"
        await settle()
        moved = {job_id: place.position for job_id, place in sink.places}
        assert moved == {second: 2, third: 3}  # not the web job, not the cancelled one
        assert all(place.eta_s > 0 for _, place in sink.places)

        await settle()
        assert len(sink.places) == 2  # nothing moved since: nothing said

        assert await storage.jobs.cancel(web, "web:ben") == "cancelled"
        await settle()
        assert [(j, p.position) for j, p in sink.places[2:]] == [(second, 1), (third, 2)]
    finally:
        stop.set()
        await asyncio.wait_for(task, 2)


async def test_a_failing_chat_does_not_stop_the_others(storage: Storage,
                                                       idle_engine: str) -> None:
    service = ClipService(storage, CoreConfig(limits=LIMITS))
    jobs = [await submit(service, "discord", f"u{i}", i) for i in range(4)]

    class Flaky(Recorder):
        async def on_queue_place(self, job: JobRecord, place: QueuePlace) -> None:
            if job.id == jobs[1]:
                raise RuntimeError("chat deleted")
            await super().on_queue_place(job, place)

    sink, stop = Flaky(), asyncio.Event()
    task = asyncio.create_task(
        follow_queue(storage, "discord", sink, stop, service.eta, every_s=TICK_S))
    try:
        await settle()
        await storage.jobs.cancel(jobs[0], "discord:u0")
        await settle()
        assert [(j, p.position) for j, p in sink.places] == [(jobs[2], 2), (jobs[3], 3)]
        assert not task.done()
    finally:
        stop.set()
        await asyncio.wait_for(task, 2)


async def test_nothing_is_said_while_no_engine_is_online(storage: Storage) -> None:
    # The acknowledgement said "your clip starts when an engine is back": no made-up ETA.
    service = ClipService(storage, CoreConfig(limits=LIMITS))
    jobs = [await submit(service, "telegram", f"u{i}", i) for i in range(3)]
    sink, stop = Recorder(), asyncio.Event()
    task = asyncio.create_task(
        follow_queue(storage, "telegram", sink, stop, service.eta, every_s=TICK_S))
    try:
        await settle()
        await storage.jobs.cancel(jobs[0], "telegram:u0")
        await settle()
        assert sink.places == []
    finally:
        stop.set()
        await asyncio.wait_for(task, 2)
