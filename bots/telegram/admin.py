"""Operator commands (/grant, /ban, /stats); callers check ``is_admin`` first."""

from __future__ import annotations

from bots.core.service import ClipService
from bots.i18n import t
from bots.telegram.parse import parse_ban, parse_grant


async def run(service: ClipService, locale: str, name: str, args: list[str]) -> str:
    storage = service.storage
    if name == "grant":
        grant = parse_grant(args)
        if grant is None:
            return t(locale, "grant_usage")
        await storage.accounts.grant(grant.user, daily_clips=grant.daily_clips)
        return t(locale, "admin_done")
    if name == "ban":
        ban = parse_ban(args)
        if ban is None:
            return t(locale, "ban_usage")
        await storage.accounts.set_banned(*ban)
        return t(locale, "admin_done")
    return t(
        locale, "stats",
        queued=await storage.jobs.queue_depth(),
        running=await storage.jobs.running_count(),
        engines=len(await storage.engines.live()),
    )
