"""Settings that would weaken the deployment stop it at start with one line (#15 items 10
and 13): weak signing secrets, an empty Redis prefix, admin ids that could name anyone."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bots.core.service import ClipService, CoreConfig, Who
from bots.web.session import SECRET_FILE, SessionSigner, load_secret
from clipbot.settings import Settings, settings_problem
from storage.keys import Keys

STRONG = "Zk3v9Qm1Xr7Tb2Lw8Hn4Pd6Js0Fy5Gc-aE_uK"


def _problem(**values: object) -> str:
    with pytest.raises(ValidationError) as exc:
        Settings(_env_file=None, **values)  # type: ignore[call-arg]
    return settings_problem(exc.value)


@pytest.mark.parametrize("secret", ["x", "short-but-not-empty", "x" * 64, "ab" * 30])
def test_weak_configured_secret_is_refused_in_one_line(secret: str) -> None:
    line = _problem(web_secret=secret)
    assert line.startswith("bad setting CLIPBOT_WEB_SECRET:")
    assert "\n" not in line and secret not in line  # never echo a secret


def test_strong_configured_secret_is_used(tmp_path: Path) -> None:
    assert Settings(_env_file=None, web_secret=STRONG).web_secret == STRONG  # type: ignore[call-arg]
    assert load_secret(STRONG, tmp_path) == STRONG.encode()


@pytest.mark.parametrize("content", [b"", b"\n", b"0123456789", b"a" * 40])
def test_weak_secret_file_stops_the_start(tmp_path: Path, content: bytes) -> None:
    (tmp_path / SECRET_FILE).write_bytes(content)
    with pytest.raises(SystemExit) as exc:  # WeakSecret: one line, exit status 1
        load_secret("", tmp_path)
    assert str(exc.value).startswith("clipbot: web secret from ")
    assert "\n" not in str(exc.value)


def test_empty_secret_file_cannot_forge_a_session(tmp_path: Path) -> None:
    # What an attacker signs with the empty key must never verify on a running chat.
    forged = SessionSigner(b"", "pw").sign("A" * 16, True)
    (tmp_path / SECRET_FILE).write_bytes(b"")
    try:
        key = load_secret("", tmp_path)
    except SystemExit:
        return
    assert SessionSigner(key, "pw").verify(forged) is None


def test_generated_secret_is_strong_and_kept(tmp_path: Path) -> None:
    first = load_secret("", tmp_path)
    assert len(first) >= 32 and load_secret("", tmp_path) == first


@pytest.mark.parametrize("prefix", ["", "a{b", "a}b", "with space", "star*"])
def test_bad_redis_prefix_is_refused(prefix: str) -> None:
    assert _problem(redis_prefix=prefix).startswith("bad setting CLIPBOT_REDIS_PREFIX:")
    with pytest.raises(ValueError):
        Keys(prefix)


def test_non_numeric_bare_admin_id_is_refused() -> None:
    assert _problem(admin_ids="alice,telegram:1").startswith("bad setting CLIPBOT_ADMIN_IDS:")
    ok = Settings(_env_file=None, admin_ids="12345678, whatsapp:16505551234")  # type: ignore[call-arg]
    assert ok.admin_ids == ["12345678", "whatsapp:16505551234"]


@pytest.mark.parametrize(("admins", "who", "expected"), [
    ({"12345678"}, Who("telegram", "12345678", "c"), True),
    ({"12345678"}, Who("whatsapp", "12345678", "c"), False),  # a phone number anyone can own
    ({"12345678"}, Who("web", "12345678", "c"), False),
    ({"12345678"}, Who("discord", "12345678", "c"), False),
    ({"700000000000000099"}, Who("discord", "700000000000000099", "c"), True),
    ({"700000000000000099"}, Who("telegram", "700000000000000099", "c"), False),
    ({"whatsapp:16505551234"}, Who("whatsapp", "16505551234", "c"), True),
    ({"whatsapp:16505551234"}, Who("telegram", "16505551234", "c"), False),
])
def test_bare_admin_id_names_one_platform(admins: set[str], who: Who, expected: bool) -> None:
    service = ClipService(storage=None, config=CoreConfig(admins=frozenset(admins)))  # type: ignore[arg-type]
    assert service.is_admin(who) is expected

