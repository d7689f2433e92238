"""The engine loop: take one job at a time from the stream, generate, encode, store, report.

Generation runs in a worker thread so heartbeats, progress and cancellation stay live on
the event loop; encoding and storing job N overlaps the GPU work of job N+1. A user's cancel
is read from Redis after every denoising step (the last one included), before encoding and
before storing; the finish script refuses a cancelled job as the last fence.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from clipbot.media import encode_mp4, thumbnail_jpeg
from clipbot.metrics import METRICS
from engine.buckets import resolve_bucket
from engine.pipeline import GenerationCancelled, GenerationFailed, GenerationSpec
from engine.stages import Stage, StageHook
from storage import Claim, ClipMeta, JobState, Storage
from storage.connection import TRANSIENT
from storage.jobs import new_id
from storage.models import EngineInfo, Handback

log = logging.getLogger("clipbot.engine")
# A cancel check the generation thread waits for; past this it carries on (Redis trouble
# must not fail a job) and the next check, or finish.lua, catches the cancel.
CHECK_TIMEOUT_S = 30.0


class Generator(Protocol):
    model_name: str
    device: str
    supports_image: bool
    is_preview: bool

    def generate(self, spec: GenerationSpec, on_step=None, should_cancel=None) -> np.ndarray: ...


@dataclass(frozen=True)
class WorkerConfig:
    engine_id: str
    profile: str = "preview"  # bucket sizes: "preview" or "full"
    default_steps: int = 6
    guidance: float = 5.0
    heartbeat_ttl_s: float = 15.0
    drain_timeout_s: float = 60.0
    progress_interval_s: float = 0.5
    block_ms: int = 1000
    fps: int = 16


class Worker:
    def __init__(
        self, storage: Storage, generator: Generator, config: WorkerConfig,
        *, stage_hook: StageHook | None = None,
    ) -> None:
        """``stage_hook`` (optional) is awaited at each cancel check (see engine.stages)."""
        self.storage = storage
        self.gen = generator
        self.cfg = config
        self._stage_hook = stage_hook
        self.busy_job = ""
        self._cancel = False
        self._handing_back = False
        self._steps = 0
        self._tail: asyncio.Task[None] | None = None
        # Stream entries this process is working on (generating or still storing).
        self._holding: set[str] = set()
        self.handled = 0
        # Set by SIGTERM (the caller's stop event) or by an operator's drain request.
        self._leaving = asyncio.Event()
        self.drained = False

    @property
    def info(self) -> EngineInfo:
        return EngineInfo(
            engine_id=self.cfg.engine_id, model=self.gen.model_name, device=self.gen.device,
            preview=self.gen.is_preview, supports_image=self.gen.supports_image,
            busy_job=self.busy_job,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Serve jobs until ``stop`` is set or an operator drains this engine (``clipbot admin
        drain-engine``), then finish (or hand back) the current one and leave."""
        me = self.cfg.engine_id
        await self.storage.engines.clear_drain(me)  # left by an earlier run under this id
        await self.storage.engines.beat(self.info)
        relay = asyncio.create_task(self._relay(stop))
        beats = asyncio.create_task(self._heartbeats())
        try:
            while not self._leaving.is_set():
                got = await self._next()
                if got is None:
                    continue
                work = asyncio.create_task(self._guarded(*got))
                stopper = asyncio.create_task(self._leaving.wait())
                await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
                stopper.cancel()
                if not work.done():
                    await self._drain(work)
            if self._tail is not None:
                await self._tail
        finally:
            relay.cancel()
            beats.cancel()
            with contextlib.suppress(*TRANSIENT):
                await self.storage.engines.leave(me)
        if self.drained:
            log.info("engine %s drained: left the live engines after %d jobs; exiting",
                     me, self.handled)

    async def _relay(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._leaving.set()

    def _begin_drain(self) -> None:
        if not self.drained:
            self.drained = True
            log.info("engine %s: an operator asked it to drain; taking no new jobs%s",
                     self.cfg.engine_id,
                     f", finishing job {self.busy_job}" if self.busy_job else "")
        self._leaving.set()

    async def _guarded(self, entry_id: str, job_id: str) -> None:
        """Run one job; if Redis drops out, leave the entry in our pending list: the next
        ``_next`` serves it again (it is not lost, and not stolen while we live)."""
        self._holding.add(entry_id)
        handed_to_tail = False
        try:
            handed_to_tail = await self.process(entry_id, job_id)
        except TRANSIENT as exc:
            log.warning("redis unavailable during job %s (%s); will retry it", job_id, exc)
            await asyncio.sleep(1.0)
        finally:
            if not handed_to_tail:
                self._holding.discard(entry_id)

    async def _next(self) -> tuple[str, str] | None:
        jobs = self.storage.jobs
        try:
            # One EXISTS per read: a drain request is seen before taking another job.
            if await self.storage.engines.drain_requested(self.cfg.engine_id):
                self._begin_drain()
                return None
            for entry_id, job_id in await jobs.read_own_pending(self.cfg.engine_id):
                if entry_id not in self._holding:
                    return entry_id, job_id
            stolen = await jobs.reclaim(self.cfg.engine_id)
            if stolen is not None:
                log.warning("reclaimed job %s from dead engine %s", stolen[1], stolen[2])
                return stolen[0], stolen[1]
            return await jobs.read_next(self.cfg.engine_id, self.cfg.block_ms)
        except TRANSIENT as exc:
            log.warning("redis unavailable (%s); retrying", exc)
            await asyncio.sleep(1.0)
            return None

    async def _drain(self, work: asyncio.Task[None]) -> None:
        log.info("stopping: letting job %s finish (up to %.0fs)", self.busy_job,
                 self.cfg.drain_timeout_s)
        done, _ = await asyncio.wait({work}, timeout=self.cfg.drain_timeout_s)
        if not done:
            self._handing_back = True
            self._cancel = True
            await work

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.cfg.heartbeat_ttl_s / 3)
            try:
                if await self.storage.engines.beat(self.info):
                    self._begin_drain()
            except TRANSIENT as exc:
                log.warning("heartbeat failed: %s", exc)

    def spec_for(self, claim: Claim, image: bytes | None = None) -> GenerationSpec:
        from engine.pipeline import DEFAULT_NEGATIVE_PROMPT

        r = claim.job.request
        bucket = resolve_bucket(r.aspect, r.seconds, self.cfg.profile)
        return GenerationSpec(
            prompt=r.prompt,
            negative_prompt=r.negative_prompt or DEFAULT_NEGATIVE_PROMPT,
            width=bucket.width, height=bucket.height, num_frames=bucket.num_frames,
            steps=r.steps or self.cfg.default_steps, guidance_scale=self.cfg.guidance,
            seed=r.seed, image=image, fast=r.fast,
        )

    async def process(self, entry_id: str, job_id: str) -> bool:
        """Run one job. True when its result is being stored in the background."""
        claim = await self.storage.jobs.claim(entry_id, job_id, self.cfg.engine_id)
        if isinstance(claim, str):
            log.info("job %s not run: %s", job_id, claim)
            return False
        self.busy_job, self._cancel, self._handing_back = job_id, False, False
        await self.storage.engines.beat(self.info)
        if claim.job.started_at_ms and claim.job.created_at_ms:
            METRICS.observe_stage(
                "queue_wait", (claim.job.started_at_ms - claim.job.created_at_ms) / 1000
            )
        started = time.monotonic()
        METRICS.engine_busy()
        try:
            frames = await self._generate(claim)
        except GenerationCancelled:
            await self._end_cancelled(claim)
            return False
        except GenerationFailed as exc:
            log.warning("job %s failed: %s", job_id, exc)
            await self._fail(claim, exc.code)
            return False
        except TRANSIENT:
            raise
        except Exception:
            log.exception("job %s crashed the pipeline", job_id)
            await self._fail(claim, "model")
            return False
        finally:
            self.busy_job = ""
            METRICS.engine_idle()
            METRICS.gpu_used(time.monotonic() - started)
            with contextlib.suppress(*TRANSIENT):
                await self.storage.engines.beat(self.info)  # no longer busy with it
        gen_s = time.monotonic() - started
        METRICS.observe_stage("generate", gen_s)
        if self._tail is not None:
            await self._tail
        # Encode/store in the background so the next job's generation starts now.
        self._tail = asyncio.create_task(self._deliver(entry_id, claim, frames, gen_s))
        return True

    async def _fail(self, claim: Claim, code: str) -> None:
        METRICS.outcome("failed")
        await self.storage.jobs.finish(claim, self.cfg.engine_id, JobState.FAILED, error=code)

    async def _generate(self, claim: Claim) -> np.ndarray:
        loop = asyncio.get_running_loop()
        image = await self.storage.image(claim.job.id) if claim.job.request.has_image else None
        spec = self.spec_for(claim, image)
        self._steps = spec.steps
        last = [0.0]

        def on_step(step: int, total: int) -> None:
            now = time.monotonic()
            if step >= total or now - last[0] >= self.cfg.progress_interval_s:
                last[0] = now
                fut = asyncio.run_coroutine_threadsafe(self._progress(claim, step, total), loop)
                fut.add_done_callback(_log_failure)
            # Not throttled: one small read per step, so a cancel pressed at any step
            # (the last one included) stops the job before the VAE decodes.
            stage = Stage.LAST_STEP if step >= total else Stage.STEP
            check = asyncio.run_coroutine_threadsafe(
                self._cancelled_at(stage, claim, step), loop
            )
            try:
                if check.result(timeout=CHECK_TIMEOUT_S):
                    self._cancel = True
            except concurrent.futures.TimeoutError:
                check.cancel()
                log.warning("cancel check of job %s timed out at step %d", claim.job.id, step)
            except Exception as exc:  # Redis trouble: the next check or finish.lua catches it
                log.warning("cancel check of job %s failed at step %d: %s", claim.job.id,
                            step, exc)

        return await asyncio.to_thread(self.gen.generate, spec, on_step, lambda: self._cancel)

    async def _cancelled_at(self, stage: Stage, claim: Claim, step: int = 0) -> bool:
        """The cancel check at ``stage``: True once the user cancelled or forgot the job.
        Per job, not ``self._cancel``: encoding one job overlaps generating the next."""
        if self._stage_hook is not None:
            await self._stage_hook(stage, claim.job.id, step)
        return await self.storage.jobs.cancel_requested(claim.job.id)

    async def _progress(self, claim: Claim, step: int, total: int, phase: str = "running") -> None:
        payload = json.dumps({"job": claim.job.id, "phase": phase, "step": step, "total": total})
        flag = await self.storage.jobs.progress(
            claim, self.cfg.engine_id, step, total, publish=payload
        )
        if flag != 0 and self.busy_job == claim.job.id:
            # 1: the user cancelled; -1: another engine took the job over (we were paused).
            # Only while generating it: an encoding job's report must not stop the next one.
            self._cancel = True

    async def _end_cancelled(self, claim: Claim) -> None:
        jobs, me = self.storage.jobs, self.cfg.engine_id
        METRICS.outcome("handed_back" if self._handing_back else "cancelled")
        if self._handing_back and await jobs.handback(claim, me) is not Handback.CANCELLED:
            log.info("handed job %s back to the queue", claim.job.id)
            return
        await jobs.finish(claim, me, JobState.CANCELLED)

    async def _deliver(
        self, entry_id: str, claim: Claim, frames: np.ndarray, gen_s: float
    ) -> None:
        try:
            for attempt in range(5):
                try:
                    await self._store(claim, frames, gen_s)
                    return
                except Exception:
                    log.exception("could not store job %s (try %d)", claim.job.id, attempt)
                    await asyncio.sleep(2.0 * (attempt + 1))
        finally:
            # Still unfinished after all tries: releasing the entry lets _next serve it
            # again from our pending list, so the job is regenerated rather than lost.
            self._holding.discard(entry_id)

    async def _store(self, claim: Claim, frames: np.ndarray, gen_s: float) -> None:
        if await self._cancelled_at(Stage.ENCODE, claim, self._steps):
            await self._end_cancelled_late(claim)
            return
        await self._progress(claim, self._steps, self._steps, "encoding")
        t0 = time.monotonic()
        mp4 = await asyncio.to_thread(encode_mp4, frames, self.cfg.fps)
        thumb = await asyncio.to_thread(thumbnail_jpeg, frames[len(frames) // 2])
        METRICS.observe_stage("encode", time.monotonic() - t0)
        if await self._cancelled_at(Stage.STORE, claim, self._steps):
            await self._end_cancelled_late(claim)
            return
        clip_id = new_id()
        await self.storage.clips.put(clip_id, mp4, thumb)
        t, h, w = frames.shape[:3]
        meta = ClipMeta(
            width=w - w % 2, height=h - h % 2, frames=t, fps=self.cfg.fps,
            duration_s=round(t / self.cfg.fps, 3), size_bytes=len(mp4),
            model=self.gen.model_name, preview=self.gen.is_preview,
        )
        if self._stage_hook is not None:
            await self._stage_hook(Stage.FINISH, claim.job.id, self._steps)
        ended = await self.storage.jobs.finish(
            claim, self.cfg.engine_id, JobState.DONE, clip_id=clip_id, meta=meta,
            gen_seconds=gen_s,
        )
        if ended is not JobState.DONE:
            # None: taken over while encoding; CANCELLED: the user cancelled meanwhile.
            log.info("job %s ended %s; clip dropped", claim.job.id, ended or "elsewhere")
            await self.storage.clips.delete(clip_id)
        if ended is not None:
            METRICS.outcome(ended.value)
        self.handled += 1

    async def _end_cancelled_late(self, claim: Claim) -> None:
        """Cancelled after the denoising loop: end it without encoding or storing."""
        METRICS.outcome("cancelled")
        await self.storage.jobs.finish(claim, self.cfg.engine_id, JobState.CANCELLED)
        self.handled += 1


def _log_failure(fut: object) -> None:
    exc = fut.exception()  # type: ignore[attr-defined]
    if exc is not None:
        log.warning("progress update failed: %s", exc)
