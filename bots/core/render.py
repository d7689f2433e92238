"""Turn core results into localised text. Every adapter renders through these."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bots.core.delivery import Progress
from bots.core.service import Refusal, Submitted
from bots.i18n import duration, t
from storage import JobRecord, JobState, QuotaView

MYDATA_JOBS = 10  # jobs listed in the /mydata text; the JSON file has every one
MYDATA_PROMPT = 80  # characters of each prompt shown in the text
MYDATA_FILENAME = "mydata.json"
MYDATA_CHARS = 3500  # under Telegram's and WhatsApp's 4096 characters per message
_STATES = frozenset(s.value for s in JobState)
_LIMITS = ("daily_clips", "daily_gpu_s", "max_inflight")


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


@dataclass(frozen=True)
class DataText:
    """The /mydata answer: ``text`` for the chat; ``left_out`` jobs it does not list and
    ``shortened`` prompts it cut, both of which the JSON file holds in full."""

    text: str
    left_out: int = 0
    shortened: bool = False

    @property
    def needs_file(self) -> bool:
        return self.left_out > 0 or self.shortened


def mydata(locale: str, data: Mapping[str, Any], *, max_jobs: int = MYDATA_JOBS,
           max_chars: int = MYDATA_CHARS) -> DataText:
    """A short, readable summary of ``ClipService.export``: only what the export holds.
    Lists at most ``max_jobs`` jobs, fewer when the text would pass ``max_chars``."""
    out = _mydata(locale, data, max_jobs)
    while len(out.text) > max_chars and max_jobs > 0:
        max_jobs -= 1
        out = _mydata(locale, data, max_jobs)
    return out


def _mydata(locale: str, data: Mapping[str, Any], max_jobs: int) -> DataText:
    lines = [t(locale, "mydata_title", user=data.get("user", ""))]
    jobs = list(data.get("jobs") or [])
    shortened = False
    if jobs:
        lines.append(t(locale, "mydata_jobs", count=len(jobs)))
        for job in jobs[:max_jobs]:
            prompt = str(job.get("prompt", ""))
            shortened = shortened or len(prompt) > MYDATA_PROMPT
            state = str(job.get("state", ""))
            lines.append(t(
                locale, "mydata_job",
                state=t(locale, f"state_{state}") if state in _STATES else state,
                created=_utc_minute(job.get("created_at_ms")),
                prompt=_short(prompt, MYDATA_PROMPT),
            ))
    else:
        lines.append(t(locale, "mydata_no_jobs"))
    left_out = max(0, len(jobs) - max_jobs)
    if left_out:
        lines.append(t(locale, "mydata_more", count=left_out))
    lines.append(_usage(locale, data.get("quota_today") or {}))
    lines += _grants(locale, data.get("limits_override") or {})
    retention = data.get("retention") or {}
    if "clip_ttl_s" in retention and "record_ttl_s" in retention:
        lines.append(t(locale, "mydata_retention",
                       clips=_span(locale, retention["clip_ttl_s"]),
                       records=_span(locale, retention["record_ttl_s"])))
    return DataText("\n".join(lines), left_out, shortened)


def mydata_json(data: Mapping[str, Any]) -> bytes:
    """The whole export as a readable UTF-8 JSON file."""
    return json.dumps(data, ensure_ascii=False, indent=2).encode() + b"\n"


def _usage(locale: str, quota: Mapping[str, Any]) -> str:
    if not quota:
        return t(locale, "mydata_no_usage")
    day = _number(quota.get("day"))
    return t(locale, "mydata_usage",
             day=datetime.fromtimestamp(day * 86400, UTC).date().isoformat() if day else "?",
             clips=int(_number(quota.get("clips"))),
             gpu=f"{_number(quota.get('gpu_s')):.0f}")


def _grants(locale: str, grant: Mapping[str, Any]) -> list[str]:
    limits = [t(locale, f"mydata_limit_{name}", n=f"{_number(grant[name]):g}")
              for name in _LIMITS if name in grant]
    limits += [f"{name}={value}" for name, value in sorted(grant.items())
               if name not in _LIMITS and name != "banned"]
    lines = [t(locale, "mydata_limits", limits=", ".join(limits))] if limits else []
    if str(grant.get("banned", "")) == "1":
        lines.append(t(locale, "mydata_banned"))
    return lines


def _utc_minute(ms: Any) -> str:
    when = datetime.fromtimestamp(_number(ms) / 1000, UTC)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _span(locale: str, seconds: Any) -> str:
    s = int(_number(seconds))
    if s >= 2 * 86400 and s % 86400 == 0:
        return t(locale, "unit_days", n=s // 86400)
    return duration(locale, s)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
