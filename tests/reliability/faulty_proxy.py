"""A TCP proxy in front of Redis that loses one reply, or holds one command, on purpose.

``arm(pattern)``: the next command containing ``pattern`` is forwarded and run, then the
connection is cut instead of passing the reply on: what a network blip or a NAT timeout
does. redis-py's retry then sends the same command again, so it runs twice; everything
retried this way has to be idempotent.

``hold(pattern)``: the next command containing ``pattern`` is never forwarded; ``held`` is
set, so a test can SIGKILL the process at exactly that point of a job.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlparse


class FaultyRedisProxy:
    def __init__(self, upstream_url: str) -> None:
        u = urlparse(upstream_url)
        self.host, self.upstream_port = u.hostname or "127.0.0.1", u.port or 6379
        self.db = u.path.lstrip("/") or "0"
        self.pattern: bytes | None = None
        self.fired = asyncio.Event()
        self.hold_pattern: bytes | None = None
        self.held = asyncio.Event()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}/{self.db}"

    async def start(self) -> FaultyRedisProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def arm(self, pattern: bytes) -> None:
        self.pattern = pattern

    def hold(self, pattern: bytes) -> None:
        self.hold_pattern = pattern

    async def _serve(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        ur, uw = await asyncio.open_connection(self.host, self.upstream_port)
        cutting = asyncio.Event()

        async def upstream() -> None:
            while data := await cr.read(65536):
                if self.hold_pattern is not None and self.hold_pattern in data:
                    self.hold_pattern = None
                    self.held.set()
                    while await cr.read(65536):  # never forwarded, never answered
                        pass
                    return
                uw.write(data)
                await uw.drain()
                if self.pattern is not None and self.pattern in data:
                    self.pattern = None  # one fault only
                    cutting.set()

        async def downstream() -> None:
            while data := await ur.read(65536):
                if cutting.is_set():  # the reply to the armed command: swallow it
                    self.fired.set()
                    return
                cw.write(data)
                await cw.drain()

        tasks = [asyncio.create_task(upstream()), asyncio.create_task(downstream())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for writer in (cw, uw):
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
