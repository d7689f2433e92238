"""Turn core results into localised text. Every adapter renders through these."""

from __future__ import annotations

from bots.core.delivery import Progress
from bots.core.service import Refusal, Submitted
from bots.i18n import duration, t
from storage import JobRecord, QuotaView


def ack(locale: str, res: Submitted) -> str:
    if res.duplicate:
        return t(locale, "ack_duplicate")
    if not res.engines_online:
        return t(locale, "ack_no_engine")
    return t(locale, "ack_queued", position=res.position, eta=duration(locale, res.eta_s))


def refusal(locale: str, res: Refusal) -> str:
    p = dict(res.params)
    if "reset_s" in p:
        p["reset"] = duration(locale, p["reset_s"])
    if "eta_s" in p:
        p["eta"] = duration(locale, p["eta_s"])
    return t(locale, res.key, **p)


def progress(locale: str, p: Progress) -> str:
    if p.phase == "encoding":
        return t(locale, "progress_encoding")
    return t(locale, "progress_running", percent=p.percent, step=p.step, total=p.total)


def queued(locale: str, position: int, eta_s: float) -> str:
    return t(locale, "progress_queued", position=position, eta=duration(locale, eta_s))


def caption(job: JobRecord) -> str:
    r = job.request
    text = t(r.locale, "caption", prompt=_short(r.prompt, 200), seconds=r.seconds,
             aspect=r.aspect, seed=r.seed)
    if job.meta is not None and job.meta.preview:
        text += "\n" + t(r.locale, "preview_notice")
    return text


def failure(job: JobRecord) -> str:
    locale = job.request.locale
    if job.state.value == "cancelled":
        return t(locale, "cancelled")
    key = f"error_{job.error}" if job.error in ("poison", "oom", "model") else "error_generic"
    return t(locale, "failed", reason=t(locale, key))


def quota(locale: str, view: QuotaView) -> str:
    return t(
        locale, "quota",
        clips_left=view.clips_left, clips=view.limits.daily_clips,
        gpu_left=f"{view.gpu_s_left:.0f}", gpu=f"{view.limits.daily_gpu_s:.0f}",
        reset=duration(locale, view.reset_in_s),
    )


def status(locale: str, jobs: list[JobRecord]) -> str:
    if not jobs:
        return t(locale, "status_none")
    return "\n".join(
        t(locale, "status_line", state=t(locale, f"state_{j.state.value}"),
          prompt=_short(j.request.prompt, 60))
        for j in jobs
    )


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
