"""Telegram updates -> the conversation core -> localised replies. Thin on purpose."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import (
    Bot,
    Document,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    PhotoSize,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bots.core import render
from bots.core.service import ClipService, Refusal, Submitted, Who
from bots.i18n import normalize, t
from bots.telegram import admin
from bots.telegram.buttons import cancel_keyboard, language_keyboard
from bots.telegram.parse import (
    PLATFORM,
    Action,
    addressed_to_us,
    callback_key,
    command_of,
    locale_for,
    message_key,
    parse_button,
)
from bots.telegram.state import TelegramState

log = logging.getLogger("clipbot.telegram")

Command = Callable[[Who, Message, str], Awaitable[None]]
# A photo sent "as a file" arrives as a document; these are the formats the core accepts.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


class Handlers:
    def __init__(self, service: ClipService, state: TelegramState, bot: Bot, *,
                 default_locale: str = "en") -> None:
        self.service = service
        self.state = state
        self.bot = bot
        self.default_locale = default_locale
        self.commands: dict[str, Command] = {
            "start": self._start, "help": self._help, "video": self._video,
            "quota": self._quota, "status": self._status, "cancel": self._cancel,
            "lang": self._lang, "forget": self._forget, "mydata": self._mydata,
            "grant": self._admin, "ban": self._admin, "stats": self._admin,
        }

    def install(self, app: Application) -> None:
        new = filters.UpdateType.MESSAGE
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_handler(MessageHandler(new & (filters.PHOTO | filters.Document.IMAGE),
                                       self.on_photo))
        app.add_handler(MessageHandler(new & filters.TEXT, self.on_text))
        app.add_handler(MessageHandler(new & filters.ChatType.PRIVATE, self.on_other))
        app.add_error_handler(self.on_error)

    # ---- updates ----------------------------------------------------------------------
    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or update.effective_user is None or not message.text:
            return
        who = await self._who(update)
        private = message.chat.type == ChatType.PRIVATE
        name, target, rest = command_of(message.text)
        if not name:
            if private:
                await self._video(who, message, rest)
            elif self._replies_to_us(message):
                # Privacy mode shows us replies to our messages; plain text is not a request.
                await self._say(who, message, t(who.locale, "group_video_hint"))
            return
        handler = self.commands.get(name)
        if handler is not None and (not target or addressed_to_us(target, self.bot.username,
                                                                  private=private)):
            await handler(who, message, rest)
        elif addressed_to_us(target, self.bot.username, private=private):
            await self._say(who, message, t(who.locale, "unknown_command", command="/" + name))

    async def on_photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or update.effective_user is None:
            return
        private = message.chat.type == ChatType.PRIVATE
        name, target, caption = command_of(message.caption or "")
        if not private and not (name == "video" and (
                not target or addressed_to_us(target, self.bot.username, private=False))):
            return
        who = await self._who(update)
        # A photo, or one sent "as a file" (a document: full quality, any image type).
        media: PhotoSize | Document | None = (
            message.photo[-1] if message.photo else message.document)  # sizes: smallest first
        if media is None or (isinstance(media, Document) and media.mime_type not in IMAGE_TYPES):
            await self._say(who, message, t(who.locale, "image_bad"))
            return
        res: Submitted | Refusal | None = await self.service.image_refusal(who, media.file_size)
        if res is None:
            data = await self._download(media)
            if data is None:
                await self._say(who, message, t(who.locale, "image_bad"))
                return
            res = await self.service.request_video(
                who, caption, idem_key=message_key(who.chat_id, message.message_id),
                reply={"message_id": message.message_id}, image=data,
            )
        await self._answer(who, message.message_id, res)

    async def _download(self, media: PhotoSize | Document) -> bytes | None:
        try:
            return bytes(await (await media.get_file()).download_as_bytearray())
        except TelegramError as exc:  # NetworkError, a vanished file, a file over 20 MB...
            log.info("could not fetch the user's photo: %s", exc)
            return None

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, voice notes... in a private chat: explain what we need."""
        message = update.effective_message
        if message is None or update.effective_user is None:
            return
        who = await self._who(update)
        await self._say(who, message, t(who.locale, "empty_prompt"))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        if update.effective_chat is None:  # a button on an inline message: not ours
            await query.answer()
            return
        button = parse_button(query.data)
        if button is None:
            await query.answer()
            return
        who = await self._who(update)
        if button.action is Action.CANCEL:
            await query.answer(t(who.locale, await self.service.cancel(who, button.arg)))
        elif button.action is Action.LANG:
            lang = normalize(button.arg)
            await self.state.set_lang(who.user_id, lang)
            await query.answer()
            await query.edit_message_text(t(lang, "lang_set"))
        else:
            await query.answer()
            reply_to = query.message.message_id if query.message else None
            res = await self.service.again(
                who, button.arg, vary=button.action is Action.VARY,
                idem_key=callback_key(query.id), reply={"message_id": reply_to},
            )
            await self._answer(who, reply_to, res)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("handling an update failed", exc_info=context.error)

    # ---- commands ---------------------------------------------------------------------
    async def _video(self, who: Who, message: Message, prompt: str) -> None:
        res = await self.service.request_video(
            who, prompt, idem_key=message_key(who.chat_id, message.message_id),
            reply={"message_id": message.message_id},
        )
        await self._answer(who, message.message_id, res)

    async def _start(self, who: Who, message: Message, _: str) -> None:
        await self._say(who, message, t(who.locale, "welcome"))

    async def _help(self, who: Who, message: Message, _: str) -> None:
        await self._say(who, message, t(who.locale, "help"))

    async def _quota(self, who: Who, message: Message, _: str) -> None:
        await self._say(who, message, render.quota(who.locale, await self.service.quota(who)))

    async def _status(self, who: Who, message: Message, _: str) -> None:
        jobs = await self.service.my_jobs(who)
        await self._say(who, message, render.status(who.locale, jobs))

    async def _cancel(self, who: Who, message: Message, _: str) -> None:
        await self._say(who, message, t(who.locale, await self.service.cancel(who)))

    async def _lang(self, who: Who, message: Message, arg: str) -> None:
        lang = normalize(arg) if arg else ""
        if lang and lang == arg.strip().lower().split("-")[0]:
            await self.state.set_lang(who.user_id, lang)
            await self._say(who, message, t(lang, "lang_set"))
            return
        await self._say(who, message, t(who.locale, "lang_choose"), language_keyboard())

    async def _forget(self, who: Who, message: Message, _: str) -> None:
        await self.service.forget(who)
        await self.state.forget(who.user_id)
        await self._say(who, message, t(who.locale, "forget_done"))

    async def _mydata(self, who: Who, message: Message, _: str) -> None:
        if message.chat.type != ChatType.PRIVATE:  # never show one person's data to a group
            await self._say(who, message, t(who.locale, "mydata_private"))
            return
        data = await self.service.export(who)
        out = render.mydata(who.locale, data)
        await self._say(who, message, out.text)
        if out.needs_file:
            await self.bot.send_document(
                who.chat_id, InputFile(render.mydata_json(data), filename=render.MYDATA_FILENAME),
                caption=t(who.locale, "mydata_file"))

    async def _admin(self, who: Who, message: Message, args: str) -> None:
        name, _, _ = command_of(message.text or "")
        if not self.service.is_admin(who):
            await self._say(who, message, t(who.locale, "admin_only"))
            return
        text = await admin.run(self.service, who.locale, name, args.split())
        await self._say(who, message, text)

    # ---- replies ----------------------------------------------------------------------
    async def _answer(self, who: Who, reply_to: int | None, res: Submitted | Refusal) -> None:
        if isinstance(res, Refusal):
            await self._send(who, reply_to, render.refusal(who.locale, res))
            return
        # A re-delivered update finds the job acknowledged already: say nothing twice.
        if not await self.state.claim_ack(res.job_id):
            return
        sent = await self._send(who, reply_to, render.ack(who.locale, res),
                                cancel_keyboard(who.locale, res.job_id))
        await self.state.set_status_message(res.job_id, sent.message_id)

    async def _say(self, who: Who, message: Message, text: str,
                   keyboard: InlineKeyboardMarkup | None = None) -> None:
        await self._send(who, message.message_id, text, keyboard)

    async def _send(self, who: Who, reply_to: int | None, text: str,
                    keyboard: InlineKeyboardMarkup | None = None) -> Message:
        # Quote the request in groups, where several people talk at once.
        quote = reply_to is not None and who.chat_id != who.user_id
        return await self.bot.send_message(
            who.chat_id, text, reply_markup=keyboard,
            reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)
            if quote and reply_to is not None else None,
        )

    def _replies_to_us(self, message: Message) -> bool:
        replied = message.reply_to_message
        return bool(replied and replied.from_user and replied.from_user.id == self.bot.id)

    async def _who(self, update: Update) -> Who:
        user, chat = update.effective_user, update.effective_chat
        assert user is not None and chat is not None  # callers checked
        chosen = await self.state.lang(user.id)
        return Who(PLATFORM, str(user.id), str(chat.id),
                   locale_for(chosen, user.language_code, self.default_locale))
