"""``clipbot generate``: submit through Redis exactly like a bot, show progress, save the clip."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import time
import uuid
from pathlib import Path

from bots.core import render
from bots.core.options import (
    InputError,
    VideoOptions,
    clean_prompt,
    parse_aspect,
    parse_seconds,
    parse_seed,
    parse_steps,
)
from bots.core.service import ClipService, Refusal, Who
from bots.core.wiring import core_config
from bots.i18n import duration, t
from clipbot.settings import Settings
from clipbot.wiring import open_storage
from storage import JobState, Storage


def cli_options(args: argparse.Namespace) -> VideoOptions:
    """Validate the command-line flags with the same rules as chat options."""
    return VideoOptions(
        aspect=parse_aspect(args.ar),
        seconds=parse_seconds(str(args.seconds)),
        seed=None if args.seed is None else parse_seed(str(args.seed)),
        steps=None if args.steps is None else parse_steps(str(args.steps)),
        negative=None if args.negative is None else clean_prompt(args.negative),
        fast=args.fast,
    )


def usage_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the non-video flags, checked before anything is charged."""
    if not (math.isfinite(args.timeout) and args.timeout > 0):
        return f"--timeout must be a positive number of seconds, not {args.timeout}"
    out: Path = args.output
    if out.is_dir():
        return f"{out} is a folder; give a file name such as {out / 'clip.mp4'}"
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        return f"cannot write {out}"
    return None


async def generate(args: argparse.Namespace, settings: Settings, user: str) -> int:
    locale = (os.environ.get("LANG") or "en").split(".")[0]
    try:
        defaults = cli_options(args)
    except InputError as exc:
        print(f"clipbot: {t(locale, exc.key, **exc.params)}", file=sys.stderr)
        return 2
    problem = usage_problem(args)
    if problem is not None:
        print(f"clipbot: {problem}", file=sys.stderr)
        return 2
    async with await open_storage(settings) as storage:
        service = ClipService(storage, core_config(settings))
        who = Who("cli", user, "cli", locale)
        res = await service.request_video(
            who, args.prompt, idem_key=f"cli:{uuid.uuid4().hex}", defaults=defaults
        )
        if isinstance(res, Refusal):
            print(f"clipbot: {render.refusal(locale, res)}", file=sys.stderr)
            return 2 if res.key not in ("queue_full", "inflight", "quota_clips", "quota_gpu",
                                        "banned") else 1
        if not res.engines_online:
            print(t(locale, "ack_no_engine"), file=sys.stderr)
        try:
            return await follow(storage, service, who, res.job_id, args, locale)
        except (KeyboardInterrupt, asyncio.CancelledError):
            await service.cancel(who, res.job_id)
            print("\ncancelled", file=sys.stderr)
            return 130


async def follow(
    storage: Storage, service: ClipService, who: Who, job_id: str,
    args: argparse.Namespace, locale: str,
) -> int:
    deadline = time.monotonic() + args.timeout
    bar = ProgressLine(sys.stderr)
    while time.monotonic() < deadline:
        job = await storage.jobs.get(job_id)
        if job is None:
            print("clipbot: the job disappeared (expired?)", file=sys.stderr)
            return 1
        if job.state is JobState.QUEUED:
            pos = await storage.jobs.position(job_id)
            bar.show(f"queued: #{pos}, ~{duration(locale, await service.eta(pos))}")
        elif job.state is JobState.RUNNING:
            bar.show(render_bar(job.step, job.total_steps))
        elif job.state is JobState.DONE:
            clip = await storage.clips.get(job.clip_id)
            if clip is None:
                print("clipbot: the clip expired before it could be saved", file=sys.stderr)
                return 1
            args.output.write_bytes(clip)
            await storage.jobs.deliver(job_id, "cli")
            bar.done(f"wrote {args.output} ({len(clip) // 1024} KiB, "
                     f"{job.meta.width}x{job.meta.height}, {job.meta.duration_s:.1f} s)"
                     if job.meta else f"wrote {args.output}")
            if job.meta and job.meta.preview:
                print(t(locale, "preview_notice"), file=sys.stderr)
            return 0
        else:
            await storage.jobs.deliver(job_id, "cli")
            bar.done(render.failure(job))
            return 1
        await asyncio.sleep(0.2)
    print("clipbot: timed out waiting; the job continues (see clipbot status)", file=sys.stderr)
    return 1


def render_bar(step: int, total: int, width: int = 24) -> str:
    if total <= 0:
        return "starting…"
    filled = int(width * step / total)
    return f"[{'#' * filled}{'.' * (width - filled)}] step {step}/{total}"


class ProgressLine:
    """One self-overwriting status line on a terminal; plain lines otherwise."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = ""

    def show(self, text: str) -> None:
        if text == self.last:
            return
        self.last = text
        if self.tty:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self, text: str) -> None:
        self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.stream.flush()
