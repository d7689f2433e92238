"""Values that cross process boundaries through Redis (bots <-> engines)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JobState(StrEnum):
    QUEUED = "queued"  # reserved and waiting for an engine
    RUNNING = "running"  # an engine holds it (its heartbeat proves it is alive)
    DONE = "done"  # clip stored; the bot still has to deliver it
    FAILED = "failed"  # refunded; error says why
    CANCELLED = "cancelled"  # by the user; refunded

    @property
    def final(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


class JobRequest(BaseModel):
    """What a user asked for, already parsed and validated by the conversation core."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: str
    user_id: str
    chat_id: str
    locale: str = "en"
    prompt: str
    negative_prompt: str | None = None
    aspect: str = "16:9"
    seconds: int = 2
    seed: int = 0
    steps: int | None = None
    fast: bool = False
    has_image: bool = False
    # Adapter context needed to deliver later (message ids to edit, reply target...).
    reply: dict[str, Any] = Field(default_factory=dict)

    @property
    def user(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class QuotaLimits:
    daily_gpu_s: float = 600.0
    daily_clips: int = 20
    max_inflight: int = 1
    max_queue: int = 50


@dataclass(frozen=True)
class SharedPool:
    """A daily clip count shared by everyone in one place (a Discord server), charged and
    refunded together with each user's own quota. ``name`` is that place, e.g.
    ``discord:<guild id>``."""

    name: str
    daily_clips: int


@dataclass(frozen=True)
class GuildSettings:
    """What the managers of one community (a Discord server) chose.

    ``channels`` empty means requests are welcome in every channel; ``daily_clips`` 0
    means no shared pool (each member still has their own quota)."""

    channels: frozenset[str] = frozenset()
    daily_clips: int = 0


@dataclass(frozen=True)
class Accepted:
    job_id: str
    position: int  # 1 = next to run; 0 = already running or finished
    duplicate: bool = False


@dataclass(frozen=True)
class Refused:
    reason: str  # queue_full | inflight | quota_clips | quota_gpu | pool_clips | banned
    limit: str | None = None
    reset_in_s: int | None = None


@dataclass(frozen=True)
class ClipMeta:
    width: int
    height: int
    frames: int
    fps: int
    duration_s: float
    size_bytes: int
    model: str
    preview: bool

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, raw: str | None) -> ClipMeta | None:
        return cls(**json.loads(raw)) if raw else None


@dataclass(frozen=True)
class JobRecord:
    id: str
    user: str
    state: JobState
    request: JobRequest
    attempts: int = 0
    engine: str = ""
    step: int = 0
    total_steps: int = 0
    clip_id: str = ""
    meta: ClipMeta | None = None
    error: str = ""
    cost: float = 0.0
    created_at_ms: int = 0
    started_at_ms: int = 0
    finished_at_ms: int = 0
    delivered: bool = False
    cancel_requested: bool = False

    @classmethod
    def from_hash(cls, h: dict[str, str]) -> JobRecord:
        return cls(
            id=h["id"],
            user=h["user"],
            state=JobState(h["state"]),
            request=JobRequest.model_validate_json(h["request"]),
            attempts=int(h.get("attempts", 0)),
            engine=h.get("engine", ""),
            step=int(h.get("step", 0)),
            total_steps=int(h.get("total_steps", 0)),
            clip_id=h.get("clip_id", ""),
            meta=ClipMeta.from_json(h.get("meta")),
            error=h.get("error", ""),
            cost=float(h.get("cost", 0)),
            created_at_ms=int(h.get("created_at", 0)),
            started_at_ms=int(h.get("started_at", 0)),
            finished_at_ms=int(h.get("finished_at", 0)),
            delivered="delivered_at" in h,
            cancel_requested=h.get("cancel") == "1",
        )


@dataclass(frozen=True)
class Claim:
    """A job an engine now holds. ``attempt`` is the fencing token for every later write."""

    job: JobRecord
    attempt: int


@dataclass(frozen=True)
class ResultEvent:
    entry_id: str
    job_id: str
    state: JobState
    error: str = ""


@dataclass(frozen=True)
class QuotaView:
    used_gpu_s: float
    used_clips: int
    limits: QuotaLimits
    reset_in_s: int
    inflight: int
    banned: bool = False

    @property
    def clips_left(self) -> int:
        return max(0, self.limits.daily_clips - self.used_clips)

    @property
    def gpu_s_left(self) -> float:
        return max(0.0, self.limits.daily_gpu_s - self.used_gpu_s)


@dataclass(frozen=True)
class JobStats:
    """Totals of the deployment (the ``stats`` hash that finish.lua keeps)."""

    done: int = 0
    failed: int = 0
    cancelled: int = 0
    gpu_s: float = 0.0
    avg_job_s: float | None = None  # moving average; None until a first job is done

    @classmethod
    def from_hash(cls, h: Mapping[str, str]) -> JobStats:
        avg = h.get("avg_job_s")
        return cls(
            done=int(h.get("done", 0)), failed=int(h.get("failed", 0)),
            cancelled=int(h.get("cancelled", 0)), gpu_s=float(h.get("gpu_s", 0.0)),
            avg_job_s=None if avg is None else float(avg),
        )


@dataclass(frozen=True)
class EngineInfo:
    engine_id: str
    model: str
    device: str
    preview: bool
    supports_image: bool
    busy_job: str = ""
    alive: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
