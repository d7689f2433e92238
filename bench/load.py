"""Load through the conversation core: 1,000 users, 5,000 prompts in bursts.

Every request goes through ``ClipService.request_video`` against a real Redis (a key prefix
of its own, deleted afterwards) while the preview engine (a real ``clipbot engine``
process by default) takes jobs off the queue. It measures what a chat user and an operator
care about:

  ack latency     submit -> Submitted/Refusal returned, with --concurrency requests in flight
  admission       per user: admitted <= its daily clip quota, and == the quota whenever
                  it was refused for quota (exact, not approximate); queue never over its cap
  duplicates      ~5% of updates are re-sent with the same idempotency key (half racing the
                  original, half a few bursts later): one job and one charge per key
  lost            every admitted job is still queued (sorted set + stream entry), running or
                  done; no job exists that was not acknowledged
  memory          bytes Redis holds per queued job (MEMORY USAGE of every structure a job
                  adds to), and the INFO used_memory delta per admitted job

Usage: python -m bench.load [--users 1000] [--prompts 5000] [--concurrency 64]
                             [--engine process|inline|none] [--redis URL]
Writes bench/results/load.json and prints a table.
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
import platform
import random
import resource
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from bots.core.service import ClipService, CoreConfig, Submitted, Who
from storage import QuotaLimits, Storage

HERE = Path(__file__).parent
ROOT = HERE.parent
PLATFORM = "telegram"
LIMITS = QuotaLimits(daily_gpu_s=1e6, daily_clips=4, max_inflight=10, max_queue=3000)
HEAVY_CLIPS = 12  # every 20th user has an admin grant: a second quota level to check
SUBJECTS = ("a bakery window at sunrise", "قطة تلعب في الحديقة 🐱", "un perro en la playa",
            "一只猫在花园里玩耍", "paka anacheza bustanini", "एक बिल्ली बगीचे में", "a red kite")
FLAGS = ("", "", " --ar 9:16", " --seconds 3", " --seed 7 --ar 1:1", " —ar 9:16 --no blurry")
BAD = ("", "a cat\x00", "a cat --ar 4:3", "a cat --seconds 99", "a" * 2500, "x --wat")


@dataclass(frozen=True)
class Req:
    user: int
    update_id: int
    text: str
    resend: bool = False


@dataclass
class Outcome:
    req: Req
    latency_s: float
    burst: int
    key: str  # "accepted", "duplicate" or the refusal's catalog key
    job_id: str = ""


@dataclass
class Plan:
    bursts: list[list[Req]]
    quotas: dict[int, int]
    prompts: int
    resends: int = 0
    bad: int = 0
    per_user: Counter[int] = field(default_factory=Counter)


def quota_of(user: int) -> int:
    return HEAVY_CLIPS if user % 20 == 0 else LIMITS.daily_clips


def make_plan(users: int, prompts: int, bursts: int, resend: float, seed: int) -> Plan:
    """Who sends what, in which burst. Pure: the same seed gives the same plan."""
    rnd = random.Random(seed)
    senders = list(range(users)) + rnd.choices(
        range(users), weights=[5 if u % 20 == 0 else 1 for u in range(users)], k=prompts - users
    )
    rnd.shuffle(senders)
    plan = Plan(bursts=[[] for _ in range(bursts)], quotas={u: quota_of(u) for u in range(users)},
                prompts=prompts)
    for update_id, user in enumerate(senders):
        bad = rnd.random() < 0.02
        text = rnd.choice(BAD) if bad else f"{rnd.choice(SUBJECTS)} #{update_id}{rnd.choice(FLAGS)}"
        req = Req(user, update_id, text)
        b = update_id * bursts // prompts
        plan.bursts[b].append(req)
        plan.per_user[user] += 1
        plan.bad += bad
        if rnd.random() < resend:
            # Half race the original inside its burst, half come back a few bursts later.
            later = b if rnd.random() < 0.5 else min(bursts - 1, b + rnd.randint(1, 3))
            plan.bursts[later].append(Req(user, update_id, text, resend=True))
            plan.resends += 1
    for burst in plan.bursts:
        rnd.shuffle(burst)
    return plan


def who(user: int) -> Who:
    return Who(PLATFORM, f"u{user}", f"chat{user}", "en")


async def send(service: ClipService, req: Req, gate: asyncio.Semaphore, burst: int) -> Outcome:
    async with gate:
        t0 = time.perf_counter()
        res = await service.request_video(who(req.user), req.text, idem_key=f"tg:{req.update_id}",
                                          reply={"message_id": req.update_id})
        latency = time.perf_counter() - t0
    if isinstance(res, Submitted):
        return Outcome(req, latency, burst, "duplicate" if res.duplicate else "accepted",
                       res.job_id)
    return Outcome(req, latency, burst, res.key)


async def watch_queue(storage: Storage, stop: asyncio.Event, seen: list[int]) -> None:
    """Sample the queue depth all through the run: it must never pass the cap."""
    while not stop.is_set():
        seen.append(await storage.jobs.queue_depth())
        await asyncio.sleep(0.01)


async def drive(service: ClipService, plan: Plan, concurrency: int,
                pause_s: float) -> tuple[list[Outcome], float]:
    gate = asyncio.Semaphore(concurrency)
    outcomes: list[Outcome] = []
    busy = 0.0
    for b, burst in enumerate(plan.bursts):
        t0 = time.perf_counter()
        outcomes += await asyncio.gather(*(send(service, r, gate, b) for r in burst))
        busy += time.perf_counter() - t0
        await asyncio.sleep(pause_s)  # the gap between bursts, when the engine catches up
    return outcomes, busy


# ---- checks ------------------------------------------------------------------------------
def admission(plan: Plan, outcomes: list[Outcome], charged: dict[int, int]) -> dict[str, object]:
    jobs: dict[int, set[str]] = defaultdict(set)
    refused: dict[str, set[int]] = defaultdict(set)
    for o in outcomes:
        if o.key == "accepted":
            jobs[o.req.user].add(o.job_id)
        else:
            refused[o.key].add(o.req.user)
    over = [u for u, q in plan.quotas.items() if len(jobs[u]) > q]
    # Exact, not just safe: a quota refusal means the quota was used up to the last clip,
    # and an in-flight refusal means at least max_inflight jobs had been admitted.
    under = [u for u in refused["quota_clips"] if len(jobs[u]) != plan.quotas[u]]
    under += [u for u in refused["inflight"] if len(jobs[u]) < LIMITS.max_inflight]
    wrong_charge = [u for u in plan.quotas if charged.get(u, 0) != len(jobs[u])]
    return {
        "users_over_quota": len(over), "users_refused_under_quota": len(under),
        "users_at_quota": sum(1 for u, q in plan.quotas.items() if len(jobs[u]) == q),
        "users_charged_wrong": len(wrong_charge),
        "admitted": sum(len(v) for v in jobs.values()),
    }


def duplicates(outcomes: list[Outcome]) -> dict[str, int]:
    per_key: dict[int, set[str]] = defaultdict(set)
    resent_admitted = resent_dup = 0
    for o in outcomes:
        if o.job_id:
            per_key[o.req.update_id].add(o.job_id)
    admitted_keys = {o.req.update_id for o in outcomes if o.key == "accepted" and not o.req.resend}
    for o in outcomes:
        if o.req.resend and o.req.update_id in admitted_keys:
            resent_admitted += 1
            resent_dup += o.key == "duplicate"
    return {
        "keys_with_two_jobs": sum(1 for ids in per_key.values() if len(ids) > 1),
        "resends_of_admitted": resent_admitted,
        "resends_answered_duplicate": resent_dup,
    }


async def lost_jobs(storage: Storage, admitted: set[str]) -> dict[str, int]:
    """Every admitted job is queued (sorted set AND stream), running, or done."""
    r, k = storage.redis, storage.keys
    in_stream = {f["job"] for _, f in await r.xrange(k.lane())}
    in_queue = set(await r.zrange(k.queue, 0, -1))
    results = {f["job"] for _, f in await r.xrange(k.results(PLATFORM))}
    states: Counter[str] = Counter()
    lost = 0
    for job_id in admitted:
        state = await r.hget(k.job(job_id), "state")
        states[state or "missing"] += 1
        ok = {
            "queued": job_id in in_queue and job_id in in_stream,
            "running": job_id in in_stream and await r.hexists(k.running, job_id),
            "done": job_id in results,
        }.get(state or "", False)
        lost += not ok
    all_jobs = [key async for key in r.scan_iter(match=k.base + "job:*", count=1000)]
    return {"lost": lost, "phantom_jobs": len(all_jobs) - len(admitted), **dict(states)}


async def memory_per_job(storage: Storage, outcomes: list[Outcome]) -> dict[str, float]:
    """Bytes per queued job, structure by structure (MEMORY USAGE, all nested values)."""
    r, k = storage.redis, storage.keys
    queued = [o for o in outcomes if o.key == "accepted"
              and await r.hget(k.job(o.job_id), "state") == "queued"][:500]
    if not queued:
        return {}

    async def usage(key: str) -> int:
        return int(await r.memory_usage(key, samples=0) or 0)

    async def per_member(key: str, count: int) -> float:
        return await usage(key) / max(1, count)

    n = len(queued)
    out = {
        "job_hash": sum([await usage(k.job(o.job_id)) for o in queued]) / n,
        "reservation": sum([await usage(k.reservation(o.job_id)) for o in queued]) / n,
        "idempotency_key": sum([await usage(k.idem(f"tg:{o.req.update_id}")) for o in queued])
        / n,
        "stream_entry": await per_member(k.lane(), await r.xlen(k.lane())),
        "queue_member": await per_member(k.queue, await storage.jobs.queue_depth()),
    }
    users = {o.req.user for o in queued}
    per_user_sets = [
        await per_member(k.active(who(u).user), await r.scard(k.active(who(u).user)))
        + await per_member(k.user_jobs(who(u).user), await r.zcard(k.user_jobs(who(u).user)))
        for u in users
    ]
    out["user_sets_per_job"] = sum(per_user_sets) / len(per_user_sets)
    out = {name: round(v, 1) for name, v in out.items()}
    out["total"] = round(sum(out.values()), 1)
    out["sampled_jobs"] = n
    return out


# ---- engine ------------------------------------------------------------------------------
@asynccontextmanager
async def preview_engine(mode: str, url: str, prefix: str,
                         threads: int) -> AsyncIterator[dict[str, object]]:
    info: dict[str, object] = {"mode": mode}
    if mode == "none":
        yield info
        return
    with tempfile.TemporaryDirectory() as tmp:
        model = await build_preview_model(Path(tmp))
        if mode == "process":
            async with _engine_process(url, prefix, model, threads, info):
                yield info
        else:
            async with _engine_inline(url, prefix, model, info):
                yield info


async def build_preview_model(folder: Path) -> Path:
    """In a child process: a bot process never imports torch, and a heap holding torch's
    millions of objects would add 100-200 ms garbage-collector pauses to the latencies."""
    code = ("import sys; from pathlib import Path; from engine.preview import "
            "ensure_preview_model; print(ensure_preview_model(Path(sys.argv[1])))")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, str(folder), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError("could not build the preview model")
    return Path(out.decode().strip().splitlines()[-1])


@asynccontextmanager
async def _engine_process(url: str, prefix: str, model: Path, threads: int,
                          info: dict[str, object]) -> AsyncIterator[None]:
    env = dict(os.environ, CLIPBOT_REDIS_URL=url, CLIPBOT_REDIS_PREFIX=prefix,
               CLIPBOT_MODEL=str(model), CLIPBOT_STEPS="2", CLIPBOT_LOG_LEVEL="WARNING",
               CLIPBOT_DRAIN_TIMEOUT_S="5", OMP_NUM_THREADS=str(threads),
               PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clipbot.cli", "engine", env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert proc.stdout is not None
    drain: asyncio.Task[bytes] | None = None
    try:
        async with asyncio.timeout(180):
            while b" ready: " not in (line := await proc.stdout.readline()):
                if not line:
                    raise RuntimeError("engine exited before it was ready")
        drain = asyncio.create_task(proc.stdout.read())
        info["threads"] = threads
        yield
    finally:
        if proc.returncode is None:
            proc.terminate()  # SIGTERM: it finishes or hands back its job
            info["exit_code"] = await asyncio.wait_for(proc.wait(), 60)
        if drain is not None:
            await drain


@asynccontextmanager
async def _engine_inline(url: str, prefix: str, model: Path,
                         info: dict[str, object]) -> AsyncIterator[None]:
    from engine.pipeline import VideoGenerator
    from engine.worker import Worker, WorkerConfig

    gen = await asyncio.to_thread(VideoGenerator.load, str(model), device="cpu")
    async with await Storage.open(url, prefix) as storage:
        worker = Worker(storage, gen, WorkerConfig(engine_id="bench-load", profile="preview",
                                                   default_steps=2, drain_timeout_s=5))
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            yield
        finally:
            stop.set()
            await task


# ---- main --------------------------------------------------------------------------------
def cpu_s() -> float:
    """CPU time of this process (the bot side) only: not inflated by waiting for a core."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def latency(outcomes: list[Outcome]) -> dict[str, float]:
    ms = [o.latency_s * 1000 for o in outcomes]
    return {"p50_ms": round(pct(ms, 50), 2), "p90_ms": round(pct(ms, 90), 2),
            "p99_ms": round(pct(ms, 99), 2), "max_ms": round(max(ms), 2)}


