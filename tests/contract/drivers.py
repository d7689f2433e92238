"""One driver per adapter, each on that adapter's existing test harness and fake."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from bots.core.service import ClipService, CoreConfig
from bots.discord.layout import ReplyContext
from bots.web.app import create_app
from clipbot.settings import Settings
from storage import QuotaLimits, Storage
from tests.adapter_discord import payloads as dc
from tests.adapter_discord.fake_discord import FakeDiscord
from tests.adapter_discord.harness import running_bot as discord_bot
from tests.adapter_telegram import updates as tg
from tests.adapter_telegram.conftest import TOKEN as TG_TOKEN
from tests.adapter_telegram.conftest import bot_running as telegram_bot
from tests.adapter_telegram.conftest import make_settings as telegram_settings
from tests.adapter_telegram.fake_bot_api import FakeBotApi
from tests.adapter_whatsapp import payloads as wa
from tests.adapter_whatsapp.conftest import TOKEN as WA_TOKEN
from tests.adapter_whatsapp.conftest import VERSION as WA_VERSION
from tests.adapter_whatsapp.conftest import Meta
from tests.adapter_whatsapp.conftest import make_settings as whatsapp_settings
from tests.adapter_whatsapp.fake_graph import FakeGraph
from tests.contract.base import Driver, Faults, Unsupported, unique


def _limits(limits: QuotaLimits) -> dict[str, Any]:
    return {"daily_clips": limits.daily_clips, "daily_gpu_seconds": limits.daily_gpu_s,
            "max_inflight": limits.max_inflight, "max_queue": limits.max_queue}


def _no_faults(faults: Faults) -> None:
    # Each fake learns to inject faults with the outbox; until then none is asked for.
    if faults.any():
        raise NotImplementedError(f"this fake cannot inject {faults}")


# ---- Telegram: python-telegram-bot against fake_bot_api ------------------------------------
class TelegramDriver(Driver):
    platform = "telegram"

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self.user_id = "4242"
        self.sender = tg.user(int(self.user_id))

    async def send_text(self, text: str) -> None:
        await self.api.inject(tg.message(text, sender=self.sender))

    async def command(self, name: str, arg: str = "") -> None:
        await self.send_text(f"/{name} {arg}".strip())

    async def press(self, kind: str, job_id: str) -> None:
        data = {"retry": "r", "vary": "v", "cancel": "c"}[kind] + ":" + job_id
        on = next(m for m in self.api.sent_to(int(self.user_id))
                  if job_id in str(m.get("reply_markup", "")))
        await self.api.inject(tg.press(data, sender=self.sender, on=on))

    def seen(self) -> list[str]:
        out = []
        for call in list(self.api.calls):
            p = call.params
            if call.method == "answerCallbackQuery" and p.get("text"):
                out.append(p["text"])
            elif str(p.get("chat_id")) == self.user_id:
                text = p.get("text") or p.get("caption")
                if text:
                    out.append(text)
        return out

    def clips(self) -> int:
        return sum(1 for c in self.api.called("sendVideo")
                   if str(c.params.get("chat_id")) == self.user_id)

    def progress_seen(self) -> bool:  # the status message was edited
        return any(str(c.params.get("chat_id")) == self.user_id
                   for c in self.api.called("editMessageText"))


@contextlib.asynccontextmanager
async def telegram(storage: Storage, redis_url: str, limits: QuotaLimits, faults: Faults
                   ) -> AsyncIterator[Driver]:
    _no_faults(faults)
    api = await FakeBotApi(TG_TOKEN).start()
    try:
        settings = telegram_settings(redis_url, storage.keys.prefix, api, **_limits(limits))
        async with telegram_bot(settings, storage):
            yield TelegramDriver(api)
    finally:
        await api.close()


# ---- WhatsApp: our webhook server against fake_graph ---------------------------------------
class WhatsAppDriver(Driver):
    platform = "whatsapp"

    def __init__(self, meta: Meta, graph: FakeGraph) -> None:
        self.meta, self.graph = meta, graph
        self.user_id = "16505550142"  # a US number: English

    async def _post(self, payload: dict[str, Any]) -> None:
        assert await self.meta.post(payload) == 200

    async def send_text(self, text: str) -> None:
        await self._post(wa.text(self.user_id, unique("wamid.C"), text))

    async def command(self, name: str, arg: str = "") -> None:
        await self.send_text(f"/{name} {arg}".strip())

    async def press(self, kind: str, job_id: str) -> None:
        if kind == "cancel":  # WhatsApp's acknowledgement has no buttons: /cancel it is
            await self.command("cancel")
            return
        await self._post(wa.button_reply(self.user_id, unique("wamid.B"), f"{kind}:{job_id}",
                                         kind.title()))

    def seen(self) -> list[str]:
        out = []
        for m in self.graph.to(self.user_id):
            body = m[m["type"]]
            if m["type"] == "text":
                text = body["body"]
            elif m["type"] == "interactive":
                text = body["body"]["text"]
            else:  # a video or document: its caption
                text = body.get("caption", "")
            if text:
                out.append(text)
        return out

    def clips(self) -> int:
        return len(self.graph.to(self.user_id, "video"))

    def progress_seen(self) -> bool:  # "typing…" after the ack, then again on progress
        return len(self.graph.reads) >= 2


@contextlib.asynccontextmanager
async def whatsapp(storage: Storage, redis_url: str, limits: QuotaLimits, faults: Faults
                   ) -> AsyncIterator[Driver]:
    from bots.whatsapp.app import running

    _no_faults(faults)
    graph = await FakeGraph(WA_VERSION, wa.PHONE_NUMBER_ID, WA_TOKEN).start()
    try:
        settings = whatsapp_settings(redis_url, storage.keys.prefix, graph.url,
                                     **_limits(limits))
        async with running(settings, storage, host="127.0.0.1", port=0) as url, \
                aiohttp.ClientSession() as http:
            yield WhatsAppDriver(Meta(url, http), graph)
    finally:
        await graph.close()


# ---- Discord: discord.py against fake_discord ----------------------------------------------
class DiscordDriver(Driver):
    platform = "discord"

    def __init__(self, fake: FakeDiscord, storage: Storage) -> None:
        self.fake, self.storage = fake, storage
        self.user_id = dc.USER
        self.tokens: set[str] = set()

    async def _interact(self, payload: dict[str, Any]) -> None:
        self.tokens.add(payload["token"])
        await self.fake.interact(payload)

    async def send_text(self, text: str) -> None:
        await self._interact(dc.slash(self.fake, "video", {"prompt": text}))

    async def command(self, name: str, arg: str = "") -> None:
        if name == "lang":
            raise Unsupported("Discord answers in the language of the user's app")
        await self._interact(dc.slash(self.fake, name))

    async def press(self, kind: str, job_id: str) -> None:
        job = await self.storage.jobs.get(job_id)
        ctx = ReplyContext.from_dict(job.request.reply) if job else None
        message = self.fake.messages[ctx.status_message_id] if ctx else {}
        button = f"clip:{kind}:{job_id}"
        await self._interact(dc.click(self.fake, dc.with_buttons(message, button), button))

    def seen(self) -> list[str]:
        out = []
        for call in list(self.fake.calls):
            if call.token not in self.tokens:
                continue
            p = call.payload.get("data") if call.route == "callback" else call.payload
            p = p or {}
            text = " ".join([p.get("content") or ""] + [e.get("description", "")
                                                        for e in p.get("embeds") or []])
            if text.strip():
                out.append(text.strip())
        return out

    def clips(self) -> int:
        return sum(1 for c in self.fake.calls if c.token in self.tokens and any(
            f.filename.endswith(".mp4") for f in c.files))

    def progress_seen(self) -> bool:  # the status embed's bar moved past the queued 0%
        return any(not e.get("description", "").endswith(" 0%")
                   for c in self.fake.find("edit_message") if c.token in self.tokens
                   for e in c.payload.get("embeds") or [])


@contextlib.asynccontextmanager
async def discord(storage: Storage, redis_url: str, limits: QuotaLimits, faults: Faults
                  ) -> AsyncIterator[Driver]:
    _no_faults(faults)
    fake = FakeDiscord()
    await fake.start()
    try:
        async with discord_bot(fake, storage, redis_url, limits=limits):
            yield DiscordDriver(fake, storage)
    finally:
        await fake.stop()


# ---- web: the aiohttp app through a test client (a browser's cookie jar) -------------------
class WebDriver(Driver):
    platform = "web"

    def __init__(self, client: TestClient, user_id: str) -> None:
        self.client = client
        self.user_id = user_id
        self.texts: list[str] = []
        self.ready = 0
        self.frames: list[dict[str, Any]] = []

    async def follow(self) -> None:
        """The page's WebSocket: every job frame, as the browser receives them."""
        async with self.client.ws_connect("/api/events") as ws:
            async for msg in ws:
                frame = msg.json()
                if frame.get("type") == "job":
                    self.frames.append(frame["job"])

    async def _post(self, path: str, body: dict[str, Any]) -> None:
        resp = await self.client.post(path, json={"id": uuid.uuid4().hex, **body})
        assert resp.status == 200, await resp.text()
        self.texts.append((await resp.json())["text"])

    async def send_text(self, text: str) -> None:
        await self._post("/api/messages", {"text": text})

    async def command(self, name: str, arg: str = "") -> None:
        await self.send_text(f"/{name} {arg}".strip())

    async def press(self, kind: str, job_id: str) -> None:
        if kind == "cancel":
            await self._post(f"/api/jobs/{job_id}/cancel", {})
        else:
            await self._post(f"/api/jobs/{job_id}/again", {"vary": kind == "vary"})

    def seen(self) -> list[str]:
        return list(self.texts)

    def clips(self) -> int:
        return self.ready

    def progress_seen(self) -> bool:  # a live frame showed the job running or done
        return any(f["state"] in ("running", "done") for f in self.frames)

    async def wait_for_clip(self, n: int = 1, timeout: float = 120.0) -> None:
        """The browser learns of clips through its history and streams them from /clips."""
        async def count() -> int:
            jobs = (await (await self.client.get("/api/history")).json())["jobs"]
            ready = 0
            for job in jobs:
                if job["state"] == "done":
                    clip = await self.client.get(f"/clips/{job['id']}")
                    ready += clip.status == 200 and clip.content_type == "video/mp4"
            return ready

        async def poll() -> None:
            while (ready := await count()) < n:
                await asyncio.sleep(0.1)
            self.ready = ready

        await asyncio.wait_for(poll(), timeout)


