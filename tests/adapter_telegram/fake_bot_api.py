"""A local stand-in for the Telegram Bot API, at the HTTP level, on 127.0.0.1.

Speaks the documented protocol: ``POST /bot<token>/<method>`` with JSON, url-encoded or
multipart parameters, answers ``{"ok": true, "result": ...}`` or ``{"ok": false,
"error_code", "description", "parameters"}``; ``getUpdates`` long-polls with offset
confirmation; files at ``/file/bot<token>/<path>``. Everything received is recorded.

Flood control: edits to one chat closer together than ``edit_min_interval_s`` get a 429
with ``retry_after``; an edit that arrives before that time is over is a *violation*
(recorded), which is what the adapter's tests prove never happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web
from PIL import Image

BOT_ID = 4242
BOT_USERNAME = "clip_test_bot"
# Parameters the Bot API takes as JSON-serialised values inside form fields.
JSON_FIELDS = frozenset({"reply_markup", "reply_parameters", "commands", "allowed_updates",
                         "entities", "caption_entities", "scope", "link_preview_options"})
INT_FIELDS = frozenset({"message_id", "offset", "limit", "timeout", "width", "height",
                        "duration", "cache_time"})
BOOL_FIELDS = frozenset({"supports_streaming", "show_alert", "drop_pending_updates",
                         "disable_notification"})


@dataclass
class Upload:
    data: bytes
    filename: str
    content_type: str


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, Upload]
    at: float  # monotonic time of arrival


@dataclass
class FakeBotApi:
    token: str
    edit_min_interval_s: float = 1.0
    retry_after_s: int = 1
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)  # live ones
    sent: list[dict[str, Any]] = field(default_factory=list)  # every message made, in order
    files: dict[str, bytes] = field(default_factory=dict)
    lost: set[str] = field(default_factory=set)  # file ids getFile knows but downloads 404
    served: list[int] = field(default_factory=list)  # update ids handed out, repeats included
    rate_limited: list[Call] = field(default_factory=list)  # edits we answered with 429
    violations: list[Call] = field(default_factory=list)  # edits sent during a 429 wait
    blocked: set[int] = field(default_factory=set)  # chats whose user blocked the bot
    url: str = ""
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _confirmed: int = 0  # updates below this id were confirmed by an offset
    _update_ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    _message_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _last_edit: dict[int, float] = field(default_factory=dict)
    _quiet_until: dict[int, float] = field(default_factory=dict)
    _runner: web.AppRunner | None = None

    # ---- lifecycle --------------------------------------------------------------------
    async def start(self) -> FakeBotApi:
        app = web.Application(client_max_size=2100 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        # A long poll whose client went away must end, not hold the server open at close.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # ---- what a user does -------------------------------------------------------------
    async def inject(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates; one without ``update_id`` gets the next id."""
        update = {"update_id": next(self._update_ids), **update}
        async with self._arrived:
            self._updates.append(update)
            self._arrived.notify_all()
        return update

    def forget_confirmations(self) -> None:
        """As if the bot died before confirming: unconfirmed updates are served again."""
        self._confirmed = 0

    def add_file(self, data: bytes, *, lost: bool = False) -> str:
        """A file a user sent; ``lost`` ones are listed by getFile but their download fails
        (as when Telegram's file server errs or the file path has expired)."""
        file_id = f"file-{next(self._message_ids)}"
        self.files[file_id] = data
        if lost:
            self.lost.add(file_id)
        return file_id

    # ---- assertions -------------------------------------------------------------------
    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method.lower()]

    def texts_to(self, chat_id: int) -> list[str]:
        return [c.params["text"] for c in self.called("sendMessage")
                if c.params.get("chat_id") == chat_id]

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        """Text messages the bot sent to the chat (as they are now, edits included)."""
        return [m for m in self.sent if m["chat"]["id"] == chat_id and "text" in m]

    async def wait_for(self, check: Callable[[], Any], timeout: float = 30.0) -> Any:
        async def poll() -> Any:
            while not (result := check()):
                await asyncio.sleep(0.02)
            return result

        return await asyncio.wait_for(poll(), timeout)

    # ---- protocol ---------------------------------------------------------------------
    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"].lower()
        params, files = await _parameters(request)
        call = Call(method, params, files, time.monotonic())
        self.calls.append(call)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        if params.get("chat_id") in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        problem = _check_markup(params.get("reply_markup"))
        if problem:
            return _error(400, f"Bad Request: {problem}")
        return await handler(call)

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].removeprefix("photos/")
        data = None if file_id in self.lost else self.files.get(file_id)
        return web.Response(status=404) if data is None else web.Response(body=data)

    async def _api_getme(self, call: Call) -> web.Response:
        return _ok(self.bot_user | {"can_join_groups": True,
                                    "can_read_all_group_messages": False,
                                    "supports_inline_queries": False})

    async def _api_getupdates(self, call: Call) -> web.Response:
        offset = int(call.params.get("offset") or 0)
        self._confirmed = max(self._confirmed, offset)
        timeout = float(call.params.get("timeout") or 0)
        limit = int(call.params.get("limit") or 100)

        def pending() -> list[dict[str, Any]]:
            return [u for u in self._updates if u["update_id"] >= self._confirmed][:limit]

        async with self._arrived:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait_for(pending), timeout)
            updates = pending()
            self.served.extend(u["update_id"] for u in updates)
            return _ok(updates)

    async def _api_sendmessage(self, call: Call) -> web.Response:
        p = call.params
        if not str(p.get("text", "")).strip():
            return _error(400, "Bad Request: message text is empty")
        if len(p["text"]) > 4096:
            return _error(400, "Bad Request: message is too long")
        return _ok(self._new_message(p, {"text": p["text"]}))

    async def _api_editmessagetext(self, call: Call) -> web.Response:
        p = call.params
        chat = int(p["chat_id"])
        now = call.at
        if now < self._quiet_until.get(chat, 0.0):
            self.violations.append(call)
            return self._too_many(chat, now)
        if now - self._last_edit.get(chat, -1e9) < self.edit_min_interval_s:
            self.rate_limited.append(call)
            return self._too_many(chat, now)
        msg = self.messages.get((chat, int(p["message_id"])))
        if msg is None:
            return _error(400, "Bad Request: message to edit not found")
        if msg.get("text") == p["text"] and msg.get("reply_markup") == p.get("reply_markup"):
            return _error(400, "Bad Request: message is not modified")
        self._last_edit[chat] = now
        msg["text"] = p["text"]
        msg["edit_date"] = int(time.time())
        _set_markup(msg, p.get("reply_markup"))
        return _ok(msg)

    async def _api_sendvideo(self, call: Call) -> web.Response:
        video = call.files.get("video")
        if video is None:
            return _error(400, "Bad Request: there is no video in the request")
        problem = _check_thumbnail(call.files.get("thumbnail"))
        if len(call.params.get("caption", "")) > 1024:
            problem = "message caption is too long"
        if problem:
            return _error(400, f"Bad Request: {problem}")
        file_id = f"video-{next(self._message_ids)}"
        self.files[file_id] = video.data
        p = call.params
        body: dict[str, Any] = {"video": {
            "file_id": file_id, "file_unique_id": file_id, "width": p.get("width", 0),
            "height": p.get("height", 0), "duration": p.get("duration", 0),
            "mime_type": "video/mp4", "file_size": len(video.data),
        }}
        if p.get("caption"):
            body["caption"] = p["caption"]
        return _ok(self._new_message(p, body))

    async def _api_senddocument(self, call: Call) -> web.Response:
        doc = call.files.get("document")
        if doc is None:
            return _error(400, "Bad Request: there is no document in the request")
        if len(call.params.get("caption", "")) > 1024:
            return _error(400, "Bad Request: message caption is too long")
        file_id = f"doc-{next(self._message_ids)}"
        self.files[file_id] = doc.data
        body: dict[str, Any] = {"document": {
            "file_id": file_id, "file_unique_id": file_id, "file_name": doc.filename,
            "mime_type": doc.content_type, "file_size": len(doc.data)}}
        if call.params.get("caption"):
            body["caption"] = call.params["caption"]
        return _ok(self._new_message(call.params, body))

    async def _api_getfile(self, call: Call) -> web.Response:
        file_id = call.params.get("file_id", "")
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        return _ok({"file_id": file_id, "file_unique_id": file_id,
                    "file_size": len(self.files[file_id]), "file_path": f"photos/{file_id}"})

    async def _api_deletemessage(self, call: Call) -> web.Response:
        key = (int(call.params["chat_id"]), int(call.params["message_id"]))
        if self.messages.pop(key, None) is None:
            return _error(400, "Bad Request: message to delete not found")
        return _ok(True)

    async def _api_answercallbackquery(self, call: Call) -> web.Response:
        return _ok(True) if call.params.get("callback_query_id") else _error(
            400, "Bad Request: query id is required")

    async def _api_setmycommands(self, call: Call) -> web.Response:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or not all(
                1 <= len(c.get("command", "")) <= 32 and 1 <= len(c.get("description", "")) <= 256
                for c in commands):
            return _error(400, "Bad Request: invalid commands")
        return _ok(True)

    async def _api_deletewebhook(self, call: Call) -> web.Response:
        return _ok(True)

    async def _api_setwebhook(self, call: Call) -> web.Response:
        return _ok(True)

    async def _api_sendchataction(self, call: Call) -> web.Response:
        return _ok(True)

    # ---- helpers ----------------------------------------------------------------------
    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Clip", "username": BOT_USERNAME}

    def _new_message(self, p: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        chat = int(p["chat_id"])
        msg = {"message_id": next(self._message_ids), "date": int(time.time()),
               "chat": {"id": chat, "type": "private" if chat > 0 else "group"},
               "from": self.bot_user, **body}
        _set_markup(msg, p.get("reply_markup"))
        self.messages[(chat, msg["message_id"])] = msg
        self.sent.append(msg)
        return msg

    def _too_many(self, chat: int, now: float) -> web.Response:
        self._quiet_until[chat] = now + self.retry_after_s
        return web.json_response(
            {"ok": False, "error_code": 429,
             "description": f"Too Many Requests: retry after {self.retry_after_s}",
             "parameters": {"retry_after": self.retry_after_s}},
            status=429,
        )


async def _parameters(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """The Bot API accepts query strings, JSON, url-encoded and multipart bodies alike."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    ctype = request.content_type
    if ctype == "application/json":
        params.update(await request.json())
        return params, files
    if ctype == "multipart/form-data":
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader) or not part.name:
                continue
            if part.filename:
                files[part.name] = Upload(bytes(await part.read()), part.filename,
                                          part.headers.get("Content-Type", ""))
            else:
                params[part.name] = await part.text()
    elif ctype == "application/x-www-form-urlencoded":
        params.update(await request.post())
    # attach://name refers to a multipart file sent under that name.
    for name, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is not None:
                files[name] = upload
    return {k: _decode(k, v) for k, v in params.items()}, files


def _decode(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in JSON_FIELDS:
        return json.loads(value)
    if name in INT_FIELDS or (name == "chat_id" and value.lstrip("-").isdigit()):
        return int(value)
    if name in BOOL_FIELDS:
        return value.lower() == "true"
    return value


def _check_markup(markup: Any) -> str:
    """Telegram's rules for inline keyboards: labelled buttons, callback data 1-64 bytes."""
    if not markup:
        return ""
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                return "text buttons are unallowed in the inline keyboard"
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                return "BUTTON_DATA_INVALID"
    return ""


def _check_thumbnail(thumb: Upload | None) -> str:
    """The Bot API's thumbnail rules: JPEG, under 200 kB, at most 320 px a side."""
    if thumb is None:
        return ""
    try:
        with Image.open(io.BytesIO(thumb.data)) as img:
            fmt, size = img.format, img.size
    except OSError:
        return "thumbnail is not an image"
    if fmt != "JPEG" or len(thumb.data) > 200 * 1024 or max(size) > 320:
        return "wrong thumbnail: JPEG under 200 kB, at most 320x320 expected"
    return ""


def _set_markup(msg: dict[str, Any], markup: Any) -> None:
    if markup:
        msg["reply_markup"] = markup
    else:
        msg.pop("reply_markup", None)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description},
                             status=code)