async def grant_heavy(service: ClipService, plan: Plan) -> None:
    for user, q in plan.quotas.items():
        if q != LIMITS.daily_clips:
            await service.storage.accounts.grant(who(user).user, daily_clips=q)


async def charged(storage: Storage, plan: Plan) -> dict[int, int]:
    return {u: (await storage.accounts.quota(who(u).user, LIMITS)).used_clips
            for u in plan.quotas}


async def run(args: argparse.Namespace) -> dict[str, object]:
    plan = make_plan(args.users, args.prompts, args.bursts, args.resend, args.seed)
    prefix = f"bench-load-{uuid.uuid4().hex[:8]}"
    storage = await Storage.open(args.redis, prefix)
    try:
        service = ClipService(storage, CoreConfig(limits=LIMITS))
        await grant_heavy(service, plan)
        mem_before = (await storage.redis.info("memory"))["used_memory"]
        load_before = [round(x, 2) for x in os.getloadavg()]
        async with preview_engine(args.engine, args.redis, prefix, args.engine_threads) as eng:
            stop, depth = asyncio.Event(), []
            watcher = asyncio.create_task(watch_queue(storage, stop, depth))
            t0, cpu0 = time.perf_counter(), cpu_s()
            outcomes, busy = await drive(service, plan, args.concurrency, args.pause)
            wall = time.perf_counter() - t0
            eng["bot_cpu_ms_per_request"] = round((cpu_s() - cpu0) * 1000 / len(outcomes), 3)
            eng["load_average_before"] = load_before
            stop.set()
            await watcher
            eng["jobs_done_during_run"] = int(await storage.redis.hget(storage.keys.stats,
                                                                       "done") or 0)
        mem_after = (await storage.redis.info("memory"))["used_memory"]
        return await report(storage, plan, outcomes, depth, busy, wall, eng,
                            mem_after - mem_before, args)
    finally:
        keys = [k async for k in storage.redis.scan_iter(match=storage.keys.pattern, count=1000)]
        for i in range(0, len(keys), 500):
            await storage.redis.delete(*keys[i : i + 500])
        await storage.close()


