"""Benchmark 4: a full sync round of many accounts on real workers.

    .venv/bin/python -m bench.many_accounts [--accounts 1000] [--runs-per-device 5]
        [--latency-ms 20] [--workers 2] [--worker-args "--pool threads --concurrency 4"]

Postgres (a scratch database) and Redis (db 14) as in production. The simulator (its own
process) generates `--accounts` 360 accounts with 3 vacuums each and `--runs-per-device`
runs per vacuum, and delays every vendor request by `--latency-ms`. Each account is
linked with the default hourly budget (300 requests). `--workers` real worker processes
run `celery -A dashboard worker` with the options of the Procfile's worker line (or
`--worker-args`), with production settings (DEBUG off).

Two rounds are timed, each from the first dispatch to the end of the last sync's
SyncRecord (the database's own timestamps):

1. first sync after linking: device list, every vacuum's listing, totals and series.
   Each sync then queues a run details pass (details and maps of its runs, under the
   budget) on the low-priority "details" queue; those are timed separately, from the
   same first dispatch to the end of the last pass, once no run waits for its details;
2. the next round of the same accounts, nothing new at the vendor (the steady state).

The bench plays the beat: it calls `dispatch_due()` until nothing is left to claim (the
real beat claims at most DISPATCH_LIMIT accounts a minute). Per account it checks the
outcome, the requests of its syncs against its budget (the rolling hour holds both
rounds), and, from the simulator's request log (its last 20,000 entries), the most
requests one account had in flight at once (arrival times plus the added latency).

Goal: each round < 60 s with 1,000 accounts, 20 ms latency, 2 worker processes.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from collections import Counter, defaultdict
from pathlib import Path

from bench.common import (
    PYTHON,
    REDIS_URL,
    ROOT,
    Report,
    Simulator,
    cpu_seconds,
    household_with_owner,
    link_360,
    parse_args,
    prepare,
)

GOAL_S = 60.0
ROUND_TIMEOUT_S = 900


def procfile_worker_args() -> list[str]:
    """The worker options of the Procfile's `worker:` line (pool, concurrency...)."""
    line = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("worker:")
    )
    words = shlex.split(line.partition(":")[2])
    keep, skip = [], False
    for word in words[words.index("worker") + 1 :]:
        if skip:
            skip = False
            continue
        if word in ("--hostname", "-n", "--loglevel", "-l"):
            skip = True
            continue
        keep.append(word)
    return keep


def start_workers(count: int, options: list[str], env: dict, logdir: Path) -> list:
    celery = str(Path(PYTHON).parent / "celery")
    workers = []
    for number in range(count):
        log = (logdir / f"worker{number}.log").open("w")
        command = [celery, "-A", "dashboard", "worker", "--loglevel", "WARNING",
                   "--hostname", f"bench{number}@%h", *options]  # fmt: skip
        process = subprocess.Popen(  # noqa: S603 - our own venv's celery, fixed arguments
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        workers.append((process, log))
    return workers


def wait_for_workers(app, count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=1.0)) >= count:
            return
    raise SystemExit("the workers did not answer a ping within 60 s")


def stop_workers(workers) -> None:
    for process, _ in workers:
        if process.poll() is None:
            process.terminate()  # warm shutdown
    for process, log in workers:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def wait_until(predicate, label: str, what: str) -> None:
    deadline = time.monotonic() + ROUND_TIMEOUT_S
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise SystemExit(f"{label}: not every {what} finished within {ROUND_TIMEOUT_S} s")


def run_round(ids: list[int], label: str, pids: dict[str, int]) -> dict:
    """Make every account due, dispatch until all are claimed, wait for the syncs'
    records, then for the details passes they queued. Also the CPU seconds each
    process (`pids`: name -> pid) used meanwhile."""
    from django.db.models import Max
    from django.utils import timezone

    from devices import sync
    from devices.history import Run, SyncOutcome, SyncRecord, SyncTrigger
    from devices.models import CloudAccount

    CloudAccount.objects.filter(pk__in=ids).update(next_sync_at=timezone.now())
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    started = timezone.now()
    queued = 0
    while True:
        claimed = sync.dispatch_due()
        queued += claimed
        if not claimed:
            break
    dispatched = timezone.now()
    since = SyncRecord.objects.filter(account_id__in=ids, started_at__gte=started)
    records = since.exclude(trigger=SyncTrigger.DETAILS)
    finished = records.exclude(outcome__in=[SyncOutcome.RUNNING, SyncOutcome.SKIPPED])
    wait_until(lambda: finished.count() >= len(ids), label, "sync")
    ended = records.aggregate(end=Max("ended_at"))["end"]
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
    passes = since.filter(trigger=SyncTrigger.DETAILS)
    pending = Run.objects.filter(device__account_id__in=ids, detail_synced_at__isnull=True)
    wait_until(
        lambda: (
            not pending.exists()
            and not passes.filter(outcome=SyncOutcome.RUNNING).exists()
            and not CloudAccount.objects.filter(pk__in=ids).exclude(lease_token="").exists()
        ),
        label,
        "details pass",
    )
    details_ended = passes.aggregate(end=Max("ended_at"))["end"]
    return {
        "cpu": cpu,
        "queued": queued,
        "dispatch_s": (dispatched - started).total_seconds(),
        "seconds": (ended - started).total_seconds(),
        "outcomes": Counter(records.values_list("outcome", flat=True)),
        "requests": list(records.values_list("account_id", "requests")),
        "passes": passes.count(),
        "pass_outcomes": Counter(passes.values_list("outcome", flat=True)),
        "details_s": (details_ended - started).total_seconds() if details_ended else None,
        "cpu_details": {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()},
    }


