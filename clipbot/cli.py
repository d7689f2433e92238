"""The ``clipbot`` command: engine, bots, generate, status, admin."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from pathlib import Path

from pydantic import ValidationError
from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    InvalidResponse,
    RedisError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from clipbot.contract import Platform
from clipbot.errors import ClipbotError
from clipbot.settings import Settings, load_settings, redis_url_problem, settings_problem

PLATFORMS = (Platform.WEB, Platform.TELEGRAM, Platform.DISCORD, Platform.WHATSAPP)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="clipbot", description="Self-hosted AI video chat bots.")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("engine", help="run a GPU engine (takes jobs from Redis)")

    b = sub.add_parser("bots", help="run chat adapters")
    for platform in PLATFORMS:
        b.add_argument(f"--{platform}", action="store_true", help=f"run the {platform} adapter")

    g = sub.add_parser("generate", help="submit a prompt and wait for the clip")
    g.add_argument("prompt")
    g.add_argument("--ar", default="16:9", help="16:9, 9:16 or 1:1")
    g.add_argument("--seconds", default="2", help="1-5")
    g.add_argument("--seed", default=None)
    g.add_argument("--steps", default=None)
    g.add_argument("--no", dest="negative", default=None, help="things to avoid")
    g.add_argument("--fast", action="store_true")
    g.add_argument("-o", "--output", default="clip.mp4", type=Path)
    g.add_argument("--timeout", type=float, default=600.0)
    g.add_argument("--user", default=None, help="whose quota to use (default: $USER)")

    sub.add_parser("status", help="queue, engines and ETA")

    a = sub.add_parser("admin", help="operator actions")
    asub = a.add_subparsers(dest="action", required=True)
    gr = asub.add_parser("grant", help="set a user's daily limits (user = platform:id)")
    gr.add_argument("user")
    # Checked by storage.grants (one line on stderr, exit 2), not by argparse.
    gr.add_argument("--clips", help="clips per day, 0-100000")
    gr.add_argument("--gpu-seconds", help="GPU-seconds per day, 0-10000000")
    gr.add_argument("--inflight", help="unfinished jobs at once, 1-100")
    for name in ("ban", "unban", "usage", "jobs"):
        asub.add_parser(name).add_argument("user")
    dr = asub.add_parser(
        "drain-engine", help="let an engine finish its current job, take no more, and exit"
    )
    dr.add_argument("engine_id", help="as listed by `clipbot status`")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ValidationError as exc:
        print(f"clipbot: {settings_problem(exc)}", file=sys.stderr)
        return 2
    if problem := redis_url_problem(settings.redis_url):
        print(f"clipbot: {problem}", file=sys.stderr)
        return 2
    if args.command in ("engine", "bots"):
        from clipbot.logs import LogOptions, settings_secrets, setup_logging

        options = LogOptions(
            level=settings.log_level.upper(), json=settings.log_format.lower() != "text",
            salt=settings.log_salt, log_prompts=settings.log_prompts,
        )
        setup_logging(options, secrets_to_hide=settings_secrets(settings))
    else:  # interactive commands: only problems, in plain text
        logging.basicConfig(level=os.environ.get("CLIPBOT_LOG_LEVEL", "WARNING"),
                            format="%(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_dispatch(args, settings))
    except ClipbotError as exc:
        print(f"clipbot: {exc}", file=sys.stderr)
        return exc.exit_code
    except RedisError as exc:
        # Services keep the details in their log; interactive commands say one line.
        service = args.command in ("engine", "bots")
        logging.getLogger("clipbot").log(logging.ERROR if service else logging.DEBUG,
                                         "redis error", exc_info=exc)
        print(f"clipbot: {redis_problem(exc, _redacted(settings.redis_url))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def redis_problem(exc: RedisError, url: str) -> str:
    """One line for an operator: what went wrong talking to Redis, without a traceback."""
    if isinstance(exc, (AuthenticationError, AuthorizationError)):
        return f"Redis at {url} refused the login ({_short(exc)}). Check CLIPBOT_REDIS_URL."
    if isinstance(exc, RedisConnectionError) and "closed by server" in str(exc):
        return (f"the service at {url} closed the connection without answering like Redis. "
                "Check CLIPBOT_REDIS_URL.")
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        return f"cannot reach Redis at {url}. Start one or set CLIPBOT_REDIS_URL."
    if isinstance(exc, InvalidResponse):
        return (f"the service at {url} does not answer like Redis "
                f"({_short(exc)}). Check CLIPBOT_REDIS_URL.")
    return f"Redis at {url} answered with an error: {type(exc).__name__}: {_short(exc)}"


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:160] + ("..." if len(text) > 160 else "")


def _redacted(url: str) -> str:
    if "@" in url:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "engine":
        from engine.main import serve

        return await serve(settings)
    if args.command == "bots":
        from bots.main import serve_bots

        chosen: list[str] = [p for p in PLATFORMS if getattr(args, p)]
        return await serve_bots(settings, chosen or [Platform.WEB])
    if args.command == "generate":
        from clipbot.generate import generate

        return await generate(args, settings, args.user or getpass.getuser())
    if args.command == "status":
        from clipbot.status import show_status

        return await show_status(settings)
    from clipbot.admin import run_admin

    return await run_admin(args, settings)


if __name__ == "__main__":
    sys.exit(main())
