"""The /metrics and /healthz endpoint, scraped over HTTP like Prometheus and a Docker
healthcheck would."""

from __future__ import annotations

from types import SimpleNamespace

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from clipbot.metrics import (
    STAGES,
    BusyClock,
    Metrics,
    health_endpoint,
    redis_ready,
    refresh_queue_metrics,
    start_health_server,
)
from storage import JobRequest, QuotaLimits, Storage
from storage.connection import connect
from storage.models import EngineInfo


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by (name, sorted labels)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, resp.headers["Content-Type"], await resp.text()


async def serve(metrics: Metrics, ready, before_scrape=None):
    runner = await start_health_server(
        "127.0.0.1", 0, ready=ready, metrics=metrics, before_scrape=before_scrape
    )
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def always() -> bool:
    return True


async def test_scraped_metrics_carry_what_was_observed() -> None:
    m = Metrics()
    m.observe_stage("queue_wait", 3.0)
    m.observe_stage("generate", 42.0)
    m.observe_stage("generate", 48.0)
    m.observe_stage("encode", 0.4)
    m.observe_stage("deliver", 1.5)
    m.gpu_used(42.0)
    m.gpu_used(48.0)
    m.refused("moderation", platform="telegram", rule="no gore")
    m.refused("moderation", platform="telegram", rule="no gore")
    m.refused("quota_clips", platform="discord")
    m.accepted("telegram")
    m.outcome("done")
    m.outcome("done")
    m.outcome("failed")
    runner, base = await serve(m, always)
    try:
        status, ctype, text = await get(base + "/metrics")
    finally:
        await runner.cleanup()
    assert status == 200
    assert ctype.startswith("text/plain")
    got = samples(text)
    assert got[("clipbot_job_stage_seconds_count", (("stage", "generate"),))] == 2
    assert got[("clipbot_job_stage_seconds_sum", (("stage", "generate"),))] == 90.0
    # 42 and 48 both fall in the (30, 60] bucket: 0 at le=30, 2 at le=60.
    assert got[("clipbot_job_stage_seconds_bucket", (("le", "30.0"), ("stage", "generate")))] == 0
    assert got[("clipbot_job_stage_seconds_bucket", (("le", "60.0"), ("stage", "generate")))] == 2
    for stage in STAGES:
        assert got[("clipbot_job_stage_seconds_count", (("stage", stage),))] == 1 + (
            stage == "generate"
        )
    assert got[("clipbot_gpu_seconds_total", ())] == 90.0
    key = (("platform", "telegram"), ("reason", "moderation"), ("rule", "no gore"))
    assert got[("clipbot_refusals_total", key)] == 2
    key = (("platform", "discord"), ("reason", "quota_clips"), ("rule", ""))
    assert got[("clipbot_refusals_total", key)] == 1
    assert got[("clipbot_jobs_submitted_total", (("platform", "telegram"),))] == 1
    assert got[("clipbot_jobs_total", (("outcome", "done"),))] == 2
    assert got[("clipbot_jobs_total", (("outcome", "failed"),))] == 1
    assert 0.0 <= got[("clipbot_engine_busy_ratio", ())] <= 1.0


async def test_unknown_stage_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        Metrics().observe_stage("upload", 1.0)


async def test_queue_gauges_follow_redis_at_scrape_time(storage: Storage) -> None:
    m = Metrics()
    runner, base = await serve(
        m, redis_ready(storage), before_scrape=lambda: refresh_queue_metrics(storage, m)
    )
    try:
        got = samples((await get(base + "/metrics"))[2])
        lane = (("lane", storage.jobs.lane),)
        assert got[("clipbot_queue_depth", lane)] == 0
        assert got[("clipbot_engines_live", ())] == 0
        for n in range(3):
            req = JobRequest(platform="telegram", user_id=f"u{n}", chat_id="c", prompt="a cat")
            await storage.jobs.submit(req, cost=1.0, limits=QuotaLimits(), idem_key=f"m{n}")
        await storage.engines.beat(EngineInfo("gpu-a", "wan", "cuda", False, False))
        got = samples((await get(base + "/metrics"))[2])
        assert got[("clipbot_queue_depth", lane)] == 3
        assert got[("clipbot_jobs_running", ())] == 0
        assert got[("clipbot_engines_live", ())] == 1
    finally:
        await runner.cleanup()


