"""A local, protocol-level stand-in for Discord: REST API + gateway WebSocket (aiohttp).

It speaks the wire format discord.py speaks to Discord: the bot logs in (``/users/@me``,
``/oauth2/applications/@me``), asks ``/gateway/bot`` for the WebSocket URL, gets HELLO,
sends IDENTIFY and heartbeats, gets READY; tests then push INTERACTION_CREATE payloads.
Interaction callbacks, webhook (follow-up) messages and channel messages are recorded.
Like Discord, it refuses a second answer to one interaction (40060), an answer after
3 s (10062), and a webhook call with an interaction token older than ``token_window_s``
(50027).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

API = "/api/v10"
DISCORD_EPOCH_MS = 1420070400000
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_RESUME = 0, 1, 2, 6
OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 9, 10, 11
EPHEMERAL = 64


@dataclass
class Upload:
    filename: str
    data: bytes
    content_type: str


@dataclass
class Call:
    """One REST request the bot made, as the fake understood it."""

    method: str
    route: str  # e.g. "callback", "edit_original", "followup", "channel_message"
    path: str
    payload: dict[str, Any]
    files: list[Upload] = field(default_factory=list)
    status: int = 200
    at: float = field(default_factory=time.monotonic)
    token: str = ""


@dataclass
class Token:
    interaction_id: str
    created: float
    channel_id: str = "0"
    answered: bool = False


class FakeDiscord:
    def __init__(self, *, bot_token: str = "fake-bot-token", token_window_s: float = 900.0,
                 answer_window_s: float = 3.0) -> None:
        self.bot_token = bot_token
        self.token_window_s = token_window_s
        self.answer_window_s = answer_window_s
        self._ids = itertools.count(1)
        self.app_id = self.snowflake()
        self.bot_user = _user(self.app_id, "clipbot", bot=True)
        self.calls: list[Call] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.identify: dict[str, Any] | None = None
        self.heartbeats = 0
        self.sessions = 0  # READY events sent (one per bot start)
        self.refuse_channels: set[str] = set()  # channels where posting is Forbidden
        self.attachments: dict[str, tuple[str, bytes]] = {}  # id -> (content type, bytes)
        self.downloads = 0  # attachment fetches from the fake CDN
        self._ws: web.WebSocketResponse | None = None
        self._seq = 0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        r = app.router
        r.add_get(f"{API}/users/@me", self._me)
        r.add_get(f"{API}/oauth2/applications/@me", self._application)
        r.add_get(f"{API}/gateway/bot", self._gateway_bot)
        r.add_put(f"{API}/applications/{{app}}/commands", self._commands)
        r.add_put(f"{API}/applications/{{app}}/guilds/{{guild}}/commands", self._commands)
        r.add_post(f"{API}/interactions/{{iid}}/{{token}}/callback", self._callback)
        r.add_route("*", f"{API}/webhooks/{{app}}/{{token}}/messages/{{mid}}", self._webhook_msg)
        r.add_post(f"{API}/webhooks/{{app}}/{{token}}", self._followup)
        r.add_post(f"{API}/channels/{{cid}}/messages", self._channel_message)
        r.add_post(f"{API}/users/@me/channels", self._open_dm)
        r.add_get("/attachments/{channel}/{aid}/{name}", self._attachment)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    # ---- helpers for tests ---------------------------------------------------------------
    def snowflake(self) -> str:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str((ms << 22) | (next(self._ids) & 0x3FFFFF))

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked after every recorded change)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            return predicate()

    async def wait_ready(self, sessions: int = 1, timeout: float = 30.0) -> None:
        """Wait until the bot has identified ``sessions`` times in all."""
        await self.wait_for(lambda: self._ws is not None and self.sessions >= sessions, timeout)

    def find(self, route: str, token: str | None = None) -> list[Call]:
        return [c for c in self.calls
                if c.route == route and (token is None or c.token == token)]

    def host_attachment(self, data: bytes, *, filename: str = "photo.png",
                        content_type: str = "image/png", size: int | None = None,
                        missing: bool = False) -> dict[str, Any]:
        """An attachment object as Discord resolves it in an interaction, served by this
        fake's CDN route. ``size`` overrides the declared size; ``missing`` makes it 404."""
        aid = self.snowflake()
        if not missing:
            self.attachments[aid] = (content_type, data)
        url = f"http://127.0.0.1:{self.port}/attachments/1/{aid}/{filename}"
        return {"id": aid, "filename": filename, "size": len(data) if size is None else size,
                "url": url, "proxy_url": url, "content_type": content_type}

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        assert self._ws is not None, "the bot is not connected to the gateway"
        self._seq += 1
        await self._ws.send_json({"op": OP_DISPATCH, "t": event, "s": self._seq, "d": data})

    async def interact(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Send an INTERACTION_CREATE (the same payload twice = a re-delivery)."""
        self.tokens.setdefault(
            payload["token"],
            Token(payload["id"], time.monotonic(), payload.get("channel_id", "0")),
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    # ---- gateway -------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": OP_HELLO, "d": {"heartbeat_interval": 41250},
                            "s": None, "t": None})
        async for msg in ws:
            data = json.loads(msg.data)
            op = data.get("op")
            if op == OP_HEARTBEAT:
                self.heartbeats += 1
                await ws.send_json({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
            elif op == OP_IDENTIFY:
                await self._ready(ws, data["d"])
            elif op == OP_RESUME:
                await ws.send_json({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
        if self._ws is ws:
            self._ws = None
        return ws

    async def _ready(self, ws: web.WebSocketResponse, identify: dict[str, Any]) -> None:
        assert identify["token"] == self.bot_token
        self._seq += 1
        await ws.send_json({"op": OP_DISPATCH, "t": "READY", "s": self._seq, "d": {
            "v": 10, "user": self.bot_user, "guilds": [], "session_id": secrets.token_hex(8),
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
            "shard": identify.get("shard", [0, 1]),
            "application": {"id": self.app_id, "flags": 0},
        }})
        async with self._changed:
            self._ws = ws
            self.identify = identify
            self.sessions += 1
            self._changed.notify_all()

    # ---- REST: bot-token routes ------------------------------------------------------------
    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.bot_token}"

    async def _me(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, 0, "401: Unauthorized")
        return _json(self.bot_user)

    async def _application(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, 0, "401: Unauthorized")
        return _json({
            "id": self.app_id, "name": "clipbot", "description": "", "icon": None,
            "bot_public": True, "bot_require_code_grant": False, "owner": _user("1", "owner"),
            "verify_key": "00", "flags": 0, "team": None,
        })

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, 0, "401: Unauthorized")
        return _json({
            "url": f"ws://127.0.0.1:{self.port}/gateway", "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                    "max_concurrency": 1},
        })

    async def _commands(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, 0, "401: Unauthorized")
        body = await request.json()
        for cmd in body:
            cmd.update(id=self.snowflake(), application_id=self.app_id, version="1")
        self.commands[request.match_info.get("guild", "global")] = body
        await self._record(Call("PUT", "commands", request.path, {"commands": body}))
        return _json(body)

    async def _channel_message(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, 0, "401: Unauthorized")
        cid = request.match_info["cid"]
        payload, files = await _read_body(request)
        if cid in self.refuse_channels:
            await self._record(Call("POST", "channel_message", request.path, payload, files, 403))
            return _error(403, 50013, "Missing Permissions")
        msg = self._message(cid, payload, files, author=self.bot_user)
        await self._record(Call("POST", "channel_message", request.path, payload, files))
        return _json(msg)

    async def _open_dm(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, 0, "401: Unauthorized")
        body = await request.json()
        channel = {"id": self.snowflake(), "type": 1, "last_message_id": None,
                   "recipients": [_user(body["recipient_id"], "someone")]}
        await self._record(Call("POST", "open_dm", request.path, body))
        return _json(channel)

    # ---- REST: interaction token routes ----------------------------------------------------
    def _check_token(self, token: str) -> web.Response | None:
        tok = self.tokens.get(token)
        if tok is None or time.monotonic() - tok.created > self.token_window_s:
            return _error(401, 50027, "Invalid Webhook Token")
        return None

    async def _callback(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        payload, files = await _read_body(request)
        tok = self.tokens.get(token)
        call = Call("POST", "callback", request.path, payload, files, token=token)
        if tok is None or tok.interaction_id != request.match_info["iid"] or (
            time.monotonic() - tok.created > self.answer_window_s
        ):
            call.status = 404
            await self._record(call)
            return _error(404, 10062, "Unknown interaction")
        if tok.answered:
            call.status = 400
            await self._record(call)
            return _error(400, 40060, "Interaction has already been acknowledged.")
        tok.answered = True
        data = payload.get("data") or {}
        msg = self._message(tok.channel_id, {**data, "content": data.get("content", "")}, files,
                            author=self.bot_user, original_of=token)
        if payload["type"] == 5:
            msg["flags"] = (data.get("flags") or 0) | 128  # "thinking…"
        await self._record(call)
        return _json({
            "interaction": {"id": tok.interaction_id, "type": 2,
                            "response_message_id": msg["id"],
                            "response_message_loading": payload["type"] == 5,
                            "response_message_ephemeral": bool(msg["flags"] & EPHEMERAL)},
            "resource": {"type": payload["type"], "message": msg},
        })

    async def _attachment(self, request: web.Request) -> web.Response:
        self.downloads += 1
        found = self.attachments.get(request.match_info["aid"])
        if found is None:
            return _error(404, 0, "404: Not Found")
        return web.Response(body=found[1], content_type=found[0])

    async def _webhook_msg(self, request: web.Request) -> web.Response:
        token, mid = request.match_info["token"], request.match_info["mid"]
        if (err := self._check_token(token)) is not None:
            await self._record(Call(request.method, "webhook_rejected", request.path, {},
                                    status=401, token=token))
            return err
        if mid == "@original":
            mid = next((m["id"] for m in self.messages.values()
                        if m.get("_original_of") == token), "")
        msg = self.messages.get(mid)
        if msg is None:
            return _error(404, 10008, "Unknown Message")
        if request.method == "DELETE":
            del self.messages[mid]
            await self._record(Call("DELETE", "delete_message", request.path, {"id": mid},
                                    token=token))
            return web.Response(status=204)
        if request.method == "GET":
            return _json(_public(msg))
        payload, files = await _read_body(request)
        msg.update({k: v for k, v in payload.items() if k != "attachments"})
        msg["flags"] = msg.get("flags", 0) & ~128
        msg["edited_timestamp"] = _now_iso()
        payload["id"] = mid
        await self._record(Call("PATCH", "edit_message", request.path, payload, files,
                                token=token))
        return _json(_public(msg))

    async def _followup(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        payload, files = await _read_body(request)
        if (err := self._check_token(token)) is not None:
            await self._record(Call("POST", "webhook_rejected", request.path, payload, files,
                                    status=401, token=token))
            return err
        msg = self._message(self.tokens[token].channel_id, payload, files, author=self.bot_user)
        msg["webhook_id"] = self.app_id
        await self._record(Call("POST", "followup", request.path, payload, files, token=token))
        return _json(_public(msg))

    def _message(self, channel_id: str, payload: dict[str, Any], files: list[Upload], *,
                 author: dict[str, Any], original_of: str | None = None) -> dict[str, Any]:
        mid = self.snowflake()
        msg = {
            "id": mid, "channel_id": channel_id, "type": 0, "author": author,
            "content": payload.get("content") or "", "embeds": payload.get("embeds") or [],
            "components": payload.get("components") or [],
            "attachments": [
                {"id": self.snowflake(), "filename": f.filename, "size": len(f.data),
                 "url": f"https://cdn.invalid/{f.filename}",
                 "proxy_url": f"https://cdn.invalid/{f.filename}",
                 "content_type": f.content_type}
                for f in files
            ],
            "mentions": [], "mention_roles": [], "mention_everyone": False, "pinned": False,
            "tts": False, "timestamp": _now_iso(), "edited_timestamp": None,
            "flags": payload.get("flags") or 0, "application_id": self.app_id,
        }
        if original_of:
            msg["_original_of"] = original_of
        self.messages[mid] = msg
        return _public(msg)


def _public(msg: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in msg.items() if not k.startswith("_")}


async def _read_body(request: web.Request) -> tuple[dict[str, Any], list[Upload]]:
    """JSON, or multipart with ``payload_json`` and ``files[n]`` parts (as discord.py sends)."""
    if not request.can_read_body:
        return {}, []
    if not request.content_type.startswith("multipart/"):
        return await request.json(), []
    payload: dict[str, Any] = {}
    files: list[Upload] = []
    reader = await request.multipart()
    async for part in reader:
        data = await part.read()  # type: ignore[union-attr]
        if part.name == "payload_json":  # type: ignore[union-attr]
            payload = json.loads(data)
        else:
            files.append(Upload(part.filename or "", bytes(data),  # type: ignore[union-attr]
                                part.headers.get("Content-Type", "")))
    return payload, files


def _json(data: Any, status: int = 200) -> web.Response:
    # Exactly this content type: discord.py decodes JSON only when it matches verbatim.
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json"})


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"code": code, "message": message}, status=status)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": user_id, "username": name, "discriminator": "0", "global_name": name,
            "avatar": None, "bot": bot, "public_flags": 0}
