"""What a job costs, in GPU-seconds, and how long the queue will take. Pure."""

from __future__ import annotations

import math

# Work of one full-size reference clip: Wan 2.1 480p, 81 frames, 50 steps.
REFERENCE_WORK = 832 * 480 * 81 * 50


def price_gpu_seconds(
    width: int, height: int, frames: int, steps: int, *, per_reference_clip: float
) -> float:
    """Cost scales with pixels x frames x steps; rounded up to 0.01 s so it is never 0."""
    work = width * height * frames * steps
    return max(0.01, math.ceil(per_reference_clip * work / REFERENCE_WORK * 100) / 100)


def eta_seconds(position: int, running: int, engines: int, avg_job_s: float) -> float:
    """Seconds until a job at queue ``position`` (1 = next) is finished.

    Jobs ahead (queued and running) are shared among the live engines; a running job is
    counted as half done on average.
    """
    lanes = max(1, engines)
    ahead = max(0, position - 1) + 0.5 * running
    return avg_job_s * (ahead / lanes + 1)