async def report(storage: Storage, plan: Plan, outcomes: list[Outcome], depth: list[int],
                 busy: float, wall: float, eng: dict[str, object], mem_delta: int,
                 args: argparse.Namespace) -> dict[str, object]:
    adm = admission(plan, outcomes, await charged(storage, plan))
    bot_cpu_ms = eng.pop("bot_cpu_ms_per_request")
    load_before = eng.pop("load_average_before")
    admitted = {o.job_id for o in outcomes if o.key == "accepted"}
    return {
        "benchmark": "load",
        "setup": {"users": args.users, "prompts": plan.prompts, "resends": plan.resends,
                  "bad_inputs": plan.bad, "requests": len(outcomes), "bursts": args.bursts,
                  "concurrency": args.concurrency, "limits": LIMITS.__dict__,
                  "heavy_user_daily_clips": HEAVY_CLIPS, "engine": eng},
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                    "cpu_count": os.cpu_count(), "load_average_before": load_before,
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "ack_latency": latency(outcomes),
        "ack_p99_ms_by_burst": [latency([o for o in outcomes if o.burst == b])["p99_ms"]
                                for b in range(args.bursts)],
        "ack_latency_by_answer": {
            "accepted": latency([o for o in outcomes if o.key == "accepted"]),
            "duplicate": latency([o for o in outcomes if o.key == "duplicate"]),
            "refused": latency([o for o in outcomes if o.key not in ("accepted", "duplicate")]),
        },
        "throughput_rps": round(len(outcomes) / busy, 1),
        "bot_cpu_ms_per_request": bot_cpu_ms,
        "wall_s": round(wall, 2),
        "outcomes": dict(Counter(o.key for o in outcomes).most_common()),
        "admission": adm,
        "queue": {"cap": LIMITS.max_queue, "max_seen": max(depth), "samples": len(depth)},
        "duplicates": duplicates(outcomes),
        "jobs": await lost_jobs(storage, admitted),
        "redis_bytes_per_queued_job": await memory_per_job(storage, outcomes),
        "redis_used_memory_delta_per_admitted_job": round(mem_delta / max(1, len(admitted)), 1),
    }


