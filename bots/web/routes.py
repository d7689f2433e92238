"""The chat's HTTP endpoints: parse the request, call the core, render the answer."""

from __future__ import annotations

import asyncio
import html
import json
from typing import Any

from aiohttp import web

from bots.core import render
from bots.core.commands import ButtonKind, Reply, answer
from bots.core.images import MAX_BYTES as MAX_IMAGE_BYTES
from bots.core.options import ASPECTS, VideoOptions
from bots.core.service import Refusal, Submitted, Who
from bots.i18n import available, t
from bots.web.clips import owned_job
from bots.web.context import (
    LANG_COOKIE,
    LOCALE,
    SESSION,
    ApiError,
    ctx,
    locale,
    read_json,
    safe_id,
    session,
    who,
)
from bots.web.login import check_login_rate
from bots.web.middleware import set_session_cookie
from bots.web.session import MAX_AGE_S, Session
from bots.web.texts import client_strings, direction, languages
from bots.web.upload import is_upload, read_upload
from bots.web.views import JobUpdate, job_view

HISTORY = 20
LOGIN_FAIL_DELAY_S = 1.0  # slows down password guessing
MYDATA_PATH = "/api/mydata"
ASPECT_LABELS = {"16:9": "web_aspect_wide", "9:16": "web_aspect_tall", "1:1": "web_aspect_square"}


async def index(request: web.Request) -> web.Response:
    loc = locale(request)
    boot = await _boot(request, loc)
    # JSON inside <script type="application/json">: only "</" could end it early.
    data = json.dumps(boot, ensure_ascii=False).replace("<", "\\u003c")
    page = (
        ctx(request).index_html.replace("__LANG__", loc)
        .replace("__DIR__", direction(loc))
        .replace("__TITLE__", html.escape(boot["strings"]["web_title"]))
        .replace("__NOSCRIPT__", html.escape(t(loc, "web_noscript")))
        .replace("__BOOT__", data)
    )
    return web.Response(text=page, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


async def boot(request: web.Request) -> web.Response:
    """Strings and state for the page; ``?lang=xx`` switches (and remembers) the language."""
    loc = locale(request)
    wanted = request.query.get("lang")
    if wanted is not None:
        if wanted not in available():
            raise ApiError(400, "web_bad_request")
        loc = request[LOCALE] = wanted
    response = web.json_response(await _boot(request, loc))
    if wanted is not None:
        _remember_lang(response, loc)
    return response


async def _boot(request: web.Request, loc: str) -> dict[str, Any]:
    engines = await ctx(request).storage.engines.live()
    s = session(request)
    return {
        "lang": loc,
        "dir": direction(loc),
        "strings": client_strings(loc),
        "languages": languages(),
        "aspects": [{"value": a, "key": ASPECT_LABELS[a]} for a in ASPECTS],
        "image_max_bytes": MAX_IMAGE_BYTES,
        "preview": any(e.preview for e in engines),
        "engines": len(engines),
        "password": bool(ctx(request).signer.password),
        "authed": s.authed,
    }


async def login(request: web.Request) -> web.Response:
    await check_login_rate(request)  # before anything else: parallel guesses count too
    body = await read_json(request)
    attempt = body.get("password")
    c = ctx(request)
    if not isinstance(attempt, str) or not c.signer.check_password(attempt):
        await asyncio.sleep(LOGIN_FAIL_DELAY_S)
        raise ApiError(401, "web_password_wrong")
    s = session(request)
    new = Session(s.user_id, authed=True, fresh=True)
    request[SESSION] = new
    response = web.json_response({"ok": True})
    set_session_cookie(request, response, new)
    return response


async def message(request: web.Request) -> web.Response:
    """One chat message: a command, or a prompt (with an optional photo, sent as
    multipart/form-data) that becomes a queued job."""
    person = who(request)  # before reading a photo nobody may act for
    image: bytes | None = None
    if is_upload(request):
        # Refused without reading a byte of the body when no engine takes photos.
        if (early := await ctx(request).service.image_refusal(person, None)) is not None:
            return web.json_response(await _answer(request, person, early))
        upload = await read_upload(request)
        body: dict[str, Any] = {"text": "", **upload.fields}
        image = upload.image
    else:
        body = await read_json(request)
    msg_id, text, aspect = body.get("id"), body.get("text"), body.get("aspect")
    safe_id(msg_id)
    if not isinstance(text, str) or (aspect is not None and aspect not in ASPECTS):
        raise ApiError(400, "web_bad_request")
    service = ctx(request).service
    res: Submitted | Refusal | None = None
    if image is not None:
        # With a photo the text is the motion prompt, never a command.
        res = await service.image_refusal(person, len(image))
    elif text.strip().startswith("/"):
        return await _command(request, person, text.strip())
    if res is None:
        res = await service.request_video(
            person, text, idem_key=f"web:{person.user_id}:{msg_id}", reply={"msg": msg_id},
            defaults=VideoOptions(aspect=aspect or ASPECTS[0]), image=image,
        )
    return web.json_response(await _answer(request, person, res))


async def again(request: web.Request) -> web.Response:
    """Retry (same prompt, new seed) or Vary (a small change of shot)."""
    body = await read_json(request)
    msg_id = safe_id(body.get("id"))
    person = who(request)
    job = await owned_job(request)
    res = await ctx(request).service.again(
        person, job.id, vary=bool(body.get("vary")), idem_key=f"web:{person.user_id}:{msg_id}",
        reply={"msg": msg_id},
    )
    return web.json_response(await _answer(request, person, res))


async def _answer(request: web.Request, person: Who, res: Submitted | Refusal) -> dict[str, Any]:
    loc = person.locale
    reply = answer(person, res)
    if isinstance(res, Refusal):
        return {"kind": "refusal", "key": res.key, "text": reply.text}
    c = ctx(request)
    job = await c.storage.jobs.get(res.job_id)
    view = None
    if job is not None:
        c.hub.track(person.user, job.id, res.position)
        view = job_view(JobUpdate(job, position=res.position, eta_s=res.eta_s), loc)
    return {"kind": "ack", "text": reply.text, "job": view}


async def cancel(request: web.Request) -> web.Response:
    person = who(request)
    job = await owned_job(request)
    reply = await ctx(request).commands.cancel(person, job.id)
    return web.json_response(_reply_body(person.locale, reply))


async def history(request: web.Request) -> web.Response:
    """The browser's recent jobs, oldest first, so a reload shows the conversation again."""
    s = session(request)
    if s.fresh:
        return web.json_response({"jobs": []})
    c, loc = ctx(request), locale(request)
    jobs = await c.service.my_jobs(Who("web", s.user_id, s.user_id, loc), limit=HISTORY)
    views = []
    for job in reversed(jobs):
        position = await c.storage.jobs.position(job.id) if not job.state.final else 0
        eta = await c.service.eta(position) if position else 0.0
        if not job.state.final:
            c.hub.track(job.user, job.id, position)
        views.append(job_view(JobUpdate(job, position=position, eta_s=eta), loc))
    return web.json_response({"jobs": views})


async def job(request: web.Request) -> web.Response:
    j = await owned_job(request)
    c = ctx(request)
    position = await c.storage.jobs.position(j.id) if not j.state.final else 0
    eta = await c.service.eta(position) if position else 0.0
    return web.json_response(job_view(JobUpdate(j, position=position, eta_s=eta),
                                      locale(request)))


async def mydata(request: web.Request) -> web.Response:
    """Everything stored about this browser's user, as a JSON file (their session only)."""
    data = await ctx(request).service.export(who(request))
    return web.Response(
        body=render.mydata_json(data), content_type="application/json", charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{render.MYDATA_FILENAME}"',
                 "Cache-Control": "no-store"},
    )


