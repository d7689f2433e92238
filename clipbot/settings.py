"""Settings, read once per process from ``CLIPBOT_*`` environment variables or ``.env``."""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from redis.connection import parse_url

from storage.jobs import IDEM_TTL_S
from storage.keys import prefix_problem
from storage.models import QuotaLimits

MIN_SECRET_BYTES = 32
MIN_SECRET_BITS = 128
# A bare admin id (no "platform:") must be a number: its length says which platform issued
# it (see bots.core.service.admin_scope), so it can never name a WhatsApp or web user.
_BARE_ADMIN = re.compile(r"[0-9]{1,20}")


def secret_problem(secret: bytes) -> str | None:
    """Why ``secret`` is too weak to sign cookies, or None.

    Hand-written (no library estimates the strength of a random key): at least 32 bytes,
    and an estimate of its entropy (length x the Shannon entropy of its own symbols) of
    at least 128 bits, which refuses repeated or short-alphabet strings such as "x" * 40.
    A ``secrets.token_urlsafe(32)`` (43 characters) estimates at about 200 bits."""
    if len(secret) < MIN_SECRET_BYTES:
        return f"shorter than {MIN_SECRET_BYTES} bytes"
    counts = Counter(secret)
    bits = -sum(n * math.log2(n / len(secret)) for n in counts.values())
    if bits < MIN_SECRET_BITS:
        return "too repetitive to be a random key"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLIPBOT_", env_file=".env", extra="ignore", frozen=True
    )

    # Redis
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "clipbot"

    # Engine
    model: str = Field(
        "auto",
        description="'auto' (Wan 2.1 1.3B on CUDA, else the preview model), 'preview', "
        "a hub id or a local diffusers folder",
    )
    model_cache: Path = Path.home() / ".cache" / "clipbot"
    device: str | None = None
    steps: int | None = Field(None, description="denoising steps; default per model")
    guidance: float = 5.0
    attention: str = Field(
        "auto", description="attention kernel: auto|sdpa|flash3|flash|sage|xformers|flex"
    )
    compile: str = Field("auto", description="regional torch.compile: auto (CUDA only) | on | off")
    fast_threshold: float = Field(
        0.05, gt=0, lt=1, description="step-cache threshold of --fast requests (FirstBlockCache)"
    )
    engine_id: str | None = None
    heartbeat_ttl_s: float = 15.0
    max_attempts: int = 3
    drain_timeout_s: float = 60.0

    # Quotas
    daily_clips: int = 20
    daily_gpu_seconds: float = 1800.0
    max_inflight: int = 1
    max_queue: int = 50
    gpu_seconds_per_full_clip: float = 90.0

    # Storage and retention
    clip_store: str = Field("redis", description="'redis' or a folder path")
    clip_ttl_s: int = 86400
    record_ttl_s: int = 7 * 86400

    # Bots
    admin_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    bot_id: str = "bot-1"
    default_locale: str = "en"
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    web_secret: str = ""
    web_password: str = ""
    # Password attempts (right or wrong) per client address, and from everyone together,
    # in any window of web_login_window_s; over either, a polite "try again in ..." (429).
    web_login_attempts: int = Field(10, gt=0)
    web_login_global_attempts: int = Field(100, gt=0)
    web_login_window_s: float = Field(300.0, gt=0)
    web_trust_forwarded_for: bool = Field(
        False, description="client address from the proxy's X-Forwarded-For (behind a proxy)"
    )
    # Connection limits of the web chat (see SECURITY.md for what each one answers).
    web_max_connections: int = Field(1000, gt=0, description="open connections; more get 503")
    web_header_timeout_s: float = Field(
        15.0, gt=0, description="to send a request's headers (and idle keep-alive)"
    )
    web_body_timeout_s: float = Field(120.0, gt=0, description="to send a request's body")
    web_max_uploads: int = Field(8, gt=0, description="photo uploads read at once; more get 503")
    web_max_sockets_per_session: int = Field(8, gt=0, description="live-update sockets per browser")

    log_level: str = "INFO"
    log_format: str = Field("json", description="'json' lines or 'text'")
    log_salt: str = ""
    log_prompts: bool = False

    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(0, description="Prometheus /metrics and /healthz; 0 = off")

    rules_file: Path | None = Field(None, description="moderation rules (JSON)")

    # Telegram
    telegram_token: str = ""
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    telegram_webhook_port: int = 8443
    telegram_webhook_host: str = "127.0.0.1"
    telegram_upload_limit_mb: int = 50

    # Discord
    discord_token: str = ""
    discord_api_base: str = ""  # empty: discord.py's default
    discord_token_window_s: float = 900.0
    discord_guild_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # WhatsApp Cloud API
    whatsapp_token: str = ""
    whatsapp_app_secret: str = ""
    whatsapp_verify_token: str = ""
    whatsapp_phone_number_id: str = ""
    whatsapp_graph_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"
    whatsapp_host: str = "127.0.0.1"
    whatsapp_port: int = 8090
    # A replay younger than the idempotency keys (IDEM_TTL_S, 48 h) finds its key and is
    # ignored; an older one is refused here, so no signed body ever makes a second job.
    whatsapp_max_age_s: int = Field(
        36 * 3600, gt=0, lt=IDEM_TTL_S,
        description="messages older than this (Meta's timestamp) are refused as replays",
    )

    @field_validator("admin_ids", "discord_guild_ids", mode="before")
    @classmethod
    def _split_ids(cls, v: object) -> object:
        if isinstance(v, str):
            return [part.strip() for part in v.split(",") if part.strip()]
        return v

    @field_validator("admin_ids")
    @classmethod
    def _admin_ids_scoped(cls, v: list[str]) -> list[str]:
        for admin in v:
            if ":" not in admin and not _BARE_ADMIN.fullmatch(admin):
                raise ValueError(f"{admin[:40]!r} has no platform; write it as platform:id "
                                 "(telegram:, discord:, whatsapp:)")
        return v

    @field_validator("redis_prefix")
    @classmethod
    def _prefix_ok(cls, v: str) -> str:
        if problem := prefix_problem(v):
            raise ValueError(problem)
        return v

    @field_validator("web_secret")
    @classmethod
    def _secret_strong(cls, v: str) -> str:
        if v and (problem := secret_problem(v.encode())):
            raise ValueError(f"{problem}; e.g. python -c \"import secrets; "
                             "print(secrets.token_urlsafe(32))\"")
        return v

    @property
    def limits(self) -> QuotaLimits:
        return QuotaLimits(
            daily_gpu_s=self.daily_gpu_seconds,
            daily_clips=self.daily_clips,
            max_inflight=self.max_inflight,
            max_queue=self.max_queue,
        )


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]


def settings_problem(exc: ValidationError) -> str:
    """One line naming each bad setting and why, never its value (it may be a secret)."""
    parts = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else ""
        var = f"CLIPBOT_{name.upper()}" if name else "settings"
        parts.append(f"{var}: {' '.join(err['msg'].removeprefix('Value error, ').split())}")
    return "bad setting " + "; ".join(parts)


def redis_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a Redis URL (checked by the CLI before it connects), or None."""
    try:
        parse_url(url)
    except ValueError as exc:
        return (f"bad setting CLIPBOT_REDIS_URL: not a Redis URL ({exc}); "
                "e.g. redis://127.0.0.1:6379/0")
    return None
