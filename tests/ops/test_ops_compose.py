"""The deployment files: docker/compose.yml, the two images, and .env.example.

``docker compose config`` validates the compose file where the docker client has the
compose plugin; everywhere else the same promises are checked on the parsed YAML.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from clipbot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yml"
ADAPTERS = ("telegram", "discord", "whatsapp", "web")
# Read by clipbot.logs / clipbot.metrics wiring, not (yet) Settings fields.
OPS_VARS = {"CLIPBOT_METRICS_HOST", "CLIPBOT_METRICS_PORT", "CLIPBOT_LOG_LEVEL",
            "CLIPBOT_LOG_FORMAT", "CLIPBOT_LOG_SALT", "CLIPBOT_LOG_PROMPTS"}
SETTINGS_VARS = {f"CLIPBOT_{name.upper()}" for name in Settings.model_fields}


def compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        got = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return got.returncode == 0


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.mark.skipif(not compose_available(), reason="docker compose plugin not installed")
def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    # compose.yml reads ../.env, which a checkout does not have: lay out a copy with the
    # example as .env, like an operator's first `cp .env.example .env`.
    shutil.copytree(DOCKER, tmp_path / "docker")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    for profile_args in ([], [f"--profile={p}" for p in ADAPTERS]):
        got = subprocess.run(
            ["docker", "compose", "-f", str(tmp_path / "docker" / "compose.yml"),
             *profile_args, "config", "--quiet"],
            capture_output=True, text=True, timeout=60,
        )
        assert got.returncode == 0, got.stderr


def test_redis_keeps_an_append_only_file_on_a_volume(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    assert redis["image"].startswith("redis:7")
    cmd = redis["command"]
    assert cmd[0] == "redis-server"
    assert cmd[cmd.index("--appendonly") + 1] == "yes"
    assert cmd[cmd.index("--appendfsync") + 1] == "everysec"
    volume, target = redis["volumes"][0].split(":")
    assert target == "/data" and volume in compose["volumes"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "ports" not in redis  # never published on the host by default


def test_engine_reserves_one_nvidia_gpu_and_caches_models(compose: dict[str, Any]) -> None:
    engine = compose["services"]["engine"]
    (device,) = engine["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["count"] == 1
    assert "gpu" in device["capabilities"]
    volume, target = engine["volumes"][0].split(":")
    assert target == "/models" and volume in compose["volumes"]
    env = engine["environment"]
    assert env["CLIPBOT_MODEL_CACHE"] == "/models"
    assert env["HF_HOME"].startswith("/models/")
    assert engine["build"]["dockerfile"] == "docker/engine.Dockerfile"
    # SIGTERM drains the current job for CLIPBOT_DRAIN_TIMEOUT_S (60 s): give it longer.
    assert _seconds(engine["stop_grace_period"]) > Settings().drain_timeout_s


@pytest.mark.parametrize("name", ["engine", *ADAPTERS])
def test_services_share_redis_env_and_health(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    assert service["env_file"] == "../.env"
    assert (COMPOSE.parent / service["env_file"]).resolve() == ROOT / ".env"
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    env = service["environment"]
    assert env["CLIPBOT_REDIS_URL"].endswith("redis://redis:6379/0}")
    port = env["CLIPBOT_METRICS_PORT"]
    assert env["CLIPBOT_METRICS_HOST"] == "0.0.0.0"
    test = service["healthcheck"]["test"]
    assert test[0] == "CMD" and f"http://127.0.0.1:{port}/healthz" in test[-1]
    # The probe must exit non-zero on a 503: urlopen raises HTTPError for it.
    compile(test[-1], "healthcheck", "exec")
    assert "urlopen" in test[-1]
    assert service["restart"] == "unless-stopped"
    context = (COMPOSE.parent / service["build"]["context"]).resolve()
    assert context == ROOT and (context / service["build"]["dockerfile"]).is_file()


@pytest.mark.parametrize("name", ADAPTERS)
def test_each_adapter_is_an_opt_in_profile(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    assert service["profiles"] == [name]
    assert service["command"] == ["clipbot", "bots", f"--{name}"]
    assert service["build"]["dockerfile"] == "docker/bots.Dockerfile"
    for port in service.get("ports", []):
        assert port.startswith("127.0.0.1:"), "publish webhooks behind a TLS proxy only"


def test_every_named_volume_is_declared(compose: dict[str, Any]) -> None:
    used = {
        v.split(":")[0]
        for s in compose["services"].values()
        for v in s.get("volumes", [])
        if not v.startswith((".", "/"))
    }
    assert used == set(compose["volumes"])


def test_engine_image_is_cuda_torch_with_the_engine_extra() -> None:
    text = (DOCKER / "engine.Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^ARG BASE=(\S+)", text, re.M)
    assert base and re.fullmatch(r"pytorch/pytorch:2\.13\.\d+-cuda\d+\.\d+-cudnn\d+-runtime",
                                 base.group(1))
    assert re.search(r"^FROM \$\{BASE\}", text, re.M)
    assert 'pip install ".[engine]"' in text
    assert "torch.version.cuda" in text  # the build fails on a CPU-only torch
    assert "CLIPBOT_MODEL_CACHE=/models" in text and "HF_HOME=/models/" in text
    assert 'VOLUME ["/models"]' in text
    assert text.rstrip().endswith('CMD ["clipbot", "engine"]')
    _copies_exist(text)


def test_bots_image_is_slim_and_has_no_torch() -> None:
    text = (DOCKER / "bots.Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert 'pip install ".[telegram,discord]"' in text
    assert "engine]" not in text and "torch must not be" in text
    _copies_exist(text)


def test_env_example_documents_every_setting_and_loads() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#? ?(CLIPBOT_[A-Z0-9_]+)=", text, re.M))
    assert named >= SETTINGS_VARS, sorted(SETTINGS_VARS - named)
    assert named <= SETTINGS_VARS | OPS_VARS, sorted(named - SETTINGS_VARS - OPS_VARS)
    # Each variable has a comment explaining it (the line above, or a block above it).
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^#? ?CLIPBOT_", line):
            above = lines[i - 1]
            assert above.startswith("#"), line
    # What an operator gets from `cp .env.example .env` is a valid configuration.
    settings = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    assert settings.admin_ids == [] and settings.telegram_token == ""


def test_compose_only_sets_known_variables(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for var in service.get("environment", {}):
            if var.startswith("CLIPBOT_"):
                assert var in SETTINGS_VARS | OPS_VARS, (name, var)


def _copies_exist(dockerfile: str) -> None:
    for src in re.findall(r"^COPY (.+) \S+$", dockerfile, re.M):
        for path in src.split():
            assert (ROOT / path).exists(), path


def _seconds(duration: str) -> float:
    value, unit = re.fullmatch(r"(\d+)([smh])", duration).groups()  # type: ignore[union-attr]
    return float(value) * {"s": 1, "m": 60, "h": 3600}[unit]


def test_container_logs_are_rotated(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        options = service["logging"]["options"]
        assert options["max-size"] and int(options["max-file"]) >= 1, name