async def healthz(request: web.Request) -> web.Response:
    await ctx(request).storage.redis.ping()
    return web.Response(text="ok")


async def _command(request: web.Request, person: Who, text: str) -> web.Response:
    name, _, arg = text[1:].partition(" ")
    reply = await ctx(request).commands.run(person, name, arg)
    response = web.json_response(_reply_body(person.locale, reply))
    if reply.lang is not None:  # the browser keeps the language in a cookie
        _remember_lang(response, reply.lang)
    return response


def _reply_body(loc: str, reply: Reply) -> dict[str, Any]:
    """A core reply as the page shows it: language choices open the page's picker; a file
    is offered as a link to download the whole export (the session's own)."""
    if any(b.kind is ButtonKind.LANG for b in reply.buttons):
        return {"kind": "lang", "text": reply.text}
    body: dict[str, Any] = {"kind": "reply", "text": reply.text}
    if reply.file is not None:
        body["link"] = {"href": MYDATA_PATH, "label": t(loc, "mydata_download"),
                        "filename": reply.file.name}
    if reply.lang is not None:
        body["lang"] = reply.lang
    return body


def _remember_lang(response: web.StreamResponse, lang: str) -> None:
    response.set_cookie(LANG_COOKIE, lang, max_age=MAX_AGE_S, httponly=True,
                        samesite="Lax", path="/")
