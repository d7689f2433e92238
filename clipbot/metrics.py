"""Prometheus metrics and the ``/metrics`` + ``/healthz`` endpoint of every clipbot process.

One ``Metrics`` object per process (``METRICS``), on its own registry so that tests can
build fresh ones. Nothing here is sent anywhere: Prometheus scrapes it if the operator
points one at it (no telemetry).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

log = logging.getLogger("clipbot.metrics")

# Stages of a job, in order; each has its own latency histogram series.
STAGES = ("queue_wait", "generate", "encode", "deliver")
# Seconds; generation of a full clip takes minutes, an upload a second or two.
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600)
READY_TIMEOUT_S = 3.0


class BusyClock:
    """Fraction of the last ``window_s`` seconds an engine spent on a job (pure, no I/O)."""

    def __init__(self, window_s: float = 300.0, now: float | None = None) -> None:
        self.window_s = window_s
        self._born = time.monotonic() if now is None else now
        self._spans: deque[tuple[float, float]] = deque()
        self._since: float | None = None

    def busy(self, now: float) -> None:
        if self._since is None:
            self._since = now

    def idle(self, now: float) -> None:
        if self._since is not None:
            self._spans.append((self._since, now))
            self._since = None

    def ratio(self, now: float) -> float:
        start = max(now - self.window_s, self._born)
        while self._spans and self._spans[0][1] <= start:
            self._spans.popleft()
        spans = [*self._spans, *([(self._since, now)] if self._since is not None else [])]
        busy = sum(max(0.0, min(end, now) - max(begin, start)) for begin, end in spans)
        length = now - start
        return min(1.0, busy / length) if length > 0 else 0.0


class Metrics:
    """Every metric clipbot exports. Engines and bots share the names; each fills its part."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.queue_depth = Gauge(
            "clipbot_queue_depth", "Jobs waiting for an engine, per lane", ["lane"], registry=r
        )
        self.running = Gauge("clipbot_jobs_running", "Jobs being generated now", registry=r)
        self.engines = Gauge("clipbot_engines_live", "Engines with a live heartbeat", registry=r)
        self.latency = Histogram(
            "clipbot_job_stage_seconds",
            "Time a job spends in each stage (queue_wait, generate, encode, deliver)",
            ["stage"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.gpu_seconds = Counter(
            "clipbot_gpu_seconds", "Seconds engines spent generating on the GPU", registry=r
        )
        self.refusals = Counter(
            "clipbot_refusals",
            "Requests refused before queueing, by reason (and moderation rule name)",
            ["platform", "reason", "rule"], registry=r,
        )
        self.submitted = Counter(
            "clipbot_jobs_submitted", "Jobs accepted into the queue", ["platform"], registry=r
        )
        self.jobs = Counter(
            "clipbot_jobs", "Jobs by outcome (engine: done, failed, cancelled, handed_back; "
            "bots: delivered, failure_reported)", ["outcome"], registry=r,
        )
        self.busy_ratio = Gauge(
            "clipbot_engine_busy_ratio",
            "Fraction of the last 5 minutes this engine spent generating", registry=r,
        )
        self.clock = BusyClock()
        self.busy_ratio.set_function(lambda: self.clock.ratio(time.monotonic()))
        for stage in STAGES:  # export zero series up front so dashboards have them
            self.latency.labels(stage=stage)

    # ---- helpers the processes call -------------------------------------------------------
    def observe_stage(self, stage: str, seconds: float) -> None:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}")
        self.latency.labels(stage=stage).observe(max(0.0, seconds))

    def gpu_used(self, seconds: float) -> None:
        self.gpu_seconds.inc(max(0.0, seconds))

    def refused(self, reason: str, *, platform: str, rule: str = "") -> None:
        self.refusals.labels(platform=platform, reason=reason, rule=rule).inc()

    def accepted(self, platform: str) -> None:
        self.submitted.labels(platform=platform).inc()

    def outcome(self, outcome: str) -> None:
        self.jobs.labels(outcome=outcome).inc()

    def engine_busy(self) -> None:
        self.clock.busy(time.monotonic())

    def engine_idle(self) -> None:
        self.clock.idle(time.monotonic())

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def count_request(self, result: Any, *, platform: str) -> None:
        """Count what ``ClipService.request_video``/``again`` returned: a ``Refusal`` (has
        ``key``; a moderation refusal names its rule) or a ``Submitted`` (re-deliveries of
        the same update are not counted twice)."""
        key = getattr(result, "key", None)
        if key is not None:
            rule = str(getattr(result, "params", {}).get("rule", "")) if key == "moderation" else ""
            self.refused(key, platform=platform, rule=rule)
        elif not getattr(result, "duplicate", False):
            self.accepted(platform)


METRICS = Metrics()


class _Jobs(Protocol):
    lane: str

    async def queue_depth(self) -> int: ...
    async def running_count(self) -> int: ...


class _Engines(Protocol):
    async def live(self) -> Sequence[object]: ...


class _Storage(Protocol):
    @property
    def jobs(self) -> _Jobs: ...
    @property
    def engines(self) -> _Engines: ...


async def refresh_queue_metrics(storage: _Storage, metrics: Metrics = METRICS) -> None:
    """Copy the queue's state from Redis into the gauges (call before each scrape)."""
    metrics.queue_depth.labels(lane=storage.jobs.lane).set(await storage.jobs.queue_depth())
    metrics.running.set(await storage.jobs.running_count())
    metrics.engines.set(len(await storage.engines.live()))


async def start_health_server(
    host: str,
    port: int,
    *,
    ready: Callable[[], Awaitable[bool]],
    metrics: Metrics = METRICS,
    before_scrape: Callable[[], Awaitable[None]] | None = None,
) -> web.AppRunner:
    """Serve ``/metrics`` and ``/healthz`` (200 when ``ready()`` says so, else 503).

    ``port`` 0 picks a free port (``runner.addresses[0][1]``). Stop with ``runner.cleanup()``.
    """

    async def healthz(_: web.Request) -> web.Response:
        try:
            ok = await asyncio.wait_for(ready(), READY_TIMEOUT_S)
        except Exception as exc:  # a failing probe means "not ready", never a 500
            log.warning("readiness check failed: %s", exc)
            ok = False
        return web.json_response({"ready": bool(ok)}, status=200 if ok else 503)

    async def scrape(_: web.Request) -> web.Response:
        if before_scrape is not None:
            try:
                await asyncio.wait_for(before_scrape(), READY_TIMEOUT_S)
            except Exception as exc:  # stale gauges beat a failed scrape
                log.warning("could not refresh queue metrics: %s", exc)
        body = metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", scrape)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


@asynccontextmanager
async def health_endpoint(
    host: str,
    port: int,
    *,
    ready: Callable[[], Awaitable[bool]],
    storage: _Storage | None = None,
    metrics: Metrics = METRICS,
) -> AsyncIterator[web.AppRunner | None]:
    """``start_health_server`` for a process's lifetime; port 0 means "no endpoint" here, and
    a port already taken only costs a warning (metrics must never stop a bot or an engine).
    With ``storage``, the queue gauges are refreshed from Redis at each scrape."""
    if not port:
        yield None
        return
    refresh = (lambda: refresh_queue_metrics(storage, metrics)) if storage is not None else None
    try:
        runner = await start_health_server(host, port, ready=ready, metrics=metrics,
                                           before_scrape=refresh)
    except OSError as exc:  # e.g. engine and bots on one host, same port: serve anyway
        log.warning("no metrics/health endpoint on %s:%d (%s); set CLIPBOT_METRICS_PORT",
                    host, port, exc)
        yield None
        return
    log.info("metrics and health on http://%s:%d/metrics and /healthz", host, port)
    try:
        yield runner
    finally:
        await runner.cleanup()


def redis_ready(storage: object) -> Callable[[], Awaitable[bool]]:
    """A readiness probe that is true while Redis answers PING."""

    async def ping() -> bool:
        return bool(await storage.redis.ping())  # type: ignore[attr-defined]

    return ping
