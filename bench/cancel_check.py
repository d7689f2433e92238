"""What the engine's per-step cancel check costs the generation thread.

After every denoising step the worker's generation thread asks the event loop for one
``JobStore.cancel_requested`` read (an HMGET) and waits for the answer. This measures that
wait, done the same way (``run_coroutine_threadsafe`` from a worker thread), against a real
Redis, on a job record made by ``submit``. A denoising step of the full model takes seconds
on a GPU; the check should be well under a millisecond on a local Redis.

Usage: python -m bench.cancel_check [--samples 2000] [--redis URL]
Writes bench/results/cancel_check.json and prints the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
import uuid
from pathlib import Path

from storage import Accepted, JobRequest, QuotaLimits, Storage

RESULTS = Path(__file__).resolve().parent / "results" / "cancel_check.json"


async def measure(url: str, samples: int) -> dict[str, object]:
    prefix = f"bench-cancel-{uuid.uuid4().hex[:8]}"
    storage = await Storage.open(url, prefix)
    try:
        req = JobRequest(platform="cli", user_id="bench", chat_id="c", prompt="a kite", seed=1)
        res = await storage.jobs.submit(req, cost=1.0, limits=QuotaLimits(), idem_key="b")
        assert isinstance(res, Accepted)
        loop = asyncio.get_running_loop()

        def from_the_generation_thread() -> list[float]:
            spent = []
            for _ in range(samples):
                t0 = time.perf_counter()
                fut = asyncio.run_coroutine_threadsafe(
                    storage.jobs.cancel_requested(res.job_id), loop
                )
                fut.result(timeout=30)
                spent.append((time.perf_counter() - t0) * 1000)
            return spent

        ms = sorted(await asyncio.to_thread(from_the_generation_thread))
    finally:
        keys = [k async for k in storage.redis.scan_iter(match="{" + prefix + "}:*")]
        if keys:
            await storage.redis.delete(*keys)
        await storage.close()
    return {
        "samples": samples,
        "p50_ms": round(statistics.median(ms), 3),
        "p99_ms": round(ms[int(len(ms) * 0.99) - 1], 3),
        "max_ms": round(ms[-1], 3),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "redis": url.rsplit("@", 1)[-1],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--redis", default=os.environ.get("CLIPBOT_REDIS_URL",
                                                      "redis://127.0.0.1:6379/0"))
    args = ap.parse_args()
    out = asyncio.run(measure(args.redis, args.samples))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"per-step cancel check: p50 {out['p50_ms']} ms, p99 {out['p99_ms']} ms, "
          f"max {out['max_ms']} ms over {out['samples']} checks ({out['machine']})")


if __name__ == "__main__":
    main()
