"""What the browser gets for a job: one JSON shape for acks, history and live updates. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bots.core import render
from bots.core.delivery import Progress
from bots.i18n import t
from storage import JobRecord, JobState

CAPTION_PROMPT = 200


@dataclass(frozen=True)
class JobUpdate:
    """A change worth showing: the job record plus what the record alone doesn't say."""

    job: JobRecord
    progress: Progress | None = None
    position: int = 0
    eta_s: float = 0.0


def job_view(update: JobUpdate, locale: str) -> dict[str, Any]:
    job, r = update.job, update.job.request
    view: dict[str, Any] = {
        "id": job.id,
        "state": job.state.value,
        "prompt": r.prompt,
        "image": r.has_image,
        "aspect": r.aspect,
        "seconds": r.seconds,
        "seed": r.seed,
        "percent": 0,
        "text": "",
        "final": job.state.final,
    }
    if job.state is JobState.QUEUED:
        view["text"] = render.queued(locale, max(1, update.position), update.eta_s)
        view["position"] = max(1, update.position)
    elif job.state is JobState.RUNNING:
        p = update.progress or Progress(job.id, "running", job.step, job.total_steps)
        if p.total or p.phase == "encoding":
            view["text"] = render.progress(locale, p)
            view["percent"] = 99 if p.phase == "encoding" else p.percent
        else:  # claimed, first step not reported yet
            view["text"] = t(locale, "state_running") + "…"
            view["percent"] = 1
    elif job.state is JobState.DONE:
        view.update(_clip(job, locale))
    else:
        view["text"] = render.failure(job)
    return view


def _clip(job: JobRecord, locale: str) -> dict[str, Any]:
    meta, r = job.meta, job.request
    # The page shows the preview-model notice as a banner, so the caption leaves it out.
    prompt = r.prompt if len(r.prompt) <= CAPTION_PROMPT else r.prompt[: CAPTION_PROMPT - 1] + "…"
    return {
        "percent": 100,
        "caption": t(locale, "caption", prompt=prompt, seconds=r.seconds, aspect=r.aspect,
                     seed=r.seed),
        "clip": f"/clips/{job.id}",
        "thumb": f"/clips/{job.id}/thumb",
        "download": f"/clips/{job.id}?download=1",
        "width": meta.width if meta else 0,
        "height": meta.height if meta else 0,
        "preview": bool(meta and meta.preview),
    }
