"""Telegram updates -> the conversation core -> localised replies. Thin on purpose."""

from __future__ import annotations

import logging

from telegram import (
    Bot,
    Document,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    MessageEntity,
    PhotoSize,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bots.core.commands import Commands, Reply, answer, notice
from bots.core.service import ClipService, Refusal, Submitted, Who
from bots.telegram.buttons import keyboard
from bots.telegram.parse import (
    PLATFORM,
    Action,
    addressed_to_us,
    callback_key,
    command_of,
    locale_for,
    message_key,
    parse_button,
    without_mention,
)
from bots.telegram.state import TelegramState

log = logging.getLogger("clipbot.telegram")

# A photo sent "as a file" arrives as a document; these are the formats the core accepts.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
CALLBACK_TEXT = 200  # Telegram's limit for a button's own answer


class Handlers:
    def __init__(self, service: ClipService, state: TelegramState, bot: Bot, *,
                 default_locale: str = "en") -> None:
        self.service = service
        self.state = state
        self.bot = bot
        self.default_locale = default_locale
        self.commands = Commands(service, memory=state)

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
        private = message.chat.type == ChatType.PRIVATE
        name, target, rest = command_of(message.text)
        if not name:
            prompt = self._request_in(message, message.text, private=private)
            if prompt is not None:
                await self._video(await self._who(update), message, prompt)
            return
        if target and not addressed_to_us(target, self.bot.username, private=private):
            return  # another bot's command
        if not target and not private and not self.commands.knows(name) and name != "video":
            return  # a bare unknown command in a group may be meant for another bot
        who = await self._who(update)
        if name == "video":
            await self._video(who, message, rest)
        else:
            reply = await self.commands.run(who, name, rest, group=not private)
            await self._reply(who, message.message_id, reply)

    def _request_in(self, message: Message, text: str, *, private: bool) -> str | None:
        """The prompt of a plain message, or None when it is not meant for us: in groups,
        privacy mode shows us only @mentions of the bot and replies to our messages."""
        if private:
            return text
        if self._replies_to_us(message) or self._mentions_us(message):
            return without_mention(text, self.bot.username)
        return None

    async def on_photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or update.effective_user is None:
            return
        private = message.chat.type == ChatType.PRIVATE
        name, target, caption = command_of(message.caption or "")
        if name == "video":
            if target and not addressed_to_us(target, self.bot.username, private=private):
                return
        elif name:  # another command as a caption: its words are the prompt, in private only
            if not private:
                return
        else:
            asked = self._request_in(message, message.caption or "", private=private)
            if asked is None:
                return
            caption = asked
        who = await self._who(update)
        # A photo, or one sent "as a file" (a document: full quality, any image type).
        media: PhotoSize | Document | None = (
            message.photo[-1] if message.photo else message.document)  # sizes: smallest first
        if media is None or (isinstance(media, Document) and media.mime_type not in IMAGE_TYPES):
            await self._reply(who, message.message_id, notice(who, "image_bad"))
            return
        res: Submitted | Refusal | None = await self.service.image_refusal(who, media.file_size)
        if res is None:
            data = await self._download(media)
            if data is None:
                await self._reply(who, message.message_id, notice(who, "image_bad"))
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
        await self._reply(who, message.message_id, notice(who, "empty_prompt"))

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
            reply = await self.commands.cancel(who, button.arg)
            await query.answer(reply.text[:CALLBACK_TEXT])
        elif button.action is Action.LANG:
            reply = await self.commands.choose_lang(who, button.arg)
            await query.answer()
            await query.edit_message_text(reply.text)
        else:
            reply_to = query.message.message_id if query.message else None
            res = await self.service.again(
                who, button.arg, vary=button.action is Action.VARY,
                idem_key=callback_key(query.id), reply={"message_id": reply_to},
            )
            reply = answer(who, res)
            if reply.private and who.chat_id != who.user_id:
                # Someone's own business (another member's clip, their quota): only the
                # person who pressed sees it, as the button's answer.
                await query.answer(reply.text[:CALLBACK_TEXT], show_alert=True)
                return
            await query.answer()
            await self._answer(who, reply_to, res)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("handling an update failed", exc_info=context.error)

    # ---- requests ---------------------------------------------------------------------
    async def _video(self, who: Who, message: Message, prompt: str) -> None:
        res = await self.service.request_video(
            who, prompt, idem_key=message_key(who.chat_id, message.message_id),
            reply={"message_id": message.message_id},
        )
        await self._answer(who, message.message_id, res)

    # ---- replies ----------------------------------------------------------------------
    async def _answer(self, who: Who, reply_to: int | None, res: Submitted | Refusal) -> None:
        reply = answer(who, res)
        if isinstance(res, Refusal):
            await self._reply(who, reply_to, reply)
            return
        # A re-delivered update finds the job acknowledged already: say nothing twice.
        if not await self.state.claim_ack(res.job_id):
            return
        sent = await self._reply(who, reply_to, reply)
        await self.state.set_status_message(res.job_id, sent.message_id)

    async def _reply(self, who: Who, reply_to: int | None, reply: Reply) -> Message:
        """Render a core reply (text, buttons, a file after it) and send it."""
        sent = await self._send(who, reply_to, reply.text, keyboard(reply.buttons))
        if reply.file is not None:
            await self.bot.send_document(
                who.chat_id, InputFile(reply.file.data, filename=reply.file.name),
                caption=reply.file.caption or None)
        return sent

    async def _send(self, who: Who, reply_to: int | None, text: str,
                    markup: InlineKeyboardMarkup | None = None) -> Message:
        # Quote the request in groups, where several people talk at once.
        quote = reply_to is not None and who.chat_id != who.user_id
        return await self.bot.send_message(
            who.chat_id, text, reply_markup=markup,
            reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)
            if quote and reply_to is not None else None,
        )

    def _mentions_us(self, message: Message) -> bool:
        name = "@" + (self.bot.username or "").lower()
        return any(
            (e.type == MessageEntity.MENTION and text.lower() == name)
            or (e.type == MessageEntity.TEXT_MENTION and e.user and e.user.id == self.bot.id)
            for e, text in message.parse_entities().items()
        ) or any(
            (e.type == MessageEntity.MENTION and text.lower() == name)
            for e, text in message.parse_caption_entities().items()
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
