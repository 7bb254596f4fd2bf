"""Benchmark 1: the first import of a long history through the real sync service.

    .venv/bin/python -m bench.import_history [--db sqlite|postgres] [--runs 10000]

One generated 360 account with one vacuum holding `--runs` runs, served by the simulator
(its own process, zero added latency). One `devices.sync.run_sync` imports it: device
list, every listing page, parsed and upserted page by page, faults from runs that ended
with an error, lifetime totals. Run details and maps are not part of the figure (the
quality bar: they are fetched afterwards, spread under the budget), so this run sets
SYNC_MAX_DETAILS_PER_SYNC = 0; the account's hourly budget is raised so that one sync
may read all pages (the default of 300 would spread this import over two hours).

Baseline, same run, same database: a raw `Run.objects.bulk_create` of the same rows
(model instances made from the stored values, Django's default batch size, one
transaction; the median of 3). The ratio is import time / baseline. The time in HTTP
(measured at `requests.Session.send`) and in `archive.upsert_runs` are shown as well;
they overlap when the next page is read while one is stored.
"""

from __future__ import annotations

import time

from bench.common import (
    Report,
    Simulator,
    cpu_seconds,
    household_with_owner,
    link_360,
    median,
    parse_args,
    prepare,
)

GOAL_RATE = 1000.0
GOAL_RATIO = 2.0


class Stopwatch:
    """Adds up the time spent inside a wrapped callable."""

    def __init__(self):
        self.seconds = 0.0
        self.calls = 0

    def wrap(self, fn):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        return timed


def baseline_seconds(device, rows: list[dict]) -> float:
    """A raw bulk_create of the same rows (plain values, as the import has them after
    parsing) into another device, in one transaction."""
    from django.db import transaction

    from devices.models import Run

    start = time.perf_counter()
    with transaction.atomic():
        Run.objects.bulk_create([Run(device=device, **row) for row in rows])
    elapsed = time.perf_counter() - start
    Run.objects.filter(device=device).delete()
    return elapsed


def import_once(sim, account, upserts: Stopwatch, http: Stopwatch) -> dict:
    """One complete import of the account into an empty archive, timed."""
    from devices import sync
    from devices.models import CloudAccount, DeviceStats, Fault, Run

    Run.objects.filter(device__account=account).delete()
    Fault.objects.filter(device__account=account).delete()
    DeviceStats.objects.filter(device__account=account).delete()
    CloudAccount.objects.filter(pk=account.pk).update(last_sync_ok_at=None)
    upserts.seconds = http.seconds = 0.0
    first_request, sim_cpu = sim.last_request_id(), cpu_seconds(sim.process.pid)
    start, cpu = time.perf_counter(), time.process_time()
    outcome = sync.run_sync(account.pk, trigger="manual")
    return {
        "seconds": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
        "sim_cpu": cpu_seconds(sim.process.pid) - sim_cpu,
        "requests": sim.last_request_id() - first_request,
        "outcome": outcome,
        "runs": Run.objects.filter(device__account=account).count(),
        "upserts": upserts.seconds,
        "http": http.seconds,
    }


def main() -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        extra=[
            ("--runs", {"type": int, "default": 10_000}),
            ("--repeat", {"type": int, "default": 3, "help": "imports (and baselines) to run"}),
        ],
    )
    with Simulator() as sim:
        made = sim.control("POST", "360/generate", {"accounts": 1, "runs_per_device": args.runs})[
            "accounts"
        ][0]
        sim.control("GET", f"360/devices/{made['sns'][0]}")  # builds the simulator's history
        environment = prepare(args.db, "import", env=sim.env(), keep=args.keep)

        import requests
        from django.conf import settings
        from django.utils import timezone

        from devices import archive, catalogue
        from devices.models import Device, Run

        settings.SYNC_MAX_DETAILS_PER_SYNC = 0
        household, _ = household_with_owner()
        account = link_360(household, made["qid"], made["sid"], budget=100_000)
        catalogue.refresh()  # shared by all accounts, once a day: not part of the figure

        upserts, http = Stopwatch(), Stopwatch()
        archive.upsert_runs = upserts.wrap(archive.upsert_runs)
        requests.Session.send = http.wrap(requests.Session.send)
        spare = Device.objects.create(
            account=account, vendor="qihoo360", kind="vacuum", remote_id="bench-baseline",
            name="baseline", first_seen_at=timezone.now(),
        )  # fmt: skip
        fields = [*archive.RUN_FIELDS, "remote_id", "imported_at"]
        imports, baselines = [], []
        for _ in range(args.repeat):  # interleaved: a drifting machine hits both alike
            result = import_once(sim, account, upserts, http)
            if result["outcome"] != "ok" or result["runs"] != args.runs:
                raise SystemExit(f"import failed: {result}")
            imports.append(result)
            rows = list(Run.objects.filter(device__account=account).values(*fields))
            for row in rows:
                row["remote_id"] = "b-" + row["remote_id"]
            baselines.append(baseline_seconds(spare, rows))

    chosen = sorted(imports, key=lambda r: r["seconds"])[len(imports) // 2]  # the median
    elapsed, base = chosen["seconds"], median(baselines)
    rate, ratio = args.runs / elapsed, elapsed / base
    report = Report("history import", args.db)
    report.figure("runs imported", args.runs)
    every = ", ".join(f"{r['seconds']:.2f}" for r in imports)
    report.figure(f"import time (median of {args.repeat})", elapsed, f"s (all: {every})")
    report.figure("import rate", rate, "runs/s", f">= {GOAL_RATE:,.0f}", rate >= GOAL_RATE)
    every = ", ".join(f"{b:.2f}" for b in baselines)
    report.figure(f"baseline: raw bulk_create (median of {args.repeat})", base, f"s (all: {every})")
    report.figure("ratio import / bulk_create", ratio, "x", f"<= {GOAL_RATIO}", ratio <= GOAL_RATIO)
    report.figure("vendor requests", chosen["requests"])
    report.figure(
        "CPU seconds: this process / simulator", f"{chosen['cpu']:.2f} / {chosen['sim_cpu']:.2f}"
    )
    report.figure("  time in HTTP (client side)", chosen["http"], "s")
    report.figure("  time in archive.upsert_runs", chosen["upserts"], "s")
    report.figure("  upsert_runs / bulk_create", chosen["upserts"] / base, "x")
    report.note(f"DATA_DIR {environment.data_dir}")
    report.print()


if __name__ == "__main__":
    main()
