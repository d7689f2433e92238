"""SECURITY.md's table of limits names real settings, real catalog keys and the defaults
in force, so it cannot drift from the code unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

from bots.core.images import DECODE_BUDGET_PIXELS, DECODE_TIMEOUT_S, DECODE_WORKERS, MAX_PIXELS
from bots.i18n import t
from clipbot.settings import Settings

DOC = (Path(__file__).resolve().parents[2] / "SECURITY.md").read_text()
TABLE = DOC[DOC.index("## Limits, and what each answers"):]
TABLE = TABLE[:TABLE.index("\n\n", TABLE.index("|"))]


def row(setting: str) -> str:
    return next(line for line in TABLE.splitlines() if f"`{setting}`" in line)


def test_every_setting_and_key_in_the_table_exists() -> None:
    fields = {f"CLIPBOT_{name.upper()}" for name in Settings.model_fields}
    named = set(re.findall(r"`(CLIPBOT_[A-Z0-9_]+)`", TABLE))
    assert named and named <= fields, named - fields
    keys = set(re.findall(r"`([a-z][a-z0-9_]+)`", TABLE))
    assert {"web_login_locked", "web_busy", "web_too_slow", "web_too_many_tabs"} <= keys
    for key in keys:
        assert t("en", key) != key, key  # a real catalog message


def test_table_states_the_defaults_in_force() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    window = f"per {s.web_login_window_s:g} s"
    assert f"{s.web_login_attempts} {window}" in row("CLIPBOT_WEB_LOGIN_ATTEMPTS")
    assert f"{s.web_login_global_attempts} {window}" in row("CLIPBOT_WEB_LOGIN_GLOBAL_ATTEMPTS")
    assert f"| {s.web_max_connections} |" in row("CLIPBOT_WEB_MAX_CONNECTIONS")
    assert f"| {s.web_header_timeout_s:g} s |" in row("CLIPBOT_WEB_HEADER_TIMEOUT_S")
    assert f"| {s.web_body_timeout_s:g} s |" in row("CLIPBOT_WEB_BODY_TIMEOUT_S")
    assert f"| {s.web_max_uploads} |" in row("CLIPBOT_WEB_MAX_UPLOADS")
    assert f"| {s.web_max_sockets_per_session} |" in row("CLIPBOT_WEB_MAX_SOCKETS_PER_SESSION")
    assert f"| {s.whatsapp_max_age_s // 3600} h |" in row("CLIPBOT_WHATSAPP_MAX_AGE_S")
    decoding = next(line for line in TABLE.splitlines() if line.startswith("| Photo decoding"))
    assert (f"{DECODE_WORKERS} worker processes, {DECODE_BUDGET_PIXELS // 10**6} MP decoding "
            f"at once, {DECODE_TIMEOUT_S:g} s") in decoding
    assert f"{MAX_PIXELS // 10**6} MP" in TABLE
