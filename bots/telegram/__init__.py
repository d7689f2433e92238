"""Telegram adapter (python-telegram-bot): ``clipbot bots --telegram``."""

from __future__ import annotations

import os

# python-telegram-bot 22 warns whenever a time period is read as an int (RetryAfter builds
# its own message that way), and our warnings are errors: opt in to timedelta values now.
os.environ.setdefault("PTB_TIMEDELTA", "true")
