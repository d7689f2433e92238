"""Inline keyboards attached to our messages, drawn from the core's neutral buttons."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bots.core.commands import Button, ButtonKind, job_buttons
from bots.telegram.parse import Action, button_data

_ACTIONS = {ButtonKind.CANCEL: Action.CANCEL, ButtonKind.RETRY: Action.RETRY,
            ButtonKind.VARY: Action.VARY, ButtonKind.LANG: Action.LANG}
_ICONS = {ButtonKind.CANCEL: "❌ ", ButtonKind.RETRY: "🔁 ", ButtonKind.VARY: "✨ "}
LANGS_PER_ROW = 3


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """Job buttons on one row; language choices three to a row."""
    if not buttons:
        return None
    jobs = [b for b in buttons if b.kind is not ButtonKind.LANG]
    langs = [b for b in buttons if b.kind is ButtonKind.LANG]
    rows = [jobs] if jobs else []
    rows += [langs[i:i + LANGS_PER_ROW] for i in range(0, len(langs), LANGS_PER_ROW)]
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(_ICONS.get(b.kind, "") + b.label,
                              callback_data=button_data(_ACTIONS[b.kind], b.arg)) for b in row]
        for row in rows
    ])


def cancel_keyboard(locale: str, job_id: str) -> InlineKeyboardMarkup | None:
    return keyboard(job_buttons(locale, job_id, ButtonKind.CANCEL))


def again_keyboard(locale: str, job_id: str) -> InlineKeyboardMarkup | None:
    return keyboard(job_buttons(locale, job_id, ButtonKind.RETRY, ButtonKind.VARY))
