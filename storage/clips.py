"""Where finished clips live: Redis blobs with a TTL (default) or a local folder."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Protocol, cast

from redis.asyncio import Redis

from storage.keys import Keys

_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")  # with fullmatch: "$" would let "\n" in


class ClipStore(Protocol):
    async def put(self, clip_id: str, mp4: bytes, thumb: bytes) -> None: ...
    async def get(self, clip_id: str) -> bytes | None: ...
    async def thumb(self, clip_id: str) -> bytes | None: ...
    async def delete(self, clip_id: str) -> None: ...
    async def sweep(self) -> int: ...


def check_id(clip_id: str) -> str:
    """Clip ids come back from users (URLs, buttons): never build a path from anything else."""
    if not _SAFE_ID.fullmatch(clip_id):
        raise ValueError("bad clip id")
    return clip_id


class RedisClipStore:
    def __init__(self, redis: Redis, keys: Keys, *, ttl_s: int = 86400) -> None:
        self.redis = redis  # a client with decode_responses=False
        self.keys = keys
        self.ttl_s = ttl_s

    async def put(self, clip_id: str, mp4: bytes, thumb: bytes) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.clip(check_id(clip_id)), mp4, ex=self.ttl_s)
            pipe.set(self.keys.thumb(clip_id), thumb, ex=self.ttl_s)
            await pipe.execute()

    async def get(self, clip_id: str) -> bytes | None:
        return cast("bytes | None", await self.redis.get(self.keys.clip(check_id(clip_id))))

    async def thumb(self, clip_id: str) -> bytes | None:
        return cast("bytes | None", await self.redis.get(self.keys.thumb(check_id(clip_id))))

    async def delete(self, clip_id: str) -> None:
        await self.redis.delete(self.keys.clip(check_id(clip_id)), self.keys.thumb(clip_id))

    async def sweep(self) -> int:
        """Nothing to do: Redis expires clips itself."""
        return 0


class FolderClipStore:
    """For a single host: clips as files, expired lazily on read and by ``sweep``."""

    def __init__(self, folder: Path, *, ttl_s: int = 86400) -> None:
        self.folder = folder
        self.ttl_s = ttl_s
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, clip_id: str, ext: str) -> Path:
        return self.folder / f"{check_id(clip_id)}.{ext}"

    async def put(self, clip_id: str, mp4: bytes, thumb: bytes) -> None:
        await asyncio.to_thread(self._write, clip_id, mp4, thumb)

    def _write(self, clip_id: str, mp4: bytes, thumb: bytes) -> None:
        for ext, data in (("jpg", thumb), ("mp4", mp4)):
            tmp = self._path(clip_id, ext + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(self._path(clip_id, ext))

    async def get(self, clip_id: str) -> bytes | None:
        return await asyncio.to_thread(self._read, self._path(clip_id, "mp4"))

    async def thumb(self, clip_id: str) -> bytes | None:
        return await asyncio.to_thread(self._read, self._path(clip_id, "jpg"))

    def _read(self, path: Path) -> bytes | None:
        try:
            if time.time() - path.stat().st_mtime > self.ttl_s:
                path.unlink(missing_ok=True)
                return None
            return path.read_bytes()
        except FileNotFoundError:
            return None

    async def delete(self, clip_id: str) -> None:
        for ext in ("mp4", "jpg"):
            self._path(clip_id, ext).unlink(missing_ok=True)

    async def sweep(self) -> int:
        """Delete clips, thumbnails and stray partial writes older than the TTL."""
        return await asyncio.to_thread(self._sweep)

    def _sweep(self) -> int:
        cutoff = time.time() - self.ttl_s
        removed = 0
        for p in self.folder.glob("*.*"):
            try:  # a reader may expire the same file at the same moment
                if p.is_file() and p.stat().st_mtime < cutoff:
                    p.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