def verdict(r: dict) -> dict[str, bool]:
    return {
        "ack_p99_under_250ms": r["ack_latency"]["p99_ms"] < 250,
        "zero_lost": r["jobs"]["lost"] == 0 and r["jobs"]["phantom_jobs"] == 0,
        "zero_over_admission": r["admission"]["users_over_quota"] == 0
        and r["admission"]["users_refused_under_quota"] == 0
        and r["queue"]["max_seen"] <= r["queue"]["cap"],
        "zero_duplicates": r["duplicates"]["keys_with_two_jobs"] == 0
        and r["duplicates"]["resends_of_admitted"] == r["duplicates"]["resends_answered_duplicate"]
        and r["admission"]["users_charged_wrong"] == 0,
    }


def print_table(r: dict) -> None:
    lat, adm, jobs, dup = r["ack_latency"], r["admission"], r["jobs"], r["duplicates"]
    mem = r["redis_bytes_per_queued_job"]
    rows = [
        ("requests (prompts + resends)", f"{r['setup']['requests']}"),
        ("ack p50 / p99 / max (ms)", f"{lat['p50_ms']} / {lat['p99_ms']} / {lat['max_ms']}"),
        ("throughput (req/s)", f"{r['throughput_rps']}"),
        ("bot CPU per request (ms)", f"{r['bot_cpu_ms_per_request']}"),
        ("load average before / after", f"{r['machine']['load_average_before'][0]} / "
                                        f"{r['machine']['load_average_after'][0]}"),
        ("admitted jobs", f"{adm['admitted']}"),
        ("users over quota / under", f"{adm['users_over_quota']} / "
                                     f"{adm['users_refused_under_quota']}"),
        ("users charged wrong", f"{adm['users_charged_wrong']}"),
        ("queue max seen / cap", f"{r['queue']['max_seen']} / {r['queue']['cap']}"),
        ("jobs lost / phantom", f"{jobs['lost']} / {jobs['phantom_jobs']}"),
        ("keys with two jobs", f"{dup['keys_with_two_jobs']}"),
        ("resends -> duplicate", f"{dup['resends_answered_duplicate']} / "
                                 f"{dup['resends_of_admitted']}"),
        ("engine jobs done during run", f"{r['setup']['engine'].get('jobs_done_during_run')}"),
        ("Redis bytes per queued job", f"{mem.get('total')}"),
        ("outcomes", ", ".join(f"{k}={v}" for k, v in r["outcomes"].items())),
    ]
    rows += [(f"target: {k}", "PASS" if v else "FAIL") for k, v in r["verdict"].items()]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--prompts", type=int, default=5000)
    ap.add_argument("--bursts", type=int, default=10)
    ap.add_argument("--pause", type=float, default=0.3, help="seconds between bursts")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--resend", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--engine", choices=("process", "inline", "none"), default="process")
    ap.add_argument("--engine-threads", type=int, default=1)
    ap.add_argument("--redis", default=os.environ.get("CLIPBOT_REDIS_URL",
                                                      "redis://127.0.0.1:6379/0"))
    ap.add_argument("--out", type=Path, default=HERE / "results" / "load.json")
    args = ap.parse_args()
    result = asyncio.run(run(args))
    result["verdict"] = verdict(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print_table(result)
    print(f"wrote {args.out}")
    return 0 if all(result["verdict"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
