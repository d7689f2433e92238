"""Anonymous browser sessions: a signed cookie gives each browser a stable user id.

The cookie value is ``<user id>.<auth flag>.<HMAC-SHA256>``; anything that does not verify is
treated as no cookie at all. The HMAC also covers a digest of the operator password, so
changing the password logs every browser out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from clipbot.settings import secret_problem

COOKIE = "cb_session"
MAX_AGE_S = 365 * 86400
SECRET_FILE = "web_secret"
_USER_ID = re.compile(r"[A-Za-z0-9_-]{16}")  # used with fullmatch: no trailing newline


@dataclass(frozen=True)
class Session:
    user_id: str
    authed: bool  # passed the operator password (always True without one)
    fresh: bool  # minted on this request: the cookie must be (re)sent


class SessionSigner:
    def __init__(self, secret: bytes, password: str = "") -> None:
        self._secret = secret
        self.password = password
        self._pw_tag = hashlib.sha256(password.encode()).hexdigest()[:16] if password else "-"

    def _mac(self, user_id: str, authed: str) -> str:
        msg = f"{user_id}.{authed}.{self._pw_tag}".encode()
        digest = hmac.new(self._secret, msg, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, user_id: str, authed: bool) -> str:
        flag = "1" if authed else "0"
        return f"{user_id}.{flag}.{self._mac(user_id, flag)}"

    def verify(self, value: str | None) -> Session | None:
        """The session a cookie proves, or None for a missing, malformed or forged one."""
        if not value or len(value) > 200 or not value.isascii():
            # compare_digest raises on non-ASCII str: such a cookie is simply not ours.
            return None
        parts = value.split(".")
        if len(parts) != 3 or not _USER_ID.fullmatch(parts[0]) or parts[1] not in ("0", "1"):
            return None
        if not hmac.compare_digest(parts[2].encode(), self._mac(parts[0], parts[1]).encode()):
            return None
        authed = parts[1] == "1" or not self.password
        return Session(parts[0], authed, fresh=False)

    def new(self, *, authed: bool = False) -> Session:
        return Session(secrets.token_urlsafe(12), authed or not self.password, fresh=True)

    def check_password(self, attempt: str) -> bool:
        if not self.password:
            return True
        # surrogatepass: a JSON body may carry a lone surrogate; it is just a wrong password.
        return hmac.compare_digest(
            hashlib.sha256(attempt.encode("utf-8", "surrogatepass")).digest(),
            hashlib.sha256(self.password.encode()).digest(),
        )


class WeakSecret(SystemExit):
    """A signing key too weak to use: the process stops at start with one line."""


def load_secret(configured: str, folder: Path) -> bytes:
    """The configured secret, else one generated once and kept in ``folder`` (mode 0600),
    so sessions survive restarts of a single-host deployment. A weak key (settings check
    the configured one; here the file) stops the start: an empty file once let a forged
    cookie verify."""
    if configured:
        return _strong(configured.encode(), "CLIPBOT_WEB_SECRET")
    path = folder / SECRET_FILE
    try:
        return _strong(path.read_bytes().strip(), str(path))
    except FileNotFoundError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    data = secrets.token_urlsafe(48).encode()
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    try:
        os.link(tmp, path)  # atomic and first-writer-wins if two processes start together
    except FileExistsError:
        data = _strong(path.read_bytes().strip(), str(path))
    finally:
        tmp.unlink()
    return data


def _strong(secret: bytes, source: str) -> bytes:
    if problem := secret_problem(secret):
        hint = "delete the file to have a new one made" if source != "CLIPBOT_WEB_SECRET" \
            else 'e.g. python -c "import secrets; print(secrets.token_urlsafe(32))"'
        raise WeakSecret(f"clipbot: web secret from {source} is too weak ({problem}); {hint}")
    return secret
