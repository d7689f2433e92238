"""Inline keyboards attached to our messages."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bots.i18n import t
from bots.telegram.parse import Action, button_data
from bots.telegram.texts import language_names


def cancel_keyboard(locale: str, job_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton("❌ " + t(locale, "btn_cancel"),
                             callback_data=button_data(Action.CANCEL, job_id)),
    ]])


def again_keyboard(locale: str, job_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton("🔁 " + t(locale, "btn_retry"),
                             callback_data=button_data(Action.RETRY, job_id)),
        InlineKeyboardButton("✨ " + t(locale, "btn_vary"),
                             callback_data=button_data(Action.VARY, job_id)),
    ]])


def language_keyboard() -> InlineKeyboardMarkup:
    names = language_names()
    rows = [names[i:i + 3] for i in range(0, len(names), 3)]
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(name, callback_data=button_data(Action.LANG, code))
         for code, name in row]
        for row in rows
    ])
