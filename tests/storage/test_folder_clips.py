"""The folder clip store expires clips by age: lazily on read, and by ``sweep``."""

from __future__ import annotations

import os
import time
from pathlib import Path

from storage.clips import FolderClipStore, RedisClipStore


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


async def test_sweep_removes_only_files_older_than_the_ttl(tmp_path: Path) -> None:
    store = FolderClipStore(tmp_path, ttl_s=60)
    await store.put("oldclip-0001", b"mp4", b"jpg")
    await store.put("newclip-0001", b"mp4", b"jpg")
    for ext in ("mp4", "jpg"):
        age(tmp_path / f"oldclip-0001.{ext}", 61)
    (tmp_path / "partial-0001.mp4.tmp").write_bytes(b"half")  # a write cut short long ago
    age(tmp_path / "partial-0001.mp4.tmp", 3600)
    (tmp_path / "sub.dir").mkdir()  # never touched: not a clip file
    age(tmp_path / "sub.dir", 3600)

    assert await store.sweep() == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "newclip-0001.jpg", "newclip-0001.mp4", "sub.dir"]
    assert await store.get("oldclip-0001") is None
    assert await store.get("newclip-0001") == b"mp4"
    assert await store.sweep() == 0


async def test_redis_clip_store_needs_no_sweep(storage) -> None:
    assert isinstance(storage.clips, RedisClipStore)
    assert await storage.clips.sweep() == 0