def in_flight(entries: list[dict], latency_s: float) -> tuple[int, int]:
    """(the most requests one account had in flight at once, accounts seen): each
    request counted from its arrival for the added latency."""
    by_account = defaultdict(list)
    for entry in entries:
        match = re.search(r"qid=(\d+)", entry.get("headers", {}).get("cookie", ""))
        if match:
            by_account[match.group(1)].append(entry["time"])
    most = 0
    for times in by_account.values():
        times.sort()
        start = 0
        for end, arrival in enumerate(times):
            while times[start] <= arrival - latency_s:
                start += 1
            most = max(most, end - start + 1)
    return most, len(by_account)


def main() -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        dbs=("postgres",),
        default_db="postgres",
        extra=[
            ("--accounts", {"type": int, "default": 1000}),
            ("--runs-per-device", {"type": int, "default": 5}),
            ("--latency-ms", {"type": float, "default": 20.0}),
            ("--workers", {"type": int, "default": 2}),
            ("--worker-args", {"default": None, "help": "instead of the Procfile's options"}),
        ],
    )
    options = shlex.split(args.worker_args) if args.worker_args else procfile_worker_args()
    latency_s = args.latency_ms / 1000
    with Simulator() as sim:
        made = sim.control(
            "POST",
            "360/generate",
            {
                "accounts": args.accounts,
                "runs_per_device": args.runs_per_device,
                "devices_per_account": 3,
            },
        )["accounts"]
        environment = prepare("postgres", "accounts", env=sim.env(), redis=True, keep=args.keep)
        import redis
        from django.conf import settings

        from dashboard.celery import app
        from devices import budget, catalogue
        from devices.models import CloudAccount

        redis.Redis.from_url(REDIS_URL).flushdb()  # db 14 is the benchmarks' own
        household, _ = household_with_owner()
        ids = [link_360(household, acc["qid"], acc["sid"]).pk for acc in made]
        catalogue.refresh()  # shared by all accounts, refreshed daily: not in the round
        sim.control("POST", "faults", {"delay": latency_s, "count": -1})

        worker_env = {
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": settings.SECRET_KEY,
            "CREDENTIAL_KEYS": settings.CREDENTIAL_KEYS,
            "ALLOWED_HOSTS": "127.0.0.1",
        }
        workers = start_workers(args.workers, options, worker_env, environment.data_dir)
        try:
            wait_for_workers(app, args.workers)
            first_id = sim.last_request_id()
            pids = {"simulator": sim.process.pid, "bench (dispatch)": os.getpid()}
            pids.update({f"worker {n}": p.pid for n, (p, _) in enumerate(workers)})
            rounds = {"first sync after linking": run_round(ids, "round 1", pids)}
            middle_id = sim.last_request_id()
            entries = sim.requests(vendor="qihoo360", limit=20000)
            rounds["next round, nothing new"] = run_round(ids, "round 2", pids)
            last_id = sim.last_request_id()
        finally:
            stop_workers(workers)
        accounts = CloudAccount.objects.filter(pk__in=ids)
        hour_use = [budget.used_this_hour(account) for account in accounts]
        limit = min(a.request_budget_per_hour for a in accounts)

    report = Report(f"{args.accounts:,} accounts, {args.latency_ms:.0f} ms latency", "postgres")
    report.figure("workers", f"{args.workers} x celery worker {' '.join(options)}")
    vendor_requests = [middle_id - first_id, last_id - middle_id]
    for (name, result), requests_made in zip(rounds.items(), vendor_requests, strict=True):
        seconds = result["seconds"]
        report.figure(
            f"{name}: dispatch -> last sync's record",
            seconds,
            "s",
            f"< {GOAL_S:.0f}",
            seconds < GOAL_S,
        )
        if result["passes"]:
            report.figure(f"{name}: dispatch -> last run details pass", result["details_s"], "s")
            outcomes = ", ".join(f"{k} {n}" for k, n in sorted(result["pass_outcomes"].items()))
            report.figure(f"{name}: run details passes", f"{result['passes']} ({outcomes})")
        report.figure(
            f"{name}: accounts queued", f"{result['queued']} in {result['dispatch_s']:.1f} s"
        )
        report.figure(
            f"{name}: CPU seconds used (syncs)",
            ", ".join(f"{who} {secs:.1f}" for who, secs in result["cpu"].items()),
        )
        if result["passes"]:
            report.figure(
                f"{name}: CPU seconds used (syncs and details passes)",
                ", ".join(f"{who} {secs:.1f}" for who, secs in result["cpu_details"].items()),
            )
        report.figure(
            f"{name}: outcomes",
            ", ".join(f"{k} {n}" for k, n in sorted(result["outcomes"].items())),
        )
        per_account = [n for _, n in result["requests"]]
        report.figure(
            f"{name}: vendor requests (syncs and details passes)",
            f"{requests_made:,}; the syncs' per account max "
            f"{max(per_account)}, mean {sum(per_account) / len(per_account):.1f}",
        )
    report.figure(
        "requests per account in the rolling hour (both rounds)",
        f"max {max(hour_use)}",
        "",
        f"<= budget {limit}",
        max(hour_use) <= limit,
    )
    most, seen = in_flight(entries, latency_s)
    report.figure(
        "most requests one account had in flight (round 1, log sample)",
        f"{most} ({seen} accounts in the sample)",
        "",
        "<= 2",
        most <= 2,
    )
    report.note(
        "the bench calls dispatch_due() until nothing is due; the beat would claim "
        "DISPATCH_LIMIT accounts a minute"
    )
    report.note(f"DATA_DIR {environment.data_dir}")
    report.print()


if __name__ == "__main__":
    main()
