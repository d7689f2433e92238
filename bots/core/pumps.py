"""One way for every adapter to run its background delivery: the result pump, progress
and queue places, started together and stopped together, with every error logged.

The sink is whatever the adapter hands in (it may send directly or through an outbox);
nothing here knows how a message leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from bots.core.delivery import Deliverer, ProgressSink, ResultPump, follow_progress
from bots.core.waiting import QUEUE_TICK_S, QueueSink, follow_queue
from storage import Storage

log = logging.getLogger("clipbot.bots")
SHUTDOWN_GRACE_S = 10.0
Eta = Callable[[int], Awaitable[float]]
# A best-effort loop that runs until the event is set (e.g. the web's queue watcher).
Follower = Callable[[asyncio.Event], Awaitable[None]]


@dataclass(frozen=True)
class PumpConfig:
    """``eta``: follow queue places too (the sink then also implements ``QueueSink``).
    ``poll_s`` bounds how long a pump takes to notice a stop; ``grace_s`` how long a
    delivery under way may finish at shutdown; ``idle`` (optional) resolves when the sink
    has no send under way, after which the result pump may be cut at once."""

    consumer: str
    eta: Eta | None = None
    queue_every_s: float = QUEUE_TICK_S
    poll_s: float = 1.0
    grace_s: float = SHUTDOWN_GRACE_S
    idle: Callable[[], Awaitable[None]] | None = None
    followers: Sequence[Follower] = ()
    progress: bool = True


class Sink(Deliverer, ProgressSink, Protocol):
    """What the pumps deliver to (``on_queue_place`` too when an ETA is given)."""


@contextlib.asynccontextmanager
async def pumps(storage: Storage, platform: str, sink: Sink, config: PumpConfig
                ) -> AsyncIterator[None]:
    """Run ``platform``'s pumps while the block runs; stop them cleanly after it.

    A pump that dies is logged at once (and again never silently dropped at shutdown).
    Cutting the result pump short is safe: unacked results stay pending in the consumer
    group and are delivered by the next start, and charges commit once per job."""
    stop = asyncio.Event()
    pump = ResultPump(storage, platform, config.consumer, sink)
    result = _start(f"{platform}-results", pump.run(stop, int(config.poll_s * 1000)), stop)
    best_effort: list[asyncio.Task[None]] = []
    if config.progress:
        best_effort.append(_start(f"{platform}-progress", follow_progress(
            storage, platform, sink, stop, config.poll_s), stop))
    if config.eta is not None:
        queue_sink = cast(QueueSink, sink)
        best_effort.append(_start(f"{platform}-queue", follow_queue(
            storage, platform, queue_sink, stop, config.eta, config.queue_every_s), stop))
    best_effort += [_start(f"{platform}-follower-{i}", f(stop), stop)
                    for i, f in enumerate(config.followers)]
    try:
        yield
    finally:
        stop.set()
        for task in best_effort:  # progress and places: nothing to finish
            task.cancel()
        if config.idle is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(config.idle(), config.grace_s)
            result.cancel()
        else:
            _, late = await asyncio.wait({result}, timeout=config.grace_s)
            for task in late:
                task.cancel()
        # Errors were logged by _reported as each task ended; this only waits for them.
        await asyncio.gather(result, *best_effort, return_exceptions=True)


def _start(name: str, work: Awaitable[None], stop: asyncio.Event) -> asyncio.Task[None]:
    task = asyncio.ensure_future(work)
    task.set_name(name)
    task.add_done_callback(lambda t: _reported(t, stop))
    return task


def _reported(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("%s stopped with an error", task.get_name(), exc_info=exc)
    elif not stop.is_set():
        log.error("%s stopped on its own; results wait for the next start", task.get_name())
