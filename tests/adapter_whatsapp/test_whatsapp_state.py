"""What the adapter keeps in Redis: first sight of a message, the window, held results."""

from __future__ import annotations

import asyncio

from bots.whatsapp.state import WINDOW_S, ChatState, Held
from storage import Storage

WA = "16505550111"


async def test_first_sight_is_true_once(storage: Storage) -> None:
    state = ChatState(storage.redis, storage.keys)
    results = await asyncio.gather(*(state.first_sight("wamid.X") for _ in range(10)))
    assert sorted(results) == [False] * 9 + [True]
    assert await state.first_sight("wamid.Y")


async def test_last_seen_only_moves_forward_and_expires(storage: Storage) -> None:
    state = ChatState(storage.redis, storage.keys)
    assert await state.last_seen(WA) is None
    await state.saw_user(WA, 1_800_000_100.0)
    await state.saw_user(WA, 1_800_000_000.0)  # a late retry of an older message
    assert await state.last_seen(WA) == 1_800_000_100.0
    ttl = await storage.redis.ttl(state.key("seen", WA))
    assert WINDOW_S - 5 <= ttl <= WINDOW_S


async def test_held_results_are_taken_once_and_deduplicated(storage: Storage) -> None:
    state = ChatState(storage.redis, storage.keys)
    first = Held(job_id="job-a", locale="en", media_id="701", text="caption")
    await state.hold(WA, first)
    await state.hold(WA, Held(job_id="job-b", locale="en", text="failed"))
    await state.hold(WA, first)  # a retried delivery held it again
    taken = await asyncio.gather(state.take_held(WA), state.take_held(WA))
    assert sorted(len(t) for t in taken) == [0, 2]
    assert [h.job_id for h in max(taken, key=len)] == ["job-a", "job-b"]
    assert await state.take_held(WA) == []


async def test_forget_clears_the_chat_memory(storage: Storage) -> None:
    state = ChatState(storage.redis, storage.keys)
    await state.saw_user(WA, 1_800_000_000.0)
    await state.set_language(WA, "es")
    await state.hold(WA, Held(job_id="job-a", locale="es", text="x"))
    await state.forget(WA)
    assert await state.last_seen(WA) is None and await state.language(WA) is None
    assert await state.take_held(WA) == []
