"""What a deployment still holds about someone: every key whose name or value mentions them."""

from __future__ import annotations

from storage import Storage


async def traces(storage: Storage, *needles: str) -> dict[str, str]:
    """Keys of this deployment (SCAN over its prefix) whose name or value (hash fields,
    set and stream members, blobs) contains any of ``needles``."""
    r = storage.redis
    found: dict[str, str] = {}
    async for key in r.scan_iter(match=storage.keys.pattern, count=500):
        kind = await r.type(key)
        if kind == "string":
            value = repr(await storage.blobs.get(key))
        elif kind == "hash":
            value = repr(await r.hgetall(key))
        elif kind == "set":
            value = repr(await r.smembers(key))
        elif kind == "zset":
            value = repr(await r.zrange(key, 0, -1))
        elif kind == "stream":
            value = repr(await r.xrange(key))
        else:
            value = kind
        if any(n in key or n in value for n in needles):
            found[key] = value
    return found


async def user_traces(storage: Storage, user: str, *job_ids: str) -> list[str]:
    """Keys that still mention ``user`` or one of ``job_ids``, except the user's quota
    counters (anonymous numbers kept so that /forget cannot reset a quota)."""
    left = await traces(storage, user, *job_ids)
    return sorted(k for k in left if k != storage.keys.quota(user))
