"""Settings, read once per process from ``CLIPBOT_*`` environment variables or ``.env``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from redis.connection import parse_url

from storage.models import QuotaLimits


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
    whatsapp_host: str = "0.0.0.0"
    whatsapp_port: int = 8090

    @field_validator("admin_ids", "discord_guild_ids", mode="before")
    @classmethod
    def _split_ids(cls, v: object) -> object:
        if isinstance(v, str):
            return [part.strip() for part in v.split(",") if part.strip()]
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
