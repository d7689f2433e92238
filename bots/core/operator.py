"""Operator actions (grant, ban, unban, usage, stats), the one implementation behind the
chat commands (Telegram ``/grant``, Discord's ``/grant`` options) and ``clipbot admin``.

Each front end only turns its input into an ``Order``; the range checks are
``storage.grants``'s and the Redis writes happen here, after every check passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from storage import QuotaLimits, QuotaView, Storage
from storage.grants import GrantError, GrantValues, check_grant, check_user


class Action(StrEnum):
    GRANT = "grant"  # set a user's daily limits
    BAN = "ban"  # block a user from making clips
    UNBAN = "unban"  # lift a ban
    USAGE = "usage"  # show a user's quota and usage today
    STATS = "stats"  # queue, engines and totals


ACTIONS = frozenset(a.value for a in Action)


@dataclass(frozen=True)
class Order:
    action: Action
    user: str = ""  # platform:id; empty for STATS
    grant: GrantValues = field(default_factory=GrantValues)


@dataclass(frozen=True)
class Stats:
    queued: int
    running: int
    engines: int
    done: int
    failed: int
    cancelled: int
    avg_job_s: float


def user_ref(platform: str, raw: str) -> str:
    """'12345' (someone on the asker's platform) or 'discord:12345'; raises GrantError."""
    text = raw.strip()
    return check_user(text if ":" in text else f"{platform}:{text}")


def parse_order(platform: str, name: str, args: Sequence[str]) -> Order:
    """A chat command's words as an order; raises GrantError when they don't fit.

    ``/grant <user> <clips> [gpu seconds] [in flight]`` (``-``: unchanged), ``/ban <user>``
    (``/ban <user> off`` lifts it, as before ``/unban`` existed), ``/unban <user>``,
    ``/usage <user>``, ``/stats``.
    """
    action = Action(name)
    if action is Action.STATS:
        if args:
            raise GrantError("/stats takes no arguments")
        return Order(action)
    if not args:
        raise GrantError(f"/{name} needs a user")
    user = user_ref(platform, args[0])
    rest = list(args[1:])
    if action is Action.GRANT:
        if not 1 <= len(rest) <= 3:
            raise GrantError("/grant needs clips per day")
        # "-" leaves that limit as it is (so a later limit can be given alone).
        return Order(action, user, check_grant(*[None if r == "-" else r for r in rest]))
    if action is Action.BAN and [r.lower() for r in rest] == ["off"]:
        return Order(Action.UNBAN, user)
    if rest:
        raise GrantError(f"/{name} takes only a user")
    return Order(action, user)


async def carry_out(storage: Storage, defaults: QuotaLimits, order: Order) -> QuotaView | Stats:
    """Apply a checked order; the user's quota afterwards (or the totals, for STATS)."""
    if order.action is Action.STATS:
        return await stats(storage)
    if order.action is Action.GRANT:
        g = order.grant
        await storage.accounts.grant(order.user, daily_clips=g.daily_clips,
                                     daily_gpu_s=g.daily_gpu_s, max_inflight=g.max_inflight)
    elif order.action in (Action.BAN, Action.UNBAN):
        await storage.accounts.set_banned(order.user, order.action is Action.BAN)
    return await storage.accounts.quota(order.user, defaults)


async def stats(storage: Storage) -> Stats:
    totals = await storage.jobs.stats()
    return Stats(
        queued=await storage.jobs.queue_depth(),
        running=await storage.jobs.running_count(),
        engines=len(await storage.engines.live()),
        done=totals.done,
        failed=totals.failed,
        cancelled=totals.cancelled,
        avg_job_s=totals.avg_job_s or 0.0,
    )
