"""A missing setting stops ``clipbot bots`` with one line on stderr and exit 2: real processes."""

from __future__ import annotations

import pytest

from tests.cli.cli_run import clipbot

pytestmark = pytest.mark.slow

TOKENS = ("CLIPBOT_TELEGRAM_TOKEN", "CLIPBOT_DISCORD_TOKEN", "CLIPBOT_WHATSAPP_TOKEN",
          "CLIPBOT_WHATSAPP_APP_SECRET", "CLIPBOT_WHATSAPP_VERIFY_TOKEN",
          "CLIPBOT_WHATSAPP_PHONE_NUMBER_ID", "CLIPBOT_TELEGRAM_WEBHOOK_SECRET")


@pytest.mark.parametrize(
    ("flag", "needle"),
    [
        ("--telegram", "clipbot: Telegram needs CLIPBOT_TELEGRAM_TOKEN (see docs/telegram.md)"),
        ("--discord", "clipbot: Discord needs CLIPBOT_DISCORD_TOKEN (see docs/discord.md)"),
        ("--whatsapp", "clipbot: WhatsApp needs CLIPBOT_WHATSAPP_TOKEN, "),
    ],
)
def test_a_missing_token_is_one_line_and_exit_2(
    flag: str, needle: str, env: dict[str, str]
) -> None:
    for name in TOKENS:
        env.pop(name, None)
    env["CLIPBOT_LOG_SALT"] = "s"  # else the service logs a warning about it first
    out = clipbot(["bots", flag], env)
    assert out.returncode == 2, out
    assert "Traceback" not in out.stderr, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(needle), lines[0]
    assert out.stdout == ""
