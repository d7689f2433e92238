"""A real Telegram bot process SIGKILLed between submit and result; a restarted one delivers.

The bot runs as ``python -m clipbot.cli bots --telegram`` against the fake Bot API served
by this test process; the engine is a real preview-model worker in this event loop. Both
bot processes use the same ``CLIPBOT_BOT_ID``, so the restarted one is the same consumer in
the results group and re-reads what the dead one read but never acked.

What we promise (shared/design.md, Guarantees; storage/scripts/deliver.lua;
bots/core/delivery.py ``ResultPump``; bots/telegram/delivery.py): a result event is acked
(and the job marked delivered, the charge committed) only after the clip was sent, and a
result the dead process never acked is read again and sent. Delivery is therefore
at-least-once towards Telegram and exactly-once in Redis: the job ends delivered once and
charged once. The one crash that makes the user see the clip twice is a kill after
Telegram accepted ``sendVideo`` but before the bot recorded it (``TelegramState.mark_sent``,
one Redis write later): no sender can tell "sent, answer lost" from "not sent" without
Telegram's help, so exactly one extra ``sendVideo`` is the honest outcome there. A kill
after ``mark_sent`` but before the ack sends nothing again.

The last test kills a bot after it claimed a job's ack but before the ack reached Telegram:
the restarted process takes the dead one's claim over and acknowledges the update.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bots.telegram.state import tg_key
from storage import JobRecord, JobState, QuotaLimits, Storage
from tests.adapter_telegram.fake_bot_api import FakeBotApi
from tests.adapter_telegram.updates import message, user

pytestmark = pytest.mark.slow
TOKEN = "123456:KILL-token_abcdefghijklmnopqrstuvwxyz"
CHAT = 501
REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90.0  # a bot process imports python-telegram-bot, redis, PIL, av


@dataclass
class HoldingBotApi(FakeBotApi):
    """The fake Bot API that, once, carries out a method (the user sees its effect) and
    then keeps the HTTP answer back until the test has killed the caller; or, with
    ``carry_out`` False, keeps the request itself (as if it never reached Telegram)."""

    hold: str = ""  # lower-case method name; "" holds nothing
    carry_out: bool = True
    held: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def _method(self, request: web.Request) -> web.Response:
        holding = (request.match_info["method"].lower() == self.hold
                   and not self.held.is_set())
        if holding and not self.carry_out:
            self.held.set()
            await self.release.wait()
        response = await super()._method(request)
        if holding and self.carry_out:
            self.held.set()
            # The client's connection closes when it is killed; the server then cancels
            # this handler, and the answer never arrives.
            await self.release.wait()
        return response

    def sent_videos(self, chat_id: int) -> list[Any]:
        return [c for c in self.called("sendVideo") if c.params.get("chat_id") == chat_id]


class BotProcesses:
    """Starts ``clipbot bots --telegram`` processes; every one is killed at the end."""

    def __init__(self, env: dict[str, str], api: HoldingBotApi, logs: Path) -> None:
        self.env, self.api, self.logs = env, api, logs
        self.procs: list[asyncio.subprocess.Process] = []

    async def start(self) -> asyncio.subprocess.Process:
        """A new bot process, returned once it long-polls the fake for updates."""
        first_call = len(self.api.calls)
        log = (self.logs / f"bot-{len(self.procs) + 1}.log").open("wb")
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "clipbot.cli", "bots", "--telegram",
                env=self.env, cwd=REPO, stdout=log, stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
            )
        finally:
            log.close()
        self.procs.append(proc)

        def polling() -> bool:
            return any(c.method == "getupdates" for c in self.api.calls[first_call:])

        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        while not polling():
            if proc.returncode is not None:
                raise AssertionError(f"bot exited with {proc.returncode}:\n{self.output()}")
            assert loop.time() < deadline, f"bot never polled:\n{self.output()}"
            await asyncio.sleep(0.05)
        return proc

    @staticmethod
    async def kill(proc: asyncio.subprocess.Process) -> None:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
        await proc.wait()
        assert proc.returncode == -signal.SIGKILL

    async def stop_all(self) -> None:
        """SIGTERM (a clean stop), then SIGKILL whatever is still running after 15 s."""
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.send_signal(signal.SIGKILL)
                await proc.wait()

    def output(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
                         for p in sorted(self.logs.glob("bot-*.log")))


@pytest.fixture
async def api() -> AsyncIterator[HoldingBotApi]:
    fake = await HoldingBotApi(TOKEN).start()
    try:
        yield fake
    finally:
        fake.release.set()
        await fake.close()


@pytest.fixture
async def bots(api: HoldingBotApi, redis_url: str, prefix: str,
               tmp_path: Path) -> AsyncIterator[BotProcesses]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPBOT_")}
    env.update(
        CLIPBOT_REDIS_URL=redis_url,
        CLIPBOT_REDIS_PREFIX=prefix,
        CLIPBOT_BOT_ID=f"tg-kill-{uuid.uuid4().hex[:6]}",  # the same for every restart
        CLIPBOT_TELEGRAM_TOKEN=TOKEN,
        CLIPBOT_TELEGRAM_BASE_URL=api.base_url,
        CLIPBOT_TELEGRAM_BASE_FILE_URL=api.base_file_url,
        CLIPBOT_DAILY_CLIPS="5",
        CLIPBOT_MAX_INFLIGHT="3",
        CLIPBOT_MAX_QUEUE="50",
        CLIPBOT_METRICS_PORT="0",
        CLIPBOT_LOG_LEVEL="INFO",
        CLIPBOT_LOG_FORMAT="text",
        PYTHONUNBUFFERED="1",
    )
    procs = BotProcesses(env, api, tmp_path)
    try:
        yield procs
    finally:
        await procs.stop_all()


@contextlib.asynccontextmanager
async def engine_running(storage: Storage, generator: object) -> AsyncIterator[None]:
    """A real preview-model engine (2 denoising steps) started when the test says so."""
    from engine.worker import Worker, WorkerConfig

    worker = Worker(storage, generator,  # type: ignore[arg-type]
                    WorkerConfig(engine_id=f"kill-engine-{uuid.uuid4().hex[:6]}",
                                 profile="preview", default_steps=2, heartbeat_ttl_s=1.5,
                                 block_ms=200, progress_interval_s=0.0))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 60.0,
                bots: BotProcesses | None = None) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (result := await check()):
        if loop.time() > deadline:
            logs = bots.output() if bots else ""
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        await asyncio.sleep(0.05)
    return result


async def acknowledged_job(api: HoldingBotApi, storage: Storage, bots: BotProcesses,
                           text: str) -> tuple[dict[str, Any], JobRecord]:
    """Send ``text`` from the user; return the update and its job once the ack is sent."""
    update = await api.inject(message(text, sender=user(CHAT)))

    async def acked() -> bool:
        return bool(api.sent_to(CHAT))

    await until(acked, "the acknowledgement", bots=bots)
    [job] = await storage.jobs.jobs_of(f"telegram:{CHAT}")
    return update, job


async def settled(storage: Storage, job_id: str, bots: BotProcesses) -> JobRecord:
    """Wait until the job is delivered, then leave room for a wrong second send."""
    async def delivered() -> JobRecord | None:
        job = await storage.jobs.get(job_id)
        return job if job is not None and job.delivered else None

    await until(delivered, "the job to be delivered", bots=bots)
    await asyncio.sleep(1.0)
    job = await storage.jobs.get(job_id)
    assert job is not None
    return job


async def assert_delivered_once_charged_once(storage: Storage, job: JobRecord) -> None:
    assert job.state is JobState.DONE and job.delivered, job
    view = await storage.accounts.quota(f"telegram:{CHAT}", QuotaLimits())
    assert (view.used_clips, view.inflight) == (1, 0)
    # The result event was acked and deleted: nothing for any later start to read again.
    results = storage.keys.results("telegram")
    assert await storage.redis.xlen(results) == 0
    pending = await storage.redis.xpending(results, "bots")
    assert pending["pending"] == 0, pending


async def test_bot_killed_after_ack_restarted_bot_delivers_once(
    api: HoldingBotApi, bots: BotProcesses, storage: Storage, preview_generator: object,
) -> None:
    first = await bots.start()
    update, job = await acknowledged_job(api, storage, bots, "a paper boat --seconds 1")
    assert job.state is JobState.QUEUED  # no engine yet: the result cannot exist
    await bots.kill(first)

    # The job runs and finishes while no bot process is alive; its result waits unread.
    async def done() -> bool:
        return (await storage.jobs.get(job.id)).state is JobState.DONE

    async with engine_running(storage, preview_generator):
        await until(done, "the engine to finish the job")
    assert not api.called("sendVideo")

    # Worst case for the update too: the dead process had not confirmed it, so Telegram
    # serves it again to the new process (which must see a duplicate, not a new job).
    api.forget_confirmations()
    await bots.start()
    job = await settled(storage, job.id, bots)

    [video] = api.sent_videos(CHAT)
    assert video.files["video"].filename == f"clip-{job.id}.mp4"
    assert len(api.called("sendVideo")) == 1
    assert api.served.count(update["update_id"]) == 2
    assert len(await storage.jobs.jobs_of(f"telegram:{CHAT}")) == 1
    assert len(api.texts_to(CHAT)) == 1  # one ack: the re-served update was a duplicate
    await assert_delivered_once_charged_once(storage, job)


# hold -> how many sendVideo calls the user ends up with
KILL_POINTS = {
    # Telegram accepted the clip (the user has it); the bot dies before it hears so, so it
    # never marks it sent nor acks the event: the restarted bot sends it once more.
    "after_sendVideo_accepted": ("sendvideo", 2),
    # The clip is sent and marked sent (the bot is closing the status message); the event
    # is not acked yet: the restarted bot re-reads it, sees the mark, sends nothing.
    "after_mark_sent_before_ack": ("deletemessage", 1),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
async def test_bot_killed_during_delivery_restarted_bot_finishes_it(
    point: str, api: HoldingBotApi, bots: BotProcesses, storage: Storage,
    preview_generator: object,
) -> None:
    api.hold, videos = KILL_POINTS[point]
    first = await bots.start()
    async with engine_running(storage, preview_generator):
        _, job = await acknowledged_job(api, storage, bots, "a red kite --seconds 1")
        try:
            await asyncio.wait_for(api.held.wait(), 90)
        except TimeoutError:
            raise AssertionError(f"the bot never called {api.hold}; job now: "
                                 f"{await storage.jobs.get(job.id)}\n{bots.output()}") from None
        await bots.kill(first)
    api.release.set()

    dead = await storage.jobs.get(job.id)
    assert dead.state is JobState.DONE and not dead.delivered, dead  # killed before the ack
    assert len(api.sent_videos(CHAT)) == 1
    # Where the kill landed: before or after the bot recorded the clip as sent.
    marked = await storage.redis.exists(tg_key(storage.keys, "sent", job.id))
    assert bool(marked) == (videos == 1)
    # The dead consumer's event is still pending: only the same bot id reads it at once.
    pending = await storage.redis.xpending(storage.keys.results("telegram"), "bots")
    assert pending["pending"] == 1, pending

    await bots.start()
    job = await settled(storage, job.id, bots)
    sent = api.sent_videos(CHAT)
    assert len(sent) == len(api.called("sendVideo")) == videos
    assert {c.files["video"].filename for c in sent} == {f"clip-{job.id}.mp4"}
    assert len(api.texts_to(CHAT)) == 1
    await assert_delivered_once_charged_once(storage, job)

    # A third start finds nothing left to send.
    await bots.start()
    await asyncio.sleep(1.0)
    assert len(api.called("sendVideo")) == videos


async def test_bot_killed_before_its_ack_reached_telegram_restarted_bot_acks(
    api: HoldingBotApi, bots: BotProcesses, storage: Storage,
) -> None:
    api.hold, api.carry_out = "sendmessage", False
    first = await bots.start()
    update = await api.inject(message("a green lantern --seconds 1", sender=user(CHAT)))
    try:
        await asyncio.wait_for(api.held.wait(), 30)
    except TimeoutError:
        raise RuntimeError(f"the bot never sent its ack\n{bots.output()}") from None
    await bots.kill(first)
    [job] = await storage.jobs.jobs_of(f"telegram:{CHAT}")  # submitted, not acknowledged
    assert not api.sent_to(CHAT)

    # The ack never arrived, so neither did the offset confirming the update (in the worst
    # case): Telegram serves it again, and the restarted bot should acknowledge it now.
    api.forget_confirmations()
    await bots.start()

    async def acked() -> bool:
        return bool(api.sent_to(CHAT))

    await until(acked, "an ack for the re-served update", timeout=10)
    assert api.served.count(update["update_id"]) == 2
    assert len(api.texts_to(CHAT)) == 1
    assert len(await storage.jobs.jobs_of(f"telegram:{CHAT}")) == 1
    assert (await storage.jobs.get(job.id)).state is JobState.QUEUED
