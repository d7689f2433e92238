"""The errors clipbot raises on purpose. The CLI prints a ``ClipbotError`` as one line on
stderr (no traceback) and exits with its ``exit_code``."""

from __future__ import annotations


class ClipbotError(Exception):
    """A problem the operator can fix; its message says how, in one line."""

    exit_code = 1


class ConfigError(ClipbotError):
    """A missing or inconsistent setting (``CLIPBOT_*``), found before anything starts."""

    exit_code = 2
