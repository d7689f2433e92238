"""``clipbot admin``: grants, bans and usage, straight against Redis."""

from __future__ import annotations

import argparse

from clipbot.settings import Settings
from clipbot.wiring import open_storage


async def run_admin(args: argparse.Namespace, settings: Settings) -> int:
    async with await open_storage(settings) as s:
        user = args.user
        if ":" not in user:
            print("clipbot: users are named platform:id, e.g. telegram:12345")
            return 2
        if args.action == "grant":
            await s.accounts.grant(user, daily_clips=args.clips, daily_gpu_s=args.gpu_seconds,
                                   max_inflight=args.inflight)
        elif args.action in ("ban", "unban"):
            await s.accounts.set_banned(user, args.action == "ban")
        elif args.action == "jobs":
            for job in await s.jobs.jobs_of(user, 20):
                print(f"{job.id}  {job.state.value:9}  {job.request.prompt[:60]}")
            return 0
        view = await s.accounts.quota(user, settings.limits)
        print(f"{user}: {view.used_clips}/{view.limits.daily_clips} clips, "
              f"{view.used_gpu_s:.1f}/{view.limits.daily_gpu_s:.0f} GPU-s today, "
              f"{view.inflight} in flight{', BANNED' if view.banned else ''}")
    return 0
