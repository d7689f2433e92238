"""Structured logs (one JSON object per line) that keep users' privacy and operators' secrets.

- User ids are replaced by a salted hash (``sha256(salt + id)``, 12 hex): an operator can
  follow one user through the logs without the logs saying who it is.
- Prompts are dropped unless ``CLIPBOT_LOG_PROMPTS=1``.
- Bot tokens and other secrets are redacted from every line, including third-party
  libraries' (httpx logs Telegram URLs, which contain the token).

Log context goes in ``extra``: ``log.info("queued", extra={"user": who.user, "job": id,
"prompt": text})``; ``user``/``user_id``/``chat_id`` are hashed, ``prompt``/``negative_prompt``
are kept only when prompts are allowed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

HASHED_FIELDS = frozenset({"user", "user_id", "chat_id"})
PROMPT_FIELDS = frozenset({"prompt", "negative_prompt"})
REDACTED = "[redacted]"

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Telegram Bot API: https://api.telegram.org/bot123456:AA.../sendMessage (also /file/bot)
    (re.compile(r"\bbot\d{5,}:[A-Za-z0-9_-]{20,}"), "bot" + REDACTED),
    (re.compile(r"\b\d{5,}:AA[A-Za-z0-9_-]{30,}"), REDACTED),
    # HTTP Authorization headers: Bearer (WhatsApp Graph), Bot (Discord)
    (re.compile(r"\b(Bearer|Bot)\s+[A-Za-z0-9._~+/=-]{8,}", re.I), r"\1 " + REDACTED),
    # Query strings: access_token=..., hub.verify_token=..., token=..., secret=...
    (re.compile(r"((?:access_|verify_)?token|secret|password|api_key)=[^&\s\"']+", re.I),
     r"\1=" + REDACTED),
    # Passwords in URLs: redis://:pw@host, https://user:pw@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@", re.I), r"\1" + REDACTED + "@"),
)


def hash_user(user: str, salt: str) -> str:
    """A stable pseudonym for ``user`` within one deployment (first 12 hex of a sha256)."""
    return hashlib.sha256(f"{salt}\0{user}".encode()).hexdigest()[:12]


def redact(text: str, known: Iterable[str] = ()) -> str:
    """``text`` without the known secret values and anything that looks like a credential."""
    for value in known:
        if value and len(value) >= 6:  # a 1-char "secret" would shred every line
            text = text.replace(value, REDACTED)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites a record's message (and traceback) with secrets removed. Attach it to
    handlers, not loggers: handler filters also see records of other libraries."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        super().__init__()
        self.known = tuple(v for v in known if v)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg = redact(record.getMessage(), self.known)
            record.args = None
        except Exception:  # bad %-args: let the handler report it as logging always does
            return True
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact(value, self.known))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.known)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, then the record's ``extra`` fields."""

    # Timestamps in UTC, as the "Z" says (typeshed types the attribute as localtime's).
    converter = time.gmtime  # type: ignore[assignment]

    def __init__(self, *, salt: str, log_prompts: bool = False) -> None:
        super().__init__()
        self.salt = salt
        self.log_prompts = log_prompts

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(self.context(vars(record)))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, ensure_ascii=False, default=str)

    def context(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The ``extra`` fields of a record, with users hashed and prompts dropped."""
        out: dict[str, Any] = {}
        for key, value in fields.items():
            if key in _STANDARD or key.startswith("_"):
                continue
            if key in HASHED_FIELDS:
                out[key] = hash_user(str(value), self.salt)
            elif key in PROMPT_FIELDS:
                if self.log_prompts:
                    out[key] = value
            else:
                out[key] = value
        return out


@dataclass(frozen=True)
class LogOptions:
    level: str = "INFO"
    json: bool = True
    salt: str = ""
    log_prompts: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LogOptions:
        """Read ``CLIPBOT_LOG_LEVEL``/``_LOG_FORMAT`` (json|text)/``_LOG_SALT``/``_LOG_PROMPTS``
        (pass ``os.environ`` from the entry point)."""
        return cls(
            level=env.get("CLIPBOT_LOG_LEVEL", "INFO").upper(),
            json=env.get("CLIPBOT_LOG_FORMAT", "json").lower() != "text",
            salt=env.get("CLIPBOT_LOG_SALT", ""),
            log_prompts=env.get("CLIPBOT_LOG_PROMPTS", "") in ("1", "true", "yes"),
        )


_SECRET_FIELD = re.compile(r"(token|secret|password)\Z")


def settings_secrets(settings: object) -> list[str]:
    """Values of every ``*_token``/``*_secret``/``*_password`` setting, plus the Redis
    password, for ``setup_logging(secrets_to_hide=...)``."""
    fields = getattr(type(settings), "model_fields", {})
    found = [str(getattr(settings, name)) for name in fields if _SECRET_FIELD.search(name)]
    url = str(getattr(settings, "redis_url", ""))
    password = re.search(r"://[^/@\s]*:([^@/\s]+)@", url)
    found += [password.group(1)] if password else []
    return [value for value in found if value]


def setup_logging(
    options: LogOptions, *, secrets_to_hide: Iterable[str] = (), stream: TextIO | None = None
) -> logging.Handler:
    """Replace the root logger's handlers with one that redacts and (by default) writes JSON.

    Without a configured salt a random one is used: user hashes then only correlate within
    one process's lifetime, which is safe but less useful; set ``CLIPBOT_LOG_SALT``.
    """
    salt = options.salt or secrets.token_hex(16)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactSecrets(secrets_to_hide))
    if options.json:
        handler.setFormatter(JsonFormatter(salt=salt, log_prompts=options.log_prompts))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(options.level)
    # httpx logs every request URL at INFO (Telegram puts the token in it): keep it quieter.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    if not options.salt:
        logging.getLogger("clipbot").warning(
            "CLIPBOT_LOG_SALT is not set: user hashes change on every restart")
    return handler
