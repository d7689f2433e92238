"""How long a job spends outside the pipeline call, with the preview engine.

Runs a real engine worker (preview model, 1 step, smallest bucket) and a bot-side result
reader against Redis, one job at a time, and splits each job's life into:

  submit   reserve + enqueue (one Lua call), as the bot sees it
  pickup   enqueue -> engine claim (Redis server time at both ends)
  encode   MP4 + thumbnail encode of the generated frames (measured separately)
  store    the rest of claim -> finish minus the pipeline call and encode: clip upload,
           progress writes, the finish script
  result   finish -> the bot's consumer group read returns the event

Usage: .venv/bin/python -m bench.overhead [--jobs 200] [--redis URL]   (from the repo root;
``python bench/overhead.py`` works too)
Writes bench/results/overhead.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and bench/engine.py would
# shadow the ``engine`` package: put the repository root there instead.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import json
import platform
import statistics
import tempfile
import time
import uuid

from clipbot.media import encode_mp4, thumbnail_jpeg
from engine.pipeline import VideoGenerator
from engine.preview import ensure_preview_model
from engine.worker import Worker, WorkerConfig
from storage import Accepted, JobRequest, QuotaLimits, ResultReader, Storage

HERE = Path(__file__).parent


class TimedGenerator:
    """Delegates to the real generator and records each pipeline call's duration."""

    def __init__(self, inner: VideoGenerator) -> None:
        self.inner = inner
        self.model_name, self.device = inner.model_name, inner.device
        self.supports_image, self.is_preview = inner.supports_image, inner.is_preview
        self.calls: list[float] = []
        self.frames = None

    def generate(self, spec, on_step=None, should_cancel=None):
        t = time.perf_counter()
        out = self.inner.generate(spec, on_step, should_cancel)
        self.calls.append(time.perf_counter() - t)
        self.frames = out
        return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {"p50_ms": round(pct(ms, 50), 3), "p99_ms": round(pct(ms, 99), 3),
            "mean_ms": round(statistics.fmean(ms), 3), "max_ms": round(max(ms), 3)}


async def run(jobs: int, redis_url: str) -> dict[str, object]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    limits = QuotaLimits(daily_gpu_s=1e9, daily_clips=10**9, max_inflight=10, max_queue=10**6)
    with tempfile.TemporaryDirectory() as tmp:
        gen = TimedGenerator(VideoGenerator.load(str(ensure_preview_model(Path(tmp))),
                                                 device="cpu"))
        storage = await Storage.open(redis_url, prefix)
        try:
            return await _measure(storage, gen, jobs, limits)
        finally:
            keys = [k async for k in storage.redis.scan_iter(match=storage.keys.pattern)]
            if keys:
                await storage.redis.delete(*keys)
            await storage.close()


async def _measure(storage: Storage, gen: TimedGenerator, jobs: int,
                   limits: QuotaLimits) -> dict[str, object]:
    worker = Worker(storage, gen, WorkerConfig(engine_id="bench", profile="preview",
                                               default_steps=1, progress_interval_s=0.5))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    reader = ResultReader(storage.redis, storage.keys, "bench", "bench-bot")
    await reader.ensure_group()
    rows: dict[str, list[float]] = {k: [] for k in
                                    ("submit", "pickup", "encode", "store", "result", "total")}
    for i in range(jobs + 5):  # the first 5 warm caches and are dropped
        req = JobRequest(platform="bench", user_id=f"u{i % 50}", chat_id="c",
                         prompt="a red kite over the sea", seed=i, aspect="1:1", seconds=1)
        t0 = time.perf_counter()
        res = await storage.jobs.submit(req, cost=0.01, limits=limits, idem_key=f"b{i}")
        t_submit = time.perf_counter() - t0
        assert isinstance(res, Accepted)
        events = []
        while not events:
            events = await reader.read(block_ms=10_000)
        t_received = await _server_ms(storage)
        job = await storage.jobs.get(res.job_id)
        assert job is not None and job.state.value == "done", job
        await storage.jobs.deliver(job.id, "bench", events[0].entry_id)
        frames = gen.frames
        te = time.perf_counter()
        encode_mp4(frames, 16)
        thumbnail_jpeg(frames[len(frames) // 2])
        t_encode = time.perf_counter() - te
        held = (job.finished_at_ms - job.started_at_ms) / 1000
        if i < 5:
            continue
        rows["submit"].append(t_submit)
        rows["pickup"].append((job.started_at_ms - job.created_at_ms) / 1000)
        rows["encode"].append(t_encode)
        rows["store"].append(max(0.0, held - gen.calls[-1] - t_encode))
        rows["result"].append(max(0.0, (t_received - job.finished_at_ms) / 1000))
        rows["total"].append(t_submit + rows["pickup"][-1] + rows["store"][-1]
                             + rows["result"][-1])
    stop.set()
    await task
    out = {name: summary(vals) for name, vals in rows.items()}
    out["pipeline_call"] = summary(gen.calls[5:])
    return out


async def _server_ms(storage: Storage) -> int:
    secs, micros = await storage.redis.time()
    return secs * 1000 + micros // 1000


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "overhead.json")
    args = ap.parse_args()
    stats = asyncio.run(run(args.jobs, args.redis))
    result = {
        "benchmark": "overhead", "jobs": args.jobs,
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                    "cpu_count": __import__("os").cpu_count()},
        "note": "total = submit + pickup + store + result (excludes the pipeline call and "
                "the MP4 encode, which is listed separately)",
        "stages": stats,
        "targets": {"total_p99_ms": 50, "pickup_p99_ms": 10},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"{'stage':<14}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name, s in stats.items():
        print(f"{name:<14}{s['p50_ms']:>10.2f}{s['p99_ms']:>10.2f}{s['max_ms']:>10.2f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
