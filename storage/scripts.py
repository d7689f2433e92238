"""Loads the Lua scripts once per client through redis-py's ``register_script``.

``register_script`` re-sends a script after NOSCRIPT, so a Redis restart or ``SCRIPT FLUSH``
needs no handling here.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

NAMES = (
    "submit", "claim", "finish", "cancel", "handback", "reclaim", "deliver", "progress",
    "undeliverable", "start_delivery", "forget",
)


@cache
def source(name: str) -> str:
    folder = resources.files(__package__) / "scripts"
    lib = (folder / "_lib.lua").read_text()
    return lib + "\n" + (folder / f"{name}.lua").read_text()


class Scripts:
    def __init__(self, redis: Redis) -> None:
        self._scripts: dict[str, AsyncScript] = {
            name: redis.register_script(source(name)) for name in NAMES
        }

    def __getattr__(self, name: str) -> AsyncScript:
        try:
            return self._scripts[name]
        except KeyError:
            raise AttributeError(name) from None
