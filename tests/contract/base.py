"""The interface every adapter's driver gives the contract scenarios.

A driver plays one user on one platform, through the platform's real client library
against its local fake server, and reads back what that user was shown."""

from __future__ import annotations

import asyncio
import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage import QuotaLimits

TIMEOUT_S = 60.0  # generous: the suite must hold on a busy 2-core machine
LIMITS = QuotaLimits(daily_clips=10, daily_gpu_s=100_000.0, max_inflight=3, max_queue=50)
_ids = itertools.count(1)


@dataclass(frozen=True)
class Faults:
    """Send failures a driver asks its fake to inject (none by default). Fields are added
    with the fakes' fault support: e.g. ``rate_limit`` (answer 429 with retry_after),
    ``server_error`` (500s), ``lose_response`` (apply, then drop the answer),
    ``gone_recipient`` (a user who can never be reached)."""

    def any(self) -> bool:
        return any(vars(self).values())


NO_FAULTS = Faults()


def unique(prefix: str) -> str:
    return f"{prefix}{next(_ids):06d}"


class Unsupported(Exception):
    """The platform has no such gesture (Discord has no /lang: it follows the app)."""


class Driver(ABC):
    platform: str
    user_id: str
    locale: str = "en"

    @property
    def user(self) -> str:
        return f"{self.platform}:{self.user_id}"

    # ---- what the user does ---------------------------------------------------------------
    @abstractmethod
    async def send_text(self, text: str) -> None:
        """A prompt (``/video`` where the platform needs one)."""

    @abstractmethod
    async def command(self, name: str, arg: str = "") -> None:
        """``/name arg`` in the platform's own form (a slash command on Discord)."""

    @abstractmethod
    async def press(self, kind: str, job_id: str) -> None:
        """Tap ``retry``, ``vary`` or ``cancel`` for the job (WhatsApp: /cancel)."""

    async def press_retry(self, job_id: str) -> None:
        await self.press("retry", job_id)

    async def press_vary(self, job_id: str) -> None:
        await self.press("vary", job_id)

    async def press_cancel(self, job_id: str) -> None:
        await self.press("cancel", job_id)

    # ---- what the user sees ---------------------------------------------------------------
    @abstractmethod
    def seen(self) -> list[str]:
        """Every text shown to this user so far, in order: messages, private answers,
        button answers, status edits, captions."""

    @abstractmethod
    def clips(self) -> int:
        """Clips (videos) delivered to this user so far."""

    @abstractmethod
    def progress_seen(self) -> bool:
        """Whether the user was shown their job moving after the acknowledgement (status
        edits, a typing indicator, live frames: whatever the platform uses)."""

    async def wait_for_reply(self, check: Callable[[list[str]], Any],
                             timeout: float = TIMEOUT_S) -> list[str]:
        """Wait until ``check(seen)`` is truthy; the texts seen then."""
        async def poll() -> list[str]:
            while not check(texts := self.seen()):
                await asyncio.sleep(0.05)
            return texts

        try:
            return await asyncio.wait_for(poll(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.platform}: never saw it; saw {self.seen()!r}") from None

    async def wait_for_text(self, text: str, timeout: float = TIMEOUT_S) -> list[str]:
        return await self.wait_for_reply(lambda seen: any(text in s for s in seen), timeout)

    async def wait_for_clip(self, n: int = 1, timeout: float = 120.0) -> None:
        await self.wait_for_reply(lambda _: self.clips() >= n, timeout)
