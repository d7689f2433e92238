"""The load of bench/load.py, but through the Telegram adapter and a fake Bot API.

The real python-telegram-bot application polls a local fake Bot API
(tests/adapter_telegram/fake_bot_api.py) that answers every call after ``--rtt-ms`` (the
round trip to api.telegram.org a real bot pays). Bursts of messages from 1,000 users are
injected; about 5% are re-delivered (same update, same message id), as Telegram does after
a timeout. Measured:

  ack latency     message injected -> the bot's answer (ack or refusal) sent, per chat in
                  order; this includes waiting behind the rest of the burst
  admission       from Redis: per user jobs <= quota and charged == jobs; one job per
                  Telegram message (idempotency key) even when re-delivered

Usage: python -m bench.load_telegram [--users 1000] [--prompts 5000] [--rtt-ms 0]
Writes bench/results/load_telegram.json and prints a table.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and bench/engine.py would
# shadow the ``engine`` package: put the repository root there instead.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import json
import os
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

from bench.load import HERE, LIMITS, Plan, make_plan, pct, preview_engine, quota_of
from bots.telegram.app import running
from clipbot.settings import Settings
from storage import Storage
from tests.adapter_telegram import updates as tg
from tests.adapter_telegram.fake_bot_api import Call, FakeBotApi

TOKEN = "123456:LOAD-token_abcdefghijklmnopqrstuvwxyz"
CHAT0 = 10_000  # user n talks to the bot in private chat CHAT0 + n


class RemoteBotApi(FakeBotApi):
    """The fake Bot API, answering each call after a network round trip."""

    rtt_s: float = 0.0

    async def _method(self, request: Any) -> Any:
        if self.rtt_s and not request.path.endswith("/getUpdates"):
            await asyncio.sleep(self.rtt_s)
        return await super()._method(request)


def settings_for(url: str, prefix: str, api: FakeBotApi) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, redis_url=url, redis_prefix=prefix, bot_id=f"load-{prefix}",
        telegram_token=TOKEN, telegram_base_url=api.base_url,
        telegram_base_file_url=api.base_file_url, daily_clips=LIMITS.daily_clips,
        max_inflight=LIMITS.max_inflight, max_queue=LIMITS.max_queue,
        daily_gpu_seconds=LIMITS.daily_gpu_s, rules_file=None,
    )


async def inject(api: FakeBotApi, plan: Plan, pause_s: float) -> dict[int, list[float]]:
    """Inject each burst at once; returns, per chat, when each first delivery went in."""
    sent_at: dict[int, list[float]] = defaultdict(list)
    first: dict[int, dict[str, Any]] = {}
    for burst in plan.bursts:
        for req in burst:
            chat = CHAT0 + req.user
            if req.resend and req.update_id in first:  # Telegram re-delivers the same update
                await api.inject(first[req.update_id])
                continue
            text = req.text if req.text.strip() else "--ar 9:16"  # no empty Telegram texts
            update = await api.inject(tg.message(text, sender=tg.user(chat, "en")))
            first[req.update_id] = update
            sent_at[chat].append(time.monotonic())
        await asyncio.sleep(pause_s)
    return sent_at


def answers(api: FakeBotApi, chats: set[int]) -> dict[int, list[Call]]:
    out: dict[int, list[Call]] = defaultdict(list)
    for call in api.called("sendMessage"):
        chat = int(call.params.get("chat_id", 0))
        if chat in chats:
            out[chat].append(call)
    return out


async def wait_answers(api: FakeBotApi, sent_at: dict[int, list[float]], timeout: float) -> None:
    want = sum(len(v) for v in sent_at.values())
    chats = set(sent_at)
    deadline = time.monotonic() + timeout
    while sum(len(v) for v in answers(api, chats).values()) < want:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)


def latencies(api: FakeBotApi, sent_at: dict[int, list[float]]) -> tuple[list[float], int]:
    """Answers matched to messages in order, chat by chat; and how many got none."""
    got = answers(api, set(sent_at))
    lat, missing = [], 0
    for chat, times in sent_at.items():
        calls = got.get(chat, [])
        missing += max(0, len(times) - len(calls))
        lat += [c.at - t for t, c in zip(times, calls, strict=False)]
    return lat, missing


async def audit(storage: Storage, plan: Plan) -> dict[str, int]:
    r, k = storage.redis, storage.keys
    over = wrong_charge = jobs = 0
    idem: Counter[str] = Counter()
    for user in plan.quotas:
        name = f"telegram:{CHAT0 + user}"
        ids = await r.zrange(k.user_jobs(name), 0, -1)
        jobs += len(ids)
        over += len(ids) > quota_of(user)
        charged = (await storage.accounts.quota(name, LIMITS)).used_clips
        wrong_charge += charged != len(ids)
        for job_id in ids:
            idem[await r.hget(k.job(job_id), "idem") or job_id] += 1
    lost = 0
    in_queue = set(await r.zrange(k.queue, 0, -1))
    for key in idem:
        job_id = await r.get(key)
        state = job_id and await r.hget(k.job(job_id), "state")
        lost += state == "queued" and job_id not in in_queue
    return {"jobs": jobs, "users_over_quota": over, "users_charged_wrong": wrong_charge,
            "messages_with_two_jobs": sum(1 for n in idem.values() if n > 1),
            "queued_but_not_in_queue": lost, "queue_depth": await storage.jobs.queue_depth()}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    plan = make_plan(args.users, args.prompts, args.bursts, args.resend, args.seed)
    prefix = f"bench-tg-{uuid.uuid4().hex[:8]}"
    api = await RemoteBotApi(TOKEN).start()
    api.rtt_s = args.rtt_ms / 1000
    storage = await Storage.open(args.redis, prefix)
    try:
        for user, q in plan.quotas.items():
            if q != LIMITS.daily_clips:
                await storage.accounts.grant(f"telegram:{CHAT0 + user}", daily_clips=q)
        async with preview_engine(args.engine, args.redis, prefix, 1) as eng, running(
            settings_for(args.redis, prefix, api), storage, poll_timeout_s=1.0
        ):
            t0 = time.perf_counter()
            sent_at = await inject(api, plan, args.pause)
            await wait_answers(api, sent_at, timeout=args.timeout)
            wall = time.perf_counter() - t0
        lat, missing = latencies(api, sent_at)
        ms = sorted(x * 1000 for x in lat)
        return {
            "benchmark": "load_telegram",
            "setup": {"users": args.users, "prompts": plan.prompts, "redeliveries": plan.resends,
                      "bursts": args.bursts, "bot_api_rtt_ms": args.rtt_ms, "engine": eng,
                      "limits": LIMITS.__dict__},
            "machine": {"cpu_count": os.cpu_count(),
                        "load_average_after": [round(x, 2) for x in os.getloadavg()]},
            "ack_latency": {"p50_ms": round(pct(ms, 50), 1), "p90_ms": round(pct(ms, 90), 1),
                            "p99_ms": round(pct(ms, 99), 1), "max_ms": round(ms[-1], 1)},
            "messages_without_answer": missing,
            "answers_per_s": round(len(lat) / wall, 1),
            "redis": await audit(storage, plan),
        }
    finally:
        keys = [k async for k in storage.redis.scan_iter(match=storage.keys.pattern, count=1000)]
        for i in range(0, len(keys), 500):
            await storage.redis.delete(*keys[i : i + 500])
        await storage.close()
        await api.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--prompts", type=int, default=5000)
    ap.add_argument("--bursts", type=int, default=10)
    ap.add_argument("--pause", type=float, default=0.3)
    ap.add_argument("--resend", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rtt-ms", type=float, default=0.0)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--engine", choices=("process", "none"), default="process")
    ap.add_argument("--redis", default=os.environ.get("CLIPBOT_REDIS_URL",
                                                      "redis://127.0.0.1:6379/0"))
    ap.add_argument("--out", type=Path, default=HERE / "results" / "load_telegram.json")
    args = ap.parse_args()
    result = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    lat, red = result["ack_latency"], result["redis"]
    print(f"Bot API round trip        {args.rtt_ms} ms")
    print(f"ack p50 / p99 / max (ms)  {lat['p50_ms']} / {lat['p99_ms']} / {lat['max_ms']}")
    print(f"answers per second        {result['answers_per_s']}")
    print(f"messages without answer   {result['messages_without_answer']}")
    print(f"redis audit               {red}")
    print(f"wrote {args.out}")
    ok = (red["users_over_quota"] == red["users_charged_wrong"] == red["messages_with_two_jobs"]
          == red["queued_but_not_in_queue"] == result["messages_without_answer"] == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
