"""Logs never carry who a user is, what they asked (by default), or an operator's secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from clipbot.logs import (
    REDACTED,
    JsonFormatter,
    LogOptions,
    hash_user,
    redact,
    settings_secrets,
    setup_logging,
)

TG_TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"


@pytest.mark.parametrize(
    "line, must_vanish, must_stay",
    [
        (f"POST https://api.telegram.org/bot{TG_TOKEN}/sendVideo \"200 OK\"",
         "AAHfiqksKZ8WmR2zSjiQ7", "api.telegram.org/bot[redacted]/sendVideo"),
        (f"GET https://api.telegram.org/file/bot{TG_TOKEN}/photos/x.jpg",
         "AAHfiqksKZ8WmR2zSjiQ7", "/photos/x.jpg"),
        (f"token is {TG_TOKEN}", "AAHfiqksKZ8WmR2zSjiQ7", "token is"),
        ("Authorization: Bearer EAAGm0PX4ZCpsBAKZCZB9hZ.x-y_z", "EAAGm0PX4ZCps",
         "Authorization: Bearer [redacted]"),
        ("Authorization: Bot MTA4NzY1NDMyMTA5ODc2NTQzMg.GhIjKl.abcdefghijkl", "MTA4NzY1",
         "Bot [redacted]"),
        ("GET /webhook?hub.mode=subscribe&hub.verify_token=s3cr3t-v&hub.challenge=42",
         "s3cr3t-v", "hub.challenge=42"),
        ("https://graph.facebook.com/v21.0/123/media?access_token=EAAB1234567890", "EAAB123",
         "access_token=[redacted]"),
        ("cannot reach redis://:hunter2pw@redis:6379/0", "hunter2pw", "@redis:6379/0"),
        ("cannot reach redis://default:hunter2pw@redis:6379/0", "hunter2pw", "redis://default:"),
        # Things that look close but are not secrets stay readable.
        ("engine gpu-a ready on http://127.0.0.1:9100/metrics", "", "http://127.0.0.1:9100"),
        ("job Zx8_3kP-qq1 done in 41.2s", "", "job Zx8_3kP-qq1 done in 41.2s"),
        ("user telegram:123456 asked", "", "telegram:123456"),
    ],
)
def test_redaction_table(line: str, must_vanish: str, must_stay: str) -> None:
    out = redact(line)
    if must_vanish:
        assert must_vanish not in out
        assert REDACTED in out
    else:
        assert out == line
    assert must_stay in out


def test_known_secret_values_are_removed_wherever_they_appear() -> None:
    out = redact("web secret is plain-words-secret!", ["plain-words-secret!", "", "x"])
    assert out == f"web secret is {REDACTED}"


# Known answers (sha256 of salt NUL user, first 12 hex), so that a changed scheme, which
# would break correlating old and new logs, is noticed.
@pytest.mark.parametrize(
    "user, salt, expected",
    [
        ("telegram:42", "pepper", "570e347e2560"),
        ("telegram:42", "", "0040b1f36d93"),
        ("discord:1", "salt-a", "e5bb1caa3dd1"),
    ],
)
def test_hash_known_answers(user: str, salt: str, expected: str) -> None:
    assert hash_user(user, salt) == expected


def test_hash_depends_on_salt_and_user() -> None:
    hashes = {hash_user(u, s) for u in ("telegram:1", "telegram:2", "discord:1")
              for s in ("a", "b")}
    assert len(hashes) == 6


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, callable]]:
    root, httpx = logging.getLogger(), logging.getLogger("httpx")
    saved = (list(root.handlers), root.level, httpx.level)
    buf = io.StringIO()

    def setup(**opts: object) -> None:
        known = opts.pop("secrets", ())
        setup_logging(LogOptions(**opts), secrets_to_hide=known, stream=buf)  # type: ignore[arg-type]

    yield buf, setup
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in saved[0]:
        root.addHandler(h)
    root.setLevel(saved[1])
    httpx.setLevel(saved[2])


def lines(buf: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buf.getvalue().splitlines()]


def test_json_lines_hash_users_and_drop_prompts_by_default(captured) -> None:
    buf, setup = captured
    setup(salt="deploy-salt")
    logging.getLogger("clipbot.bots").info(
        "queued job %s", "J1",
        extra={"user": "telegram:987654", "chat_id": "-100123", "prompt": "my secret idea",
               "job": "J1"},
    )
    (rec,) = lines(buf)
    assert rec["msg"] == "queued job J1"
    assert rec["level"] == "INFO" and rec["logger"] == "clipbot.bots"
    assert rec["user"] == hash_user("telegram:987654", "deploy-salt")
    assert rec["chat_id"] == hash_user("-100123", "deploy-salt")
    assert rec["job"] == "J1"
    assert "prompt" not in rec
    assert "987654" not in buf.getvalue() and "secret idea" not in buf.getvalue()
    assert str(rec["ts"]).endswith("Z")


def test_prompts_are_logged_only_when_the_operator_opts_in(captured) -> None:
    buf, setup = captured
    setup(salt="s", log_prompts=True)
    logging.getLogger("clipbot.engine").info("start", extra={"prompt": "a red fox"})
    assert lines(buf)[0]["prompt"] == "a red fox"


def test_third_party_lines_and_tracebacks_are_redacted(captured) -> None:
    buf, setup = captured
    setup(salt="s", secrets=["wa-app-secret-value"], level="DEBUG")
    logging.getLogger("telegram.ext").warning(
        "request to https://api.telegram.org/bot%s/getUpdates failed", TG_TOKEN)
    try:
        raise RuntimeError("signature check used wa-app-secret-value")
    except RuntimeError:
        logging.getLogger("clipbot.whatsapp").exception("webhook failed",
                                                        extra={"url": f"bot{TG_TOKEN}"})
    out = buf.getvalue()
    assert "AAHfiqksKZ8WmR2zSjiQ7" not in out
    assert "wa-app-secret-value" not in out
    recs = lines(buf)
    assert "RuntimeError" in str(recs[1]["exc"])
    assert recs[1]["url"] == "bot" + REDACTED


def test_text_format_is_available_and_still_redacted(captured) -> None:
    buf, setup = captured
    setup(salt="s", json=False)
    logging.getLogger("x").error("GET https://api.telegram.org/bot%s/getMe", TG_TOKEN)
    out = buf.getvalue()
    assert "getMe" in out and "AAHfiqks" not in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out.splitlines()[0])


def test_httpx_request_lines_are_quieted(captured) -> None:
    buf, setup = captured
    setup(salt="s", level="INFO")
    logging.getLogger("httpx").info("HTTP Request: POST https://example/bot1/x")
    assert buf.getvalue() == ""


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, LogOptions()),
        ({"CLIPBOT_LOG_PROMPTS": "1", "CLIPBOT_LOG_SALT": "x", "CLIPBOT_LOG_LEVEL": "debug",
          "CLIPBOT_LOG_FORMAT": "text"},
         LogOptions(level="DEBUG", json=False, salt="x", log_prompts=True)),
        ({"CLIPBOT_LOG_PROMPTS": "0"}, LogOptions()),
    ],
)
def test_options_from_env(env: dict[str, str], expected: LogOptions) -> None:
    assert LogOptions.from_env(env) == expected


def test_formatter_context_table() -> None:
    f = JsonFormatter(salt="s")
    ctx = f.context({"user_id": "7", "negative_prompt": "blur", "engine": "gpu-a",
                     "_private": 1, "msg": "standard attribute"})
    assert ctx == {"user_id": hash_user("7", "s"), "engine": "gpu-a"}


def test_every_configured_secret_is_hidden() -> None:
    from clipbot.settings import Settings

    s = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_token=TG_TOKEN, discord_token="discord-token-value",
        whatsapp_app_secret="wa-secret-value", web_secret="web-secret-value-0123456789abcdefghijkl",
        redis_url="redis://:redis-pass-value@10.0.0.5:6379/0",
    )
    hidden = settings_secrets(s)
    assert set(hidden) == {TG_TOKEN, "discord-token-value", "wa-secret-value",
                           "web-secret-value-0123456789abcdefghijkl", "redis-pass-value"}
    line = ("discord-token-value wa-secret-value web-secret-value-0123456789abcdefghijkl "
            "redis-pass-value")
    assert "value" not in redact(line, hidden)
