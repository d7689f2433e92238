"""Every Redis key name clipbot uses, in one place.

All keys of one deployment share the hash tag ``{prefix}`` so that each Lua script only
touches keys of one Redis Cluster slot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Consumer group names on the job lanes and the result streams.
ENGINE_GROUP = "engines"
BOT_GROUP = "bots"
DEFAULT_LANE = "default"
# The prefix becomes the Redis Cluster hash tag "{prefix}": empty, it would be no tag at all,
# and braces or spaces would end the tag early or break SCAN patterns.
_PREFIX = re.compile(r"[A-Za-z0-9._:/-]{1,64}")


def prefix_problem(prefix: str) -> str | None:
    """Why ``prefix`` cannot be a key prefix, or None."""
    if not _PREFIX.fullmatch(prefix):
        return "must be 1-64 characters from A-Z a-z 0-9 . _ : / -"
    return None


@dataclass(frozen=True)
class Keys:
    prefix: str = "clipbot"

    def __post_init__(self) -> None:
        if problem := prefix_problem(self.prefix):
            raise ValueError(f"bad key prefix {self.prefix[:64]!r}: {problem}")

    def _k(self, *parts: str) -> str:
        return "{" + self.prefix + "}:" + ":".join(parts)

    @property
    def base(self) -> str:
        """Prefix shared by every key; Lua scripts build per-engine key names from it."""
        return "{" + self.prefix + "}:"

    def lane(self, lane: str = DEFAULT_LANE) -> str:
        return self._k("jobs", lane)

    @property
    def queue(self) -> str:
        """Sorted set of queued (not yet started) job ids, scored by arrival order."""
        return self._k("queue")

    @property
    def seq(self) -> str:
        return self._k("seq")

    @property
    def running(self) -> str:
        """Hash job id -> engine id of jobs being generated."""
        return self._k("running")

    def job(self, job_id: str) -> str:
        return self._k("job", job_id)

    def idem(self, key: str) -> str:
        return self._k("idem", key)

    def quota(self, user: str) -> str:
        return self._k("quota", user)

    def grant(self, user: str) -> str:
        return self._k("grant", user)

    def active(self, user: str) -> str:
        """Set of the user's unfinished job ids (the in-flight limit)."""
        return self._k("active", user)

    def user_jobs(self, user: str) -> str:
        return self._k("jobs-of", user)

    def guild(self, guild: str) -> str:
        """Hash of one community's settings (a Discord server: ``discord:<id>``)."""
        return self._k("guild", guild)

    def guild_channels(self, guild: str) -> str:
        """Set of the channel ids where a community allows requests (empty = all)."""
        return self._k("guild-channels", guild)

    def pool(self, name: str) -> str:
        """Hash (day, clips) of a daily clip pool shared by many users."""
        return self._k("pool", name)

    def reservation(self, job_id: str) -> str:
        return self._k("resv", job_id)

    def results(self, platform: str) -> str:
        return self._k("results", platform)

    @property
    def dead(self) -> str:
        return self._k("dead")

    def heartbeat(self, engine_id: str) -> str:
        return self._k("engine", engine_id)

    def drain(self, engine_id: str) -> str:
        """Set (with a TTL) while an operator asks that engine to drain and exit."""
        return self._k("drain", engine_id)

    @property
    def engines(self) -> str:
        """Hash engine id -> JSON info of engines that announced themselves."""
        return self._k("engines")

    @property
    def stats(self) -> str:
        return self._k("stats")

    def progress_channel(self, platform: str) -> str:
        return self._k("progress", platform)

    def clip(self, clip_id: str) -> str:
        return self._k("clip", clip_id)

    def thumb(self, clip_id: str) -> str:
        return self._k("thumb", clip_id)

    def image(self, job_id: str) -> str:
        return self._k("image", job_id)

    def rate(self, kind: str, client: str) -> str:
        """Sorted set of recent attempts of one kind by one client ("*": everyone)."""
        return self._k("rate", kind, client)

    @property
    def pattern(self) -> str:
        """SCAN pattern matching every key of this deployment (tests clean with it)."""
        return "{" + self.prefix + "}:*"
