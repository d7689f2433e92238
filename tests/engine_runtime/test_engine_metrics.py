"""A real engine process exposes /healthz and Prometheus /metrics that reflect its work."""

from __future__ import annotations

import asyncio
import signal
import socket

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from storage import Accepted, JobRequest, QuotaLimits, Storage
from tests.engine_runtime.procs import engine_env, start_engine

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


async def test_engine_metrics_and_health(
    storage: Storage, redis_url: str, prefix: str, preview_model_dir
) -> None:
    port = free_port()
    env = engine_env(redis_url, prefix, preview_model_dir, CLIPBOT_METRICS_PORT=str(port))
    proc = await start_engine(env)
    try:
        req = JobRequest(platform="cli", user_id="u", chat_id="c", prompt="kite", seed=1,
                         aspect="1:1", seconds=1)
        limits = QuotaLimits(daily_gpu_s=100, daily_clips=5, max_inflight=5, max_queue=10)
        res = await storage.jobs.submit(req, cost=1.0, limits=limits, idem_key="m1")
        assert isinstance(res, Accepted)
        async with aiohttp.ClientSession() as http:
            async with asyncio.timeout(60):
                while True:
                    async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                        got = samples(await resp.text())
                    if got.get(("clipbot_jobs_total", (("outcome", "done"),))) == 1.0:
                        break
                    await asyncio.sleep(0.2)
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
        assert got[("clipbot_job_stage_seconds_count", (("stage", "generate"),))] == 1.0
        assert got[("clipbot_job_stage_seconds_count", (("stage", "encode"),))] == 1.0
        assert got[("clipbot_gpu_seconds_total", ())] > 0
        assert got[("clipbot_engines_live", ())] == 1.0
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)
