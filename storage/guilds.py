"""Per-community settings (a Discord server's allowed channels and shared daily pool).

A community is named by a qualified id such as ``discord:<guild id>``; the same name keys
its settings and its pool.
"""

from __future__ import annotations

from redis.asyncio import Redis

from storage.accounts import seconds_to_utc_midnight
from storage.keys import Keys
from storage.models import GuildSettings

POOL_FIELD = "daily_clips"


class Guilds:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    async def get(self, guild: str) -> GuildSettings:
        # One round trip: adapters read this before answering within Discord's 3 s.
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.smembers(self.keys.guild_channels(guild))
            pipe.hget(self.keys.guild(guild), POOL_FIELD)
            channels, clips = await pipe.execute()
        return GuildSettings(channels=frozenset(channels), daily_clips=int(clips or 0))

    async def add_channel(self, guild: str, channel_id: str, *, max_channels: int) -> str:
        """'added', 'present', or 'full' (the guild already allows ``max_channels``)."""
        key = self.keys.guild_channels(guild)
        if not await self.redis.sadd(key, channel_id):
            return "present"
        # Add first, then undo when over the cap: concurrent adds never leave more.
        if await self.redis.scard(key) > max_channels:
            await self.redis.srem(key, channel_id)
            return "full"
        return "added"

    async def remove_channel(self, guild: str, channel_id: str) -> bool:
        """True when the channel was in the list."""
        return bool(await self.redis.srem(self.keys.guild_channels(guild), channel_id))

    async def set_pool(self, guild: str, daily_clips: int) -> None:
        """Set the shared daily pool; 0 turns it off."""
        if daily_clips < 0:
            raise ValueError("a pool cannot be negative")
        if daily_clips:
            await self.redis.hset(self.keys.guild(guild), POOL_FIELD, daily_clips)
        else:
            await self.redis.hdel(self.keys.guild(guild), POOL_FIELD)

    async def pool_used(self, guild: str) -> tuple[int, int]:
        """Clips charged to the guild's pool today, and seconds until the UTC day ends."""
        secs, _ = await self.redis.time()
        today = str(int(secs) // 86400)
        day, clips = await self.redis.hmget(self.keys.pool(guild), "day", "clips")
        used = int(clips or 0) if day == today else 0
        return max(0, used), seconds_to_utc_midnight(secs)
