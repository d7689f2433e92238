"""The conversation core: one place that turns a chat message into a queued job.

Adapters call it and render what it returns through ``bots.i18n``; nothing here knows a
chat platform.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any, cast

from bots.core.images import CHECKER, ImageChecker, too_big
from bots.core.images import MAX_BYTES as MAX_IMAGE_BYTES
from bots.core.moderation import Rules
from bots.core.options import InputError, VideoOptions, clean_prompt, parse_request
from bots.core.pricing import eta_seconds, price_gpu_seconds
from clipbot.contract import priced_shape
from clipbot.metrics import METRICS
from storage import (
    Accepted,
    CancelOutcome,
    JobRecord,
    JobRequest,
    JobState,
    QuotaLimits,
    QuotaView,
    SharedPool,
    Storage,
    privacy,
)

DEFAULT_AVG_JOB_S = 60.0
# What the user is told for each cancel outcome (catalog keys).
CANCEL_KEYS = {
    CancelOutcome.CANCELLED: "cancelled",
    CancelOutcome.CANCELLING: "cancelling",
    CancelOutcome.TOO_LATE: "cancel_too_late",
    CancelOutcome.NOTHING: "cancel_nothing",
}
DEFAULT_IMAGE_PROMPT = "gentle natural motion, cinematic"
VARIATIONS = (
    "different camera angle",
    "warmer light",
    "slow motion",
    "wider shot",
    "close-up",
)


def admin_scope(bare_id: str) -> str | None:
    """The one platform a bare admin id (no ``platform:``) names: a Discord snowflake has
    17-20 digits, a Telegram user id fewer. Never WhatsApp (a phone number anyone can own)
    nor the web chat (ids made by the server)."""
    if not bare_id.isascii() or not bare_id.isdigit():
        return None
    return "discord" if len(bare_id) >= 17 else "telegram"


@dataclass(frozen=True)
class Who:
    """The person asking, as the adapter knows them. ``scopes`` are wider places the chat
    belongs to (a Discord channel's server id); moderation rules scoped to them apply."""

    platform: str
    user_id: str
    chat_id: str
    locale: str = "en"
    scopes: tuple[str, ...] = ()

    @property
    def user(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class Submitted:
    job_id: str
    position: int
    eta_s: float
    duplicate: bool = False
    engines_online: int = 1


@dataclass(frozen=True)
class Refusal:
    """A polite refusal: ``key`` is a catalog message, ``params`` fill it in."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CoreConfig:
    limits: QuotaLimits = field(default_factory=QuotaLimits)
    gpu_seconds_per_full_clip: float = 90.0
    full_steps: int = 40
    admins: frozenset[str] = frozenset()
    rules: Rules = field(default_factory=Rules)


class ClipService:
    def __init__(self, storage: Storage, config: CoreConfig | None = None,
                 images: ImageChecker = CHECKER) -> None:
        self.storage = storage
        self.config = config or CoreConfig()
        self.images = images

    def is_admin(self, who: Who) -> bool:
        if who.user in self.config.admins:
            return True
        return who.user_id in self.config.admins and admin_scope(who.user_id) == who.platform

    async def image_refusal(self, who: Who, size: int | None) -> Refusal | None:
        """The cheap checks before an adapter downloads a user's photo: not banned, quota
        left, a live engine can animate images, and the size the platform declares is under
        the limit. None means go ahead (``request_video`` checks the rest)."""
        # Only the ban here: quota and in-flight limits would refuse a re-delivered update
        # that must get its duplicate's answer (request_video knows the idempotency key).
        refusal = await self._account_refusal(who, ban_only=True)
        if refusal is None and not any(
            e.supports_image for e in await self.storage.engines.live()
        ):
            refusal = Refusal("image_unsupported")
        elif refusal is None and size is not None and size > MAX_IMAGE_BYTES:
            exc = too_big()
            refusal = Refusal(exc.key, exc.params)
        if refusal is not None:
            METRICS.refused(refusal.key, platform=who.platform)
        return refusal

    async def request_video(
        self,
        who: Who,
        text: str,
        *,
        idem_key: str,
        reply: dict[str, Any] | None = None,
        defaults: VideoOptions | None = None,
        image: bytes | None = None,
        pool: SharedPool | None = None,
    ) -> Submitted | Refusal:
        """Parse, validate, moderate, price, then reserve+enqueue in one atomic step.

        With ``image`` (a photo + caption) the job is image-to-video, refused politely when
        no live engine's model can animate images. With ``pool`` the job also takes one
        clip of that shared daily pool (refused as ``pool_clips`` when it is used up)."""
        if image is not None and not text.strip():
            text = DEFAULT_IMAGE_PROMPT  # a photo sent without a caption
        try:
            parsed = parse_request(text, defaults)
        except InputError as exc:
            return self._refused(who, Refusal(exc.key, exc.params))
        refusal = self._moderation(who, parsed.prompt)
        if refusal is None and image is not None:
            refusal = await self._image_refusal(who, image, idem_key)
        if refusal is not None:
            return refusal
        res = await self.submit(
            who, parsed.prompt, parsed.options, idem_key, reply or {}, image=image, pool=pool
        )
        METRICS.count_request(res, platform=who.platform)
        return res

    def _moderation(self, who: Who, prompt: str) -> Refusal | None:
        rule = self.config.rules.check(
            prompt, locale=who.locale, chat=who.chat_id, scopes=who.scopes
        )
        if rule is None:
            return None
        METRICS.refused("moderation", platform=who.platform, rule=rule)
        return Refusal("moderation", {"rule": rule})

    async def _image_refusal(self, who: Who, image: bytes, idem_key: str) -> Refusal | None:
        """Cheapest first: a banned user or one without quota costs no decoding; then the
        engines, then the header; the full decode runs off the event loop. A re-delivered
        update (its idempotency key is known) skips the limits: it gets its first answer."""
        again = await self.storage.redis.exists(self.storage.keys.idem(idem_key))
        refusal = await self._account_refusal(who, ban_only=bool(again))
        if refusal is None and not any(
            e.supports_image for e in await self.storage.engines.live()
        ):
            refusal = Refusal("image_unsupported")
        if refusal is None:
            try:
                await self.images.check(image)
            except InputError as exc:
                refusal = Refusal(exc.key, exc.params)
        return self._refused(who, refusal) if refusal is not None else None

    async def _account_refusal(self, who: Who, *, ban_only: bool = False) -> Refusal | None:
        """Ban, in-flight and daily-clip limits as they stand now (the submit script decides
        atomically later; this only spares work for a request that cannot pass)."""
        q = await self.storage.accounts.quota(who.user, self.config.limits)
        if q.banned:
            return Refusal("banned", {"limit": "", "reset_s": 0})
        if ban_only:
            return None
        if q.inflight >= q.limits.max_inflight:
            return Refusal("inflight", {"limit": q.limits.max_inflight, "reset_s": 0})
        if q.used_clips + 1 > q.limits.daily_clips:
            return Refusal("quota_clips", {"limit": q.limits.daily_clips,
                                           "reset_s": q.reset_in_s})
        return None

    def _refused(self, who: Who, refusal: Refusal) -> Refusal:
        METRICS.refused(refusal.key, platform=who.platform)
        return refusal

    async def submit(
        self,
        who: Who,
        prompt: str,
        opts: VideoOptions,
        idem_key: str,
        reply: dict[str, Any],
        *,
        image: bytes | None = None,
        pool: SharedPool | None = None,
    ) -> Submitted | Refusal:
        seed = opts.seed if opts.seed is not None else random.randrange(2**31)
        request = JobRequest(
            platform=who.platform, user_id=who.user_id, chat_id=who.chat_id,
            locale=who.locale, prompt=prompt, negative_prompt=opts.negative,
            aspect=opts.aspect, seconds=opts.seconds, seed=seed, steps=opts.steps,
            fast=opts.fast, reply=reply, has_image=image is not None,
        )
        bucket = priced_shape(opts.aspect, opts.seconds)
        cost = price_gpu_seconds(
            bucket.width, bucket.height, bucket.num_frames, opts.steps or self.config.full_steps,
            per_reference_clip=self.config.gpu_seconds_per_full_clip,
        )
        limits = await self.storage.accounts.limits_for(who.user, self.config.limits)
        res = await self.storage.jobs.submit(
            request, cost=cost, limits=limits, idem_key=idem_key, image=image, pool=pool
        )
        if not isinstance(res, Accepted):
            params: dict[str, Any] = {"limit": res.limit or "", "reset_s": res.reset_in_s or 0}
            if res.reason == "queue_full":
                params["eta_s"] = await self.eta(self.config.limits.max_queue)
            return Refusal(res.reason, params)
        engines = len(await self.storage.engines.live())
        return Submitted(
            job_id=res.job_id,
            position=res.position,
            eta_s=await self.eta(res.position),
            duplicate=res.duplicate,
            engines_online=engines,
        )

    async def eta(self, position: int) -> float:
        avg = (await self.storage.jobs.stats()).avg_job_s
        engines = len(await self.storage.engines.live())
        running = await self.storage.jobs.running_count()
        return eta_seconds(position, running, engines, DEFAULT_AVG_JOB_S if avg is None else avg)

    async def again(
        self,
        who: Who,
        job_id: str,
        *,
        vary: bool,
        idem_key: str,
        reply: dict[str, Any],
        pool: SharedPool | None = None,
    ) -> Submitted | Refusal:
        """Retry (same prompt, new seed) or Vary (new seed plus a small change of shot)."""
        job = await self.storage.jobs.get(job_id)
        if job is None:
            return Refusal("not_found")
        if job.user != who.user:  # someone else's clip, pressed in a group
            return Refusal("again_not_yours")
        r = job.request
        prompt = r.prompt
        if vary:
            prompt = f"{prompt}, {random.choice(VARIATIONS)}"
        # The rules may have changed since the first job, and Vary makes the prompt longer:
        # judge it like a newly typed one.
        try:
            prompt = clean_prompt(prompt)
        except InputError as exc:
            return self._refused(who, Refusal(exc.key, exc.params))
        if (refusal := self._moderation(who, prompt)) is not None:
            return refusal
        opts = VideoOptions(
            aspect=r.aspect, seconds=r.seconds, seed=None, steps=r.steps,
            negative=r.negative_prompt, fast=r.fast,
        )
        image = await self.storage.image(job.id) if r.has_image else None
        return await self.submit(
            who, prompt, replace(opts), idem_key, reply, image=image, pool=pool
        )

    async def cancel(self, who: Who, job_id: str | None = None) -> str:
        """Cancel one job (or the newest one not yet on its way to the user); returns a
        catalog key: ``cancelled`` (refunded), ``cancelling`` (its engine stops at its next
        check, then refunds), ``cancel_too_late`` (the clip is done and being sent) or
        ``cancel_nothing``."""
        if job_id is None:
            job_id = await self._newest_cancellable(who)
            if job_id is None:
                return "cancel_nothing"
        outcome = await self.storage.jobs.cancel(job_id, who.user, clips=self.storage.clips)
        return CANCEL_KEYS[outcome]

    async def _newest_cancellable(self, who: Who) -> str | None:
        active = cast("set[str]", await self.storage.redis.smembers(
            self.storage.keys.active(who.user)))
        jobs = [j for j in [await self.storage.jobs.get(i) for i in active] if j]
        if not jobs:
            # Nothing in flight: the newest clip may be made but not yet sent.
            jobs = [j for j in await self.storage.jobs.jobs_of(who.user, 1)
                    if j.state is JobState.DONE and not j.delivered]
        return max(jobs, key=lambda j: j.created_at_ms).id if jobs else None

    async def quota(self, who: Who) -> QuotaView:
        return await self.storage.accounts.quota(who.user, self.config.limits)

    async def my_jobs(self, who: Who, limit: int = 5) -> list[JobRecord]:
        return await self.storage.jobs.jobs_of(who.user, limit)

    async def forget(self, who: Who) -> int:
        """Delete the user's jobs, clips and idempotency keys now (``/forget``). A clip being
        generated stops at its engine's next check and leaves nothing behind; the user may
        ask for a new clip straight away."""
        return await privacy.forget(self.storage.jobs, self.storage.clips, who.user)

    async def export(self, who: Who) -> dict[str, Any]:
        """What is stored about the user (``/mydata``), plus how long this deployment keeps
        clips and job records (its configured TTLs), so the answer can say so."""
        data = await privacy.export(self.storage.jobs, who.user)
        retention = {"clip_ttl_s": getattr(self.storage.clips, "ttl_s", None),
                     "record_ttl_s": self.storage.jobs.record_ttl_s}
        data["retention"] = {k: v for k, v in retention.items() if v is not None}
        return data
