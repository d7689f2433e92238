"""Helpers for the web chat tests: browsers as aiohttp test clients on one app."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient, TestServer

from storage import JobRecord, QuotaLimits, Storage

GENEROUS = QuotaLimits(daily_gpu_s=100_000, daily_clips=100, max_inflight=5, max_queue=100)


class Chat:
    """One running web app and the browsers (cookie jars) talking to it."""

    def __init__(self, server: TestServer, storage: Storage) -> None:
        self.server = server
        self.storage = storage
        self.clients: list[TestClient] = []

    async def browser(self, lang: str = "en") -> TestClient:
        """A new browser: its own cookie jar; gets its session cookie from the page."""
        client = TestClient(self.server, headers={"Accept-Language": lang})
        await client.start_server()
        self.clients.append(client)
        page = await client.get("/")
        assert page.status == 200
        return client

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
        await self.server.close()


MakeChat = Callable[..., Awaitable[Chat]]


async def send(client: TestClient, text: str, msg_id: str = "", **extra: Any) -> dict[str, Any]:
    body = {"id": msg_id or uuid.uuid4().hex, "text": text} | extra
    resp = await client.post("/api/messages", json=body)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def next_job_frame(ws: ClientWebSocketResponse, timeout: float = 60.0) -> dict[str, Any]:
    while True:
        frame = await ws.receive_json(timeout=timeout)
        if frame["type"] == "job":
            return frame["job"]


async def follow_until_final(
    ws: ClientWebSocketResponse, job_id: str, timeout: float = 90.0
) -> list[dict[str, Any]]:
    """Every update the browser sees for ``job_id`` up to and including the final one."""
    seen: list[dict[str, Any]] = []

    async def run() -> None:
        while True:
            job = await next_job_frame(ws, timeout)
            if job["id"] == job_id:
                seen.append(job)
                if job["final"]:
                    return

    await asyncio.wait_for(run(), timeout)
    return seen


async def wait_delivered(storage: Storage, job_id: str, timeout: float = 30.0) -> JobRecord:
    async def poll() -> JobRecord:
        while True:
            job = await storage.jobs.get(job_id)
            if job is not None and job.delivered:
                return job
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), timeout)
