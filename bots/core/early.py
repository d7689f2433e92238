"""Refusals known before anything public appears.

Platforms that must answer at once and choose then between a public and a private answer
(Discord: a public "thinking…" or an ephemeral message) ask here first: the operator's
rules on the prompt, then the user's and the server's quota. These are reads
only: the atomic submit still decides (a rare race between this look and the submit ends
in the same refusal, shown after the fact), so nothing here can admit what the submit
would refuse.
"""

from __future__ import annotations

from bots.core.service import ClipService, Refusal, Who
from clipbot.metrics import METRICS
from storage import SharedPool


async def early_refusal(service: ClipService, who: Who, *, pool: SharedPool | None = None,
                        again_of: str | None = None, prompt: str | None = None
                        ) -> Refusal | None:
    """The refusal a request by ``who`` would surely get now (a Retry/Vary of the job
    ``again_of``, or the parsed ``prompt``, when given), or None when it may go ahead.
    Counted like the submit's."""
    refusal = None
    if prompt is not None:
        rule = service.config.rules.check(prompt, locale=who.locale, chat=who.chat_id,
                                          scopes=who.scopes)
        refusal = Refusal("moderation", {"rule": rule}) if rule is not None else None
    refusal = refusal or await _refusal(service, who, pool, again_of)
    if refusal is not None:
        METRICS.count_request(refusal, platform=who.platform)
    return refusal


async def _refusal(service: ClipService, who: Who, pool: SharedPool | None,
                   again_of: str | None) -> Refusal | None:
    storage = service.storage
    if again_of is not None:
        job = await storage.jobs.get(again_of)
        if job is None:
            return Refusal("not_found")
        if job.user != who.user:
            return Refusal("again_not_yours")
    view = await service.quota(who)
    limits = view.limits
    if view.banned:
        return Refusal("banned")
    if view.inflight >= limits.max_inflight:
        return Refusal("inflight", {"limit": limits.max_inflight, "reset_s": view.reset_in_s})
    if view.clips_left <= 0:
        return Refusal("quota_clips", {"limit": limits.daily_clips, "reset_s": view.reset_in_s})
    if view.gpu_s_left <= 0:
        return Refusal("quota_gpu", {"limit": f"{limits.daily_gpu_s:g}",
                                     "reset_s": view.reset_in_s})
    if pool is not None and pool.daily_clips > 0:
        used, reset_s = await storage.guilds.pool_used(pool.name)
        if used >= pool.daily_clips:
            return Refusal("pool_clips", {"limit": pool.daily_clips, "reset_s": reset_s})
    return None