async def test_a_failing_refresh_still_serves_metrics() -> None:
    async def broken() -> None:
        raise ConnectionError("redis down")

    runner, base = await serve(Metrics(), always, before_scrape=broken)
    try:
        status, _, text = await get(base + "/metrics")
    finally:
        await runner.cleanup()
    assert status == 200
    assert "clipbot_gpu_seconds_total" in text


@pytest.mark.parametrize("answer, status", [(True, 200), (False, 503), ("raise", 503)])
async def test_healthz_says_ready_only_when_ready(answer: object, status: int) -> None:
    async def ready() -> bool:
        if answer == "raise":
            raise ConnectionError("redis down")
        return bool(answer)

    runner, base = await serve(Metrics(), ready)
    try:
        got, _, body = await get(base + "/healthz")
    finally:
        await runner.cleanup()
    assert got == status
    assert ('"ready": true' in body) == (status == 200)


async def test_healthz_follows_redis(storage: Storage, unused_tcp_port: int) -> None:
    nowhere = SimpleNamespace(redis=connect(f"redis://127.0.0.1:{unused_tcp_port}/0", retries=0))
    up = await serve(Metrics(), redis_ready(storage))
    down = await serve(Metrics(), redis_ready(nowhere))
    try:
        assert (await get(up[1] + "/healthz"))[0] == 200
        assert (await get(down[1] + "/healthz"))[0] == 503
    finally:
        await up[0].cleanup()
        await down[0].cleanup()
        await nowhere.redis.aclose()


@pytest.mark.parametrize(
    "events, now, window, expected",
    [
        ([], 100.0, 100.0, 0.0),
        ([("busy", 0.0), ("idle", 50.0)], 100.0, 100.0, 0.5),
        ([("busy", 0.0)], 100.0, 100.0, 1.0),  # still busy: counts up to now
        ([("busy", 0.0), ("idle", 50.0)], 200.0, 100.0, 0.0),  # fell out of the window
        ([("busy", 80.0), ("idle", 120.0), ("busy", 190.0)], 200.0, 100.0, 0.3),
        ([("busy", 10.0), ("idle", 15.0)], 20.0, 300.0, 0.25),  # young process: since start
    ],
)
def test_busy_ratio(events: list[tuple[str, float]], now: float, window: float,
                    expected: float) -> None:
    clock = BusyClock(window, now=0.0)
    for what, t in events:
        getattr(clock, what)(t)
    assert clock.ratio(now) == pytest.approx(expected)


async def test_requests_are_counted_by_what_the_service_answered() -> None:
    from bots.core.service import Refusal, Submitted

    m = Metrics()
    m.count_request(Submitted(job_id="j1", position=1, eta_s=60.0), platform="web")
    m.count_request(Submitted(job_id="j1", position=1, eta_s=60.0, duplicate=True),
                    platform="web")
    m.count_request(Refusal("moderation", {"rule": "no gore"}), platform="web")
    m.count_request(Refusal("quota_clips", {"limit": "20", "rule": "ignored"}), platform="web")
    got = samples(m.exposition().decode())
    assert got[("clipbot_jobs_submitted_total", (("platform", "web"),))] == 1
    base = (("platform", "web"),)
    assert got[("clipbot_refusals_total", (*base, ("reason", "moderation"),
                                           ("rule", "no gore")))] == 1
    assert got[("clipbot_refusals_total", (*base, ("reason", "quota_clips"), ("rule", "")))] == 1


async def test_health_endpoint_lives_with_the_process(storage: Storage,
                                                      unused_tcp_port: int) -> None:
    async with health_endpoint("127.0.0.1", 0, ready=always) as off:
        assert off is None
    m = Metrics()
    url = f"http://127.0.0.1:{unused_tcp_port}"
    async with health_endpoint("127.0.0.1", unused_tcp_port, ready=redis_ready(storage),
                               storage=storage, metrics=m) as runner:
        assert runner is not None
        assert (await get(url + "/healthz"))[0] == 200
        text = (await get(url + "/metrics"))[2]
        assert samples(text)[("clipbot_queue_depth", (("lane", storage.jobs.lane),))] == 0
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(url + "/healthz")


async def test_a_taken_port_costs_a_warning_not_the_process(unused_tcp_port: int,
                                                            caplog) -> None:
    async with health_endpoint("127.0.0.1", unused_tcp_port, ready=always) as first, \
            health_endpoint("127.0.0.1", unused_tcp_port, ready=always) as second:
        assert first is not None and second is None
    assert "CLIPBOT_METRICS_PORT" in caplog.text
