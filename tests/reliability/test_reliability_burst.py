"""A burst of messages on one bot process: every one gets an answer, none an exception.

Webhook adapters (Telegram, WhatsApp, the web chat) handle each update as its own task, so
a busy group or a reconnecting client produces hundreds of concurrent submits on one
``Storage``. Each must end in Submitted or a Refusal; quota must hold exactly.
"""

from __future__ import annotations

import asyncio

from bots.core.service import ClipService, CoreConfig, Refusal, Submitted, Who
from storage import QuotaLimits, Storage

LIMITS = QuotaLimits(daily_gpu_s=1e6, daily_clips=3, max_inflight=10, max_queue=10_000)


async def burst(service: ClipService, n: int) -> list[object]:
    async def one(i: int) -> object:
        try:
            return await service.request_video(Who("telegram", f"u{i % 100}", "c"),
                                               f"a red kite {i}", idem_key=f"tg:{i}")
        except Exception as exc:  # what the adapter would turn into an HTTP 500
            return exc

    return await asyncio.gather(*(one(i) for i in range(n)))


async def test_a_burst_within_the_pool_is_answered_exactly(storage: Storage) -> None:
    results = await burst(ClipService(storage, CoreConfig(limits=LIMITS)), 90)
    assert all(isinstance(r, Submitted | Refusal) for r in results)
    assert sum(isinstance(r, Submitted) for r in results) == 90  # 90 users, one each


async def test_a_burst_beyond_the_pool_is_answered_not_crashed(storage: Storage) -> None:
    results = await burst(ClipService(storage, CoreConfig(limits=LIMITS)), 400)
    errors = [r for r in results if not isinstance(r, Submitted | Refusal)]
    assert not errors, f"{len(errors)} of 400 crashed, first: {errors[0]!r}"
    accepted = [r for r in results if isinstance(r, Submitted)]
    assert len(accepted) == 100 * LIMITS.daily_clips  # exact: 3 per user, 100 users
    assert {r.key for r in results if isinstance(r, Refusal)} == {"quota_clips"}
