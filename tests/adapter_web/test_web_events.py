"""The live-update hub and queue watcher, against real Redis (no engine needed)."""

from __future__ import annotations

from bots.core.service import ClipService, CoreConfig, Submitted, Who
from bots.web.events import QUEUE_SIZE, EventHub, _watch_once
from bots.web.views import JobUpdate
from storage import JobState, Storage
from tests.adapter_web.web_helpers import GENEROUS


async def test_watcher_moves_queue_positions_and_reports_other_processes_deliveries(
    storage: Storage,
) -> None:
    service = ClipService(storage, CoreConfig(limits=GENEROUS))
    ana, ben = Who("web", "a" * 16, "a" * 16, "pt"), Who("web", "b" * 16, "b" * 16, "en")
    first = await service.request_video(ana, "a red kite", idem_key="w1")
    second = await service.request_video(ben, "a blue kite", idem_key="w2")
    assert isinstance(first, Submitted) and isinstance(second, Submitted)
    assert second.position == 2

    hub = EventHub()
    watching = hub.subscribe(ben.user, "en")
    hub.track(ben.user, second.job_id, second.position)
    hub.track(ana.user, first.job_id, first.position)  # not connected: not watched
    assert [w[:2] for w in hub.watched()] == [(ben.user, second.job_id)]

    await _watch_once(storage, hub, service.eta)
    assert watching.queue.empty()  # nothing moved yet

    assert await service.cancel(ana, first.job_id) == "cancelled"
    await _watch_once(storage, hub, service.eta)
    update = watching.queue.get_nowait()
    assert update.job.id == second.job_id and update.position == 1

    # Another web process delivers Ben's (cancelled) job: this one still tells the browser.
    assert await service.cancel(ben, second.job_id) == "cancelled"
    await _watch_once(storage, hub, service.eta)
    assert watching.queue.empty()  # final but not delivered yet: the pump's turn
    assert await storage.jobs.deliver(second.job_id, "web")
    await _watch_once(storage, hub, service.eta)
    final = watching.queue.get_nowait()
    assert final.job.state is JobState.CANCELLED
    assert hub.watched() == []  # and it stops watching

    hub.unsubscribe(watching)
    assert not hub.connected(ben.user)


async def test_slow_browser_keeps_the_newest_update(storage: Storage) -> None:
    service = ClipService(storage, CoreConfig(limits=GENEROUS))
    who = Who("web", "c" * 16, "c" * 16, "en")
    res = await service.request_video(who, "a green kite", idem_key="w3")
    assert isinstance(res, Submitted)
    job = await storage.jobs.get(res.job_id)
    hub = EventHub()
    sub = hub.subscribe(who.user, "en")
    for position in range(QUEUE_SIZE + 10):
        hub.publish(who.user, JobUpdate(job, position=position))
    assert sub.queue.qsize() == QUEUE_SIZE
    items = [sub.queue.get_nowait().position for _ in range(QUEUE_SIZE)]
    assert items[-1] == QUEUE_SIZE + 9 and items[0] == 10