@contextlib.asynccontextmanager
async def web(storage: Storage, redis_url: str, limits: QuotaLimits, faults: Faults
              ) -> AsyncIterator[Driver]:
    _no_faults(faults)
    settings = Settings(_env_file=None,  # type: ignore[call-arg]
                        redis_prefix=storage.keys.prefix, web_password="",
                        web_secret=f"contract-{storage.keys.prefix}-5Qz8rW2mXk7vB4nJ",
                        bot_id=f"web-{storage.keys.prefix}")
    service = ClipService(storage, CoreConfig(limits=limits))
    server = TestServer(create_app(settings, storage, service))
    await server.start_server()
    client = TestClient(server, headers={"Accept-Language": "en"})
    await client.start_server()
    try:
        assert (await client.get("/")).status == 200  # the session cookie
        driver = WebDriver(client, await _web_user(client))
        follower = asyncio.create_task(driver.follow())
        try:
            yield driver
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
    finally:
        await client.close()
        await server.close()


async def _web_user(client: TestClient) -> str:
    """The session's user id, as /mydata's export names it."""
    resp = await client.get("/api/mydata")
    data = await resp.json(content_type=None)
    return str(data["user"]).removeprefix("web:")


DRIVERS = {"telegram": telegram, "whatsapp": whatsapp, "discord": discord, "web": web}
