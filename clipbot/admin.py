"""``clipbot admin``: grants, bans, usage and draining engines, straight against Redis."""

from __future__ import annotations

import argparse
import sys

from bots.core import operator
from clipbot.settings import Settings
from clipbot.wiring import open_storage
from storage import QuotaView, Storage
from storage.grants import GrantError, GrantValues, check_grant, check_user


async def run_admin(args: argparse.Namespace, settings: Settings) -> int:
    # Everything an operator typed is checked before Redis is touched: a refusal writes nothing.
    try:
        if args.action == "drain-engine":
            engine_id = args.engine_id.strip()
            if not engine_id or not engine_id.isprintable():
                raise GrantError(f"not an engine id: {args.engine_id!r} (clipbot status lists "
                                 "them)")
        else:
            user = check_user(args.user)
            order = None
            if args.action in operator.ACTIONS:
                grant = (check_grant(args.clips, args.gpu_seconds, args.inflight)
                         if args.action == "grant" else GrantValues())
                order = operator.Order(operator.Action(args.action), user, grant)
    except GrantError as exc:
        print(f"clipbot: {exc}", file=sys.stderr)
        return 2
    async with await open_storage(settings) as s:
        if args.action == "drain-engine":
            return await _drain(s, engine_id)
        if order is None:  # jobs
            for job in await s.jobs.jobs_of(user, 20):
                print(f"{job.id}  {job.state.value:9}  {job.request.prompt[:60]}")
            return 0
        # The same actions as the chat commands (/grant, /ban, /unban, /usage).
        view = await operator.carry_out(s, settings.limits, order)
        assert isinstance(view, QuotaView)
        print(f"{user}: {view.used_clips}/{view.limits.daily_clips} clips, "
              f"{view.used_gpu_s:.1f}/{view.limits.daily_gpu_s:.0f} GPU-s today, "
              f"{view.inflight} in flight{', BANNED' if view.banned else ''}")
    return 0


async def _drain(s: Storage, engine_id: str) -> int:
    beat = await s.engines.request_drain(engine_id)
    if beat is None:
        print(f"clipbot: no live engine {engine_id!r} (clipbot status lists them); "
              "nothing changed", file=sys.stderr)
        return 1
    doing = (f"finishes job {beat} (or hands it back to the queue after its "
             "CLIPBOT_DRAIN_TIMEOUT_S)" if beat != "-" else "is idle")
    print(f"engine {engine_id} is draining: it takes no new jobs, {doing}, then leaves the "
          "live engines and exits")
    return 0
