"""A real preview engine and a bot's result pump, with an action run at an exact stage.

The worker's ``stage_hook`` calls ``action(job_id)`` the first time a job reaches the chosen
stage (and step); the stage ``delivering`` is the moment a bot starts sending the clip.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from types import TracebackType

from bots.core.delivery import ResultPump
from engine.stages import Stage
from engine.worker import Worker, WorkerConfig
from storage import Accepted, JobRecord, JobRequest, QuotaLimits, Refused, Storage

USER = "cli:u"
ONE_AT_A_TIME = QuotaLimits(daily_gpu_s=1000, daily_clips=50, max_inflight=1, max_queue=100)
COST = 1.5
DELIVERING = "delivering"

Action = Callable[[str], Awaitable[object]]


async def submit(storage: Storage, key: str, steps: int = 2) -> Accepted | Refused:
    req = JobRequest(platform="cli", user_id="u", chat_id="c", prompt="a red kite", seed=3,
                     aspect="9:16", seconds=1, steps=steps)
    return await storage.jobs.submit(req, cost=COST, limits=ONE_AT_A_TIME, idem_key=key)


class Sink:
    """What the user got: clips and failure notices per job id."""

    def __init__(self, on_clip: Action | None = None) -> None:
        self.clips: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.on_clip = on_clip

    async def deliver_clip(self, job: JobRecord, clip: bytes, thumb: bytes | None) -> None:
        if self.on_clip is not None:
            action, self.on_clip = self.on_clip, None
            await action(job.id)
        self.clips[job.id] += 1

    async def deliver_failure(self, job: JobRecord) -> None:
        self.failures[job.id] += 1


class StagedRun:
    """``async with StagedRun(...) as run``: engine and pump run until the block ends."""

    def __init__(
        self, storage: Storage, generator: object, stage: Stage | str, action: Action,
        *, step: int = 0, pump: bool = True,
    ) -> None:
        self.storage, self.stage, self.step, self.action = storage, stage, step, action
        self.fired = asyncio.Event()
        self.sink = Sink(self._fire if stage == DELIVERING else None)
        self.worker = Worker(
            storage, generator,  # type: ignore[arg-type]
            WorkerConfig(engine_id=f"staged-{uuid.uuid4().hex[:6]}", profile="preview",
                         default_steps=2, heartbeat_ttl_s=1.5, block_ms=200,
                         progress_interval_s=0.0),
            stage_hook=self._hook,
        )
        self._pump = pump
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def _hook(self, stage: Stage, job_id: str, step: int) -> None:
        if stage == self.stage and (not self.step or step == self.step):
            await self._fire(job_id)

    async def _fire(self, job_id: str) -> None:
        if not self.fired.is_set():
            self.fired.set()
            await self.action(job_id)

    def start_pump(self) -> None:
        pump = ResultPump(self.storage, "cli", "bot-1", self.sink, retry_base_s=0.2)
        self._tasks.append(asyncio.create_task(pump.run(self._stop, block_ms=200)))

    async def __aenter__(self) -> StagedRun:
        self._tasks.append(asyncio.create_task(self.worker.run(self._stop)))
        if self._pump:
            self.start_pump()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        await asyncio.wait_for(asyncio.gather(*self._tasks), 60)


async def until(pred: Callable[[], Awaitable[bool]], what: str, timeout: float = 120) -> None:
    """Poll ``pred`` until it holds (generous deadline: the machine may be busy)."""
    async def poll() -> None:
        while not await pred():
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None
