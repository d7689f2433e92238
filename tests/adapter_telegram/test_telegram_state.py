"""Who acknowledges a job: once per process, taken over from a process that died mid-way."""

from __future__ import annotations

from bots.telegram.state import TelegramState
from storage import Storage


async def test_ack_claim_is_once_per_process_and_survives_a_dead_claimer(
    storage: Storage,
) -> None:
    first = TelegramState(storage.redis, storage.keys)
    assert await first.claim_ack("j1")
    assert not await first.claim_ack("j1")  # the same update re-delivered to this process
    assert await first.status_message("j1") is None  # claimed, not sent yet

    # The first process died before its ack reached Telegram: a restarted one takes over.
    restarted = TelegramState(storage.redis, storage.keys)
    assert await restarted.claim_ack("j1")
    await restarted.set_status_message("j1", 4242)
    assert await restarted.status_message("j1") == 4242

    # Acknowledged: nobody claims it again.
    for state in (first, restarted, TelegramState(storage.redis, storage.keys)):
        assert not await state.claim_ack("j1")
