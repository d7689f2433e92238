"""The command table: every chat command is answered here, once, for every platform.

Adapters parse a platform event into ``(who, name, arg)``, call ``Commands.run`` (or one
of the button entry points) and render the returned ``Reply`` with their own widgets. A
reply never names a platform: buttons are neutral (``ButtonKind``), a file is bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bots.core import operator, render
from bots.core.service import ClipService, Refusal, Submitted, Who
from bots.i18n import available, catalog, duration, t
from storage import QuotaView
from storage.grants import GrantError

USER_COMMANDS = ("start", "help", "quota", "status", "cancel", "forget", "mydata", "lang")
# Refusals that concern only the person who pressed or typed: never shown to a group.
PRIVATE_REFUSALS = frozenset({"again_not_yours", "not_found", "banned", "quota_clips",
                              "quota_gpu", "inflight", "pool_clips"})
_USAGE = {"grant": "grant_usage", "ban": "ban_usage"}


class ButtonKind(StrEnum):
    CANCEL = "cancel"  # stop the job ``arg``
    RETRY = "retry"  # the job ``arg`` again, new seed
    VARY = "vary"  # the job ``arg`` again, new seed and a small change of shot
    LANG = "lang"  # choose the language ``arg``


@dataclass(frozen=True)
class Button:
    kind: ButtonKind
    arg: str
    label: str


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes
    mime: str
    caption: str = ""


@dataclass(frozen=True)
class Reply:
    """One answer. ``private``: for the asker's eyes only where the platform can do that
    (an ephemeral message, a button's own answer); ``lang``: the language the conversation
    switched to (adapters without a memory of their own, like the web, keep it)."""

    text: str
    key: str = ""  # the catalog key of ``text``'s main message
    file: Attachment | None = None
    buttons: tuple[Button, ...] = ()
    private: bool = False
    lang: str | None = None


class Memory(Protocol):
    """What an adapter remembers per user beyond the core's records."""

    async def set_lang(self, user_id: str, lang: str) -> None: ...
    async def forget(self, user_id: str) -> None: ...


@dataclass(frozen=True)
class Style:
    """What a platform's messages can hold."""

    text_max: int = render.MYDATA_CHARS
    always_file: bool = False  # /mydata always offers the whole export (the web's link)
    file_mime: str = "application/json"
    private_replies: bool = False  # the platform can answer one person inside a group


def parse_lang(arg: str) -> str | None:
    """'pt-BR' / 'PT' / 'zh_Hans' -> a supported code; anything else -> None."""
    code = arg.strip().replace("_", "-").split("-")[0].lower()
    return code if code in available() else None


def language_buttons() -> tuple[Button, ...]:
    return tuple(Button(ButtonKind.LANG, lang, catalog(lang).get("_language", lang))
                 for lang in available())


def job_buttons(locale: str, job_id: str, *kinds: ButtonKind) -> tuple[Button, ...]:
    return tuple(Button(kind, job_id, t(locale, f"btn_{kind.value}")) for kind in kinds)


def notice(who: Who, key: str) -> Reply:
    """A plain catalog message (an unreadable photo, a sticker...) as a reply."""
    return Reply(t(who.locale, key), key)


def answer(who: Who, res: Submitted | Refusal) -> Reply:
    """A request's outcome: the acknowledgement with a Cancel button, or the refusal."""
    if isinstance(res, Refusal):
        return Reply(render.refusal(who.locale, res), res.key,
                     private=res.key in PRIVATE_REFUSALS)
    return Reply(render.ack(who.locale, res), "ack",
                 buttons=job_buttons(who.locale, res.job_id, ButtonKind.CANCEL))


class Commands:
    def __init__(self, service: ClipService, memory: Memory | None = None,
                 style: Style | None = None) -> None:
        self.service = service
        self.memory = memory
        self.style = style or Style()

    @staticmethod
    def knows(name: str) -> bool:
        return name in USER_COMMANDS or name in operator.ACTIONS

    async def run(self, who: Who, name: str, arg: str = "", *, group: bool = False) -> Reply:
        """Answer ``/name arg``; ``group``: said where others can read the answer."""
        name = name.lower()
        loc = who.locale
        if name in ("start", "help"):
            key = "welcome" if name == "start" else "help"
            return Reply(t(loc, key), key)
        if name == "quota":
            return Reply(render.quota(loc, await self.service.quota(who)), "quota", private=True)
        if name == "status":
            jobs = await self.service.my_jobs(who)
            return Reply(render.status(loc, jobs), "status", private=True)
        if name == "cancel":
            return await self.cancel(who)
        if name == "forget":
            return await self.forget(who)
        if name == "mydata":
            return await self.mydata(who, group=group)
        if name == "lang":
            return await self.choose_lang(who, arg)
        if name in operator.ACTIONS:
            return await self.operator_text(who, name, arg.split())
        return Reply(t(loc, "unknown_command", command="/" + name[:30]), "unknown_command")

    async def cancel(self, who: Who, job_id: str | None = None) -> Reply:
        key = await self.service.cancel(who, job_id)
        return Reply(t(who.locale, key), key, private=True)

    async def forget(self, who: Who) -> Reply:
        await self.service.forget(who)
        if self.memory is not None:
            await self.memory.forget(who.user_id)
        return Reply(t(who.locale, "forget_done"), "forget_done", private=True)

    async def mydata(self, who: Who, *, group: bool = False) -> Reply:
        if group and not self.style.private_replies:  # never show one person's data to a group
            return Reply(t(who.locale, "mydata_private"), "mydata_private")
        data = await self.service.export(who)
        out = render.mydata(who.locale, data, max_chars=self.style.text_max)
        file = None
        text = out.text
        if out.needs_file or self.style.always_file:
            file = Attachment(render.MYDATA_FILENAME, render.mydata_json(data),
                              self.style.file_mime, t(who.locale, "mydata_file"))
        return Reply(text, "mydata", file=file, private=True)

    async def choose_lang(self, who: Who, arg: str) -> Reply:
        """``/lang xx`` or a language button: switch, or offer the choices."""
        lang = parse_lang(arg) if arg.strip() else None
        if lang is None:
            return Reply(t(who.locale, "lang_choose"), "lang_choose", buttons=language_buttons())
        if self.memory is not None:
            await self.memory.set_lang(who.user_id, lang)
        return Reply(t(lang, "lang_set"), "lang_set", lang=lang)

    # ---- operators ----------------------------------------------------------------------
    async def operator_text(self, who: Who, name: str, args: Sequence[str]) -> Reply:
        """``/grant 123 9``, ``/ban 123``…: parsed here, carried out by ``operator``."""
        if not self.service.is_admin(who):
            return Reply(t(who.locale, "admin_only"), "admin_only", private=True)
        try:
            order = operator.parse_order(who.platform, name, args)
        except GrantError:
            key = _USAGE.get(name, "user_usage")
            return Reply(t(who.locale, key, command="/" + name), key, private=True)
        return await self.operator(who, order)

    async def operator(self, who: Who, order: operator.Order) -> Reply:
        """A checked order (from a platform's structured options, or ``operator_text``)."""
        loc = who.locale
        if not self.service.is_admin(who):
            return Reply(t(loc, "admin_only"), "admin_only", private=True)
        out = await operator.carry_out(self.service.storage, self.service.config.limits, order)
        if isinstance(out, operator.Stats):
            return Reply(stats_text(loc, out), "stats", private=True)
        return Reply(f"{t(loc, 'admin_done')} {order.user}: {user_text(loc, out)}",
                     "admin_done", private=True)


def stats_text(locale: str, s: operator.Stats) -> str:
    return t(locale, "stats", queued=s.queued, running=s.running, engines=s.engines,
             done=s.done, failed=s.failed, cancelled=s.cancelled,
             avg=duration(locale, s.avg_job_s) if s.avg_job_s else "–")


def user_text(locale: str, view: QuotaView) -> str:
    text = render.quota(locale, view)
    return f"{text} {t(locale, 'admin_banned')}" if view.banned else text
