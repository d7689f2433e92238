"""Listeners default to loopback; containers listen where they must, and the web chat's
generated cookie key survives a recreated container (#15 items 12 and 13)."""

from __future__ import annotations

import inspect
from pathlib import Path

import yaml

from bots.telegram.app import running
from clipbot.settings import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "docker" / "compose.yml"


def test_every_listener_defaults_to_loopback() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.web_host == "127.0.0.1"
    assert s.whatsapp_host == "127.0.0.1"
    assert s.telegram_webhook_host == "127.0.0.1"
    # The webhook server binds the setting unless a caller (a test) names a host.
    assert inspect.signature(running).parameters["webhook_host"].default is None


def test_containers_listen_inside_and_keep_the_web_secret() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert services["whatsapp"]["environment"]["CLIPBOT_WHATSAPP_HOST"] == "0.0.0.0"
    assert services["telegram"]["environment"]["CLIPBOT_TELEGRAM_WEBHOOK_HOST"] == "0.0.0.0"
    web = services["web"]
    cache = web["environment"]["CLIPBOT_MODEL_CACHE"]
    assert any(v.split(":")[1] == cache for v in web["volumes"]), web["volumes"]
