"""One inbound WhatsApp message -> the conversation core -> localised replies."""

from __future__ import annotations

import logging
import time

import aiohttp

from bots.core.commands import ButtonKind, Commands, Reply, Style, answer, notice
from bots.core.images import MAX_BYTES as MAX_IMAGE_BYTES
from bots.core.service import ClipService, Refusal, Submitted, Who
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
        self.commands = Commands(service, memory=state, style=Style(file_mime=MYDATA_MIME))

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
            name, _, arg = msg.text.strip()[1:].partition(" ")
            await self._reply(who, await self.commands.run(who, name, arg))
        elif msg.kind == "text":
            await self._video(who, msg, msg.text)
        elif msg.kind == "button":
            await self._again(who, msg)
        elif msg.kind == "image":
            await self._image(who, msg)
        else:
            await self._reply(who, notice(who, "wa_unsupported"))

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
            await self._reply(who, answer(who, Refusal("not_found")))
            return
        action, job_id = parsed
        res = await self.service.again(
            who, job_id, vary=action == VARY, idem_key=f"{PLATFORM}:{msg.message_id}",
            reply=_reply(msg),
        )
        await self._answer(who, msg, res)

    async def _answer(self, who: Who, msg: Inbound, res: Submitted | Refusal) -> None:
        await self._reply(who, answer(who, res))
        if isinstance(res, Refusal):
            return
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
            await self._reply(who, notice(who, "image_bad"))
            return
        res = await self.service.request_video(
            who, msg.text, idem_key=f"{PLATFORM}:{msg.message_id}", reply=_reply(msg),
            image=data,
        )
        await self._answer(who, msg, res)

    async def _reply(self, who: Who, reply: Reply) -> None:
        """Render a core reply and send it: language choices become a list of /lang
        commands (more than WhatsApp's three reply buttons); the ack stays plain text
        (/cancel works); a file follows as a document."""
        text = reply.text
        langs = [b.arg for b in reply.buttons if b.kind is ButtonKind.LANG]
        if langs:
            text += "\n" + ", ".join(f"/lang {code}" for code in langs)
        await self._say(who, text)
        if reply.file is None:
            return
        try:
            media_id = await self.graph.upload(reply.file.data, reply.file.mime,
                                               reply.file.name)
            await self.graph.send_document(who.chat_id, media_id, reply.file.name,
                                           reply.file.caption)
        except (GraphError, aiohttp.ClientError) as exc:
            log.warning("could not send %s: %s", reply.file.name, exc)

    async def _say(self, who: Who, text: str) -> None:
        await self.graph.send_text(who.chat_id, text)


def _reply(msg: Inbound) -> dict[str, str]:
    """Stored with the job: the message to keep "typing…" on while it runs."""
    return {"wamid": msg.message_id}
