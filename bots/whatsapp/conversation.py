"""One inbound WhatsApp message -> the conversation core -> localised replies."""

from __future__ import annotations

import logging
import time

import aiohttp

from bots.core import render
from bots.core.images import MAX_BYTES as MAX_IMAGE_BYTES
from bots.core.service import ClipService, Refusal, Submitted, Who
from bots.i18n import available, normalize, t
from bots.whatsapp.delivery import release_held
from bots.whatsapp.graph import GraphClient, GraphError
from bots.whatsapp.phrases import VARY, guess_locale, parse_button
from bots.whatsapp.state import ChatState
from bots.whatsapp.webhook import Inbound

log = logging.getLogger("clipbot.whatsapp")
PLATFORM = "whatsapp"
# Meta takes text/plain documents but not application/json; the file is JSON all the same.
MYDATA_MIME = "text/plain"


class Conversation:
    def __init__(self, service: ClipService, graph: GraphClient, state: ChatState,
                 *, default_locale: str = "en") -> None:
        self.service = service
        self.graph = graph
        self.state = state
        self.default_locale = default_locale

    async def handle(self, msg: Inbound) -> None:
        """Answer one message, exactly once per WhatsApp message id."""
        if msg.phone_number_id and msg.phone_number_id != self.graph.phone_number_id:
            # Another number of the same business account: not ours to answer.
            return
        if not msg.sender or not await self.state.first_sight(msg.message_id):
            return
        now = time.time()
        # Meta's timestamp starts the 24-hour window; never trust one from the future.
        await self.state.saw_user(msg.sender, min(msg.timestamp or now, now))
        who = await self._who(msg.sender)
        await release_held(self.graph, self.state, who.user_id)
        if msg.kind == "text" and msg.text.lstrip().startswith("/"):
            await self._command(who, msg.text.strip())
        elif msg.kind == "text":
            await self._video(who, msg, msg.text)
        elif msg.kind == "button":
            await self._again(who, msg)
        elif msg.kind == "image":
            await self._image(who, msg)
        else:
            await self._say(who, t(who.locale, "wa_unsupported"))

    async def _who(self, wa_id: str) -> Who:
        chosen = await self.state.language(wa_id)
        locale = chosen or guess_locale(wa_id, self.default_locale)
        return Who(PLATFORM, wa_id, wa_id, locale)

    async def _video(self, who: Who, msg: Inbound, text: str) -> None:
        res = await self.service.request_video(
            who, text, idem_key=f"{PLATFORM}:{msg.message_id}", reply=_reply(msg)
        )
        await self._answer(who, msg, res)

    async def _again(self, who: Who, msg: Inbound) -> None:
        parsed = parse_button(msg.button_id)
        if parsed is None:
            await self._say(who, t(who.locale, "not_found"))
            return
        action, job_id = parsed
        res = await self.service.again(
            who, job_id, vary=action == VARY, idem_key=f"{PLATFORM}:{msg.message_id}",
            reply=_reply(msg),
        )
        await self._answer(who, msg, res)

    async def _answer(self, who: Who, msg: Inbound, res: Submitted | Refusal) -> None:
        if isinstance(res, Refusal):
            await self._say(who, render.refusal(who.locale, res))
            return
        await self._say(who, render.ack(who.locale, res))
        try:
            # Blue ticks plus "typing…" while the clip is made (refreshed on progress).
            await self.graph.mark_read(msg.message_id, typing=True)
        except (GraphError, aiohttp.ClientError) as exc:
            log.debug("typing indicator failed: %s", exc)

    async def _image(self, who: Who, msg: Inbound) -> None:
        """Photo + caption: image-to-video when an engine can, else a polite 'text only'."""
        refusal = await self.service.image_refusal(who, None)  # the download caps the size
        if refusal is not None:
            await self._answer(who, msg, refusal)
            return
        try:
            data, _mime = await self.graph.download(msg.media_id, MAX_IMAGE_BYTES)
        except (GraphError, aiohttp.ClientError) as exc:
            log.info("could not fetch the user's photo: %s", exc)
            await self._say(who, t(who.locale, "image_bad"))
            return
        res = await self.service.request_video(
            who, msg.text, idem_key=f"{PLATFORM}:{msg.message_id}", reply=_reply(msg),
            image=data,
        )
        await self._answer(who, msg, res)

    async def _command(self, who: Who, text: str) -> None:
        name, _, arg = text[1:].partition(" ")
        name = name.lower()
        if name in ("start", "help"):
            await self._say(who, t(who.locale, "welcome" if name == "start" else "help"))
        elif name == "quota":
            await self._say(who, render.quota(who.locale, await self.service.quota(who)))
        elif name == "status":
            jobs = await self.service.my_jobs(who)
            await self._say(who, render.status(who.locale, jobs))
        elif name == "cancel":
            await self._say(who, t(who.locale, await self.service.cancel(who)))
        elif name == "forget":
            await self.service.forget(who)
            await self.state.forget(who.user_id)
            await self._say(who, t(who.locale, "forget_done"))
        elif name == "mydata":
            await self._mydata(who)
        elif name == "lang":
            await self._language(who, arg.strip())
        else:
            await self._say(who, t(who.locale, "unknown_command", command="/" + name[:30]))

    async def _mydata(self, who: Who) -> None:
        """The user's data as text; the whole export as a mydata.json document when the
        text can't hold it all (the text says how many jobs it left out either way)."""
        data = await self.service.export(who)
        out = render.mydata(who.locale, data)
        await self._say(who, out.text)
        if not out.needs_file:
            return
        try:
            media_id = await self.graph.upload(render.mydata_json(data), MYDATA_MIME,
                                               render.MYDATA_FILENAME)
            await self.graph.send_document(who.chat_id, media_id, render.MYDATA_FILENAME,
                                           t(who.locale, "mydata_file"))
        except (GraphError, aiohttp.ClientError) as exc:
            log.warning("could not send mydata.json: %s", exc)

    async def _language(self, who: Who, arg: str) -> None:
        lang = normalize(arg) if arg else ""
        if not arg or (lang == "en" and not arg.lower().startswith("en")):
            choices = ", ".join(f"/lang {code}" for code in available())
            await self._say(who, t(who.locale, "lang_choose") + "\n" + choices)
            return
        await self.state.set_language(who.user_id, lang)
        await self._say(who, t(lang, "lang_set"))

    async def _say(self, who: Who, text: str) -> None:
        await self.graph.send_text(who.chat_id, text)


def _reply(msg: Inbound) -> dict[str, str]:
    """Stored with the job: the message to keep "typing…" on while it runs."""
    return {"wamid": msg.message_id}
