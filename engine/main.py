"""Assembly point of the engine process (``clipbot engine``)."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import socket
import sys

from clipbot.metrics import health_endpoint, redis_ready
from clipbot.settings import Settings
from clipbot.wiring import open_storage
from engine.worker import Worker, WorkerConfig
from storage.clips import ClipStore

log = logging.getLogger("clipbot.engine")


def engine_id(settings: Settings) -> str:
    return settings.engine_id or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


def sweep_interval_s(clip_ttl_s: float) -> float:
    """Every few minutes; often enough that a clip outlives its TTL by at most a quarter."""
    return min(300.0, max(1.0, clip_ttl_s / 4))


async def sweep_clips(clips: ClipStore, interval_s: float) -> None:
    """Expire unread clips of a folder clip store (Redis expires its own); never fatal."""
    while True:
        try:
            removed = await clips.sweep()
            if removed:
                log.info("removed %d expired clip files", removed)
        except Exception:
            log.exception("clip sweep failed; trying again in %.0f s", interval_s)
        await asyncio.sleep(interval_s)


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> int:
    import torch

    from engine.fast import SpeedOptions
    from engine.model import choose_model
    from engine.pipeline import ModelLoadError, VideoGenerator

    choice = choose_model(settings.model, settings.model_cache, cuda=torch.cuda.is_available())
    log.info("loading model %s", choice.source)
    try:
        generator = await asyncio.to_thread(
            VideoGenerator.load, choice.source, device=settings.device,
            local_files_only=choice.local_only,
            speed=SpeedOptions(attention=settings.attention, compile=settings.compile,
                               fast_threshold=settings.fast_threshold),
        )
    except ModelLoadError as exc:
        print(f"clipbot: {exc}", file=sys.stderr)
        return 2
    from engine.buckets import all_buckets

    # Compiles/autotunes every bucket now (on CUDA with compile on) so no request pays for it.
    warmed = await asyncio.to_thread(
        generator.warm_up, all_buckets(choice.profile), guidance_scale=settings.guidance
    )
    log.info("warmed %d buckets in %.1f s", len(warmed), sum(s for _, s in warmed))
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    config = WorkerConfig(
        engine_id=engine_id(settings),
        profile=choice.profile,
        default_steps=settings.steps or choice.default_steps,
        guidance=settings.guidance,
        heartbeat_ttl_s=settings.heartbeat_ttl_s,
        drain_timeout_s=settings.drain_timeout_s,
    )
    async with (
        await open_storage(settings) as storage,
        health_endpoint(settings.metrics_host, settings.metrics_port,
                        ready=redis_ready(storage), storage=storage),
    ):
        worker = Worker(storage, generator, config)
        preview = " (preview model: output is noise)" if generator.is_preview else ""
        print(f"engine {config.engine_id} ready: {generator.model_name} on "
              f"{generator.device}{preview}", flush=True)
        sweeper = asyncio.create_task(
            sweep_clips(storage.clips, sweep_interval_s(settings.clip_ttl_s))
        )
        try:
            await worker.run(stop)
        finally:
            sweeper.cancel()
    return 0
