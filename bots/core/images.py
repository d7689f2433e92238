"""Check a user's photo before it goes anywhere: size, pixel count, format allow-list.

Two steps. ``probe_image`` reads the header only (microseconds, safe on the event loop):
format, declared size, pixel count; decompression bombs stop here. ``decode_check`` decodes
every byte so a truncated upload is refused before it is charged; that costs seconds for a
large lossless WebP or PNG, and Pillow's decoders hold the GIL, so ``ImageChecker`` runs it
in worker processes, with at most ``DECODE_BUDGET_PIXELS`` being decoded at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import multiprocessing
import os
import threading
import warnings
import weakref
from collections import deque
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from PIL import Image, UnidentifiedImageError

from bots.core.options import InputError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 MP: any phone photo, but not a crafted bomb
FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
DECODE_WORKERS = 2
DECODE_BUDGET_PIXELS = 2 * MAX_PIXELS  # decoded at once per process; others wait their turn
DECODE_TIMEOUT_S = 60.0  # a decode this slow is refused as too big (the worker finishes it)


def probe_image(data: bytes) -> tuple[int, int]:
    """(width, height) from the header alone, or InputError. Cheap: no pixel is decoded."""
    if len(data) > MAX_BYTES:
        raise too_big()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format not in FORMATS:
                    raise InputError("image_bad")
                width, height = img.size
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InputError("image_bad") from None
    if width * height > MAX_PIXELS:
        raise too_big()
    return width, height


def decode_check(data: bytes) -> str | None:
    """Decode every byte (JPEG at 1/8 scale: cheap); None when it decodes, else the catalog
    key of the refusal. Returns a key rather than raising: it runs in a worker process, and
    an exception with parameters does not survive pickling intact."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if img.format not in FORMATS or width * height > MAX_PIXELS:
                    return "image_bad" if img.format not in FORMATS else "image_too_big"
                img.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return "image_too_big"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return "image_bad"
    return None


def check_image(data: bytes) -> tuple[int, int]:
    """Return (width, height) of an acceptable photo, or raise InputError (blocking: for
    tools and tests; the bots use ``ImageChecker``)."""
    size = probe_image(data)
    _raise(decode_check(data))
    return size


def too_big() -> InputError:
    return InputError("image_too_big", max_mb=MAX_BYTES // 2**20, max_mp=MAX_PIXELS // 10**6)


def _raise(key: str | None) -> None:
    if key == "image_too_big":
        raise too_big()
    if key is not None:
        raise InputError(key)


def _lower_priority() -> None:
    # Decoding is background work: on a small machine the event loop serving every chat
    # must win the CPU whenever it has something to do.
    with contextlib.suppress(OSError):
        os.nice(19)


class _Budget:
    """A weighted semaphore of pixels, for one event loop (hand-written: asyncio has none;
    release is synchronous so a worker finishing late never needs a task to give back)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    def _fits(self, n: int) -> bool:
        # A photo larger than the whole budget still runs, alone.
        return self.in_use == 0 or self.in_use + n <= self.total

    async def acquire(self, n: int) -> None:
        while not self._fits(n):
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
        self.in_use += n

    def release(self, n: int) -> None:
        self.in_use -= n
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)


class ImageChecker:
    """Checks photos without stalling the event loop: the header on the loop, the decode in
    ``workers`` processes (spawned on first use), ``budget_pixels`` at a time."""

    def __init__(self, workers: int = DECODE_WORKERS, budget_pixels: int = DECODE_BUDGET_PIXELS,
                 timeout_s: float = DECODE_TIMEOUT_S) -> None:
        self.workers = workers
        self.budget_pixels = budget_pixels
        self.timeout_s = timeout_s
        self._pool: Executor | None = None
        self._lock = threading.Lock()
        self._budgets: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Budget] = (
            weakref.WeakKeyDictionary()
        )

    async def check(self, data: bytes) -> tuple[int, int]:
        width, height = probe_image(data)
        pixels = max(1, width * height)
        loop = asyncio.get_running_loop()
        budget = self._budgets.setdefault(loop, _Budget(self.budget_pixels))
        await budget.acquire(pixels)
        try:
            # Starting worker processes blocks for tens of ms each: never on the loop.
            pool = self._pool or await asyncio.to_thread(self._executor)
            future = loop.run_in_executor(pool, decode_check, data)
        except BaseException:
            budget.release(pixels)
            raise
        # The pixels stay spent until the worker is really done, even if we stop waiting.
        future.add_done_callback(lambda _: budget.release(pixels))
        try:
            key = await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except TimeoutError:
            raise too_big() from None
        except BrokenProcessPool:
            self._reset()  # a worker died (out of memory?): the next photo gets a fresh pool
            raise InputError("image_bad") from None
        _raise(key)
        return width, height

    def _executor(self) -> Executor:
        with self._lock:
            if self._pool is None:
                # spawn: forking a process that runs threads and an event loop is unsafe.
                # (Workers import __main__ as __mp_main__: entry points keep the usual
                # ``if __name__ == "__main__"`` guard.)
                ctx = multiprocessing.get_context("spawn")
                pool = ProcessPoolExecutor(self.workers, mp_context=ctx,
                                           initializer=_lower_priority)
                # Start every worker now (one is started per task otherwise, later, on
                # whichever thread submits), and wait until each has answered once.
                for done in [pool.submit(int) for _ in range(self.workers)]:
                    done.result()
                self._pool = pool
            return self._pool

    def _reset(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._reset()


CHECKER = ImageChecker()  # one pool per process, shared by every service in it
