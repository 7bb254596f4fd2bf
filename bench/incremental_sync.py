"""Benchmark 2: an incremental sync of accounts whose vendor data did not change.

    .venv/bin/python -m bench.incremental_sync [--db sqlite|postgres]

The simulator's seeded accounts (cloud-apis.md 5.3.1, 5.4.1): the 360 account 1234123412
(four vacuums, one offline, one shared; about 165 runs each) and the Mammotion Open API
client sim-client-1, with the simulated clock frozen so nothing new happens. Set-up syncs
import everything, details and maps included, until nothing is pending. Then one more
sync of each account is measured:

- vendor requests, from the simulator's request log, per endpoint and per device;
- SQL writes (INSERT/UPDATE/DELETE statements and affected rows, counted with
  `connection.execute_wrapper`), split into archive data (runs, faults, vendor totals,
  devices' list data), live status (a mower's detail, observed again), and the sync's
  own bookkeeping (lease, sync record, token bucket).

Goal: one request per listing endpoint per device, zero writes of archive data.
"""

from __future__ import annotations

from collections import Counter
from fnmatch import fnmatchcase

from bench.common import (
    Report,
    Simulator,
    SqlCounter,
    household_with_owner,
    link_360,
    link_mammotion,
    parse_args,
    prepare,
)

SID_QID, SID = "1234123412", "4a20145c62428d31b52b53c9ccbfcee4"
ARCHIVE_TABLES = {"devices_run", "devices_fault", "devices_devicestats"}
# Per-device listing endpoints (the device list is one per account).
LISTINGS = {
    "qihoo360": ["/clean/record/getList"],
    "mammotion": ["/v1/mower/work-reports/search", "/v1/mower/error-codes/search"],
}


def device_of(entry: dict) -> str:
    body = entry.get("body") if isinstance(entry.get("body"), dict) else {}
    return str(body.get("sn") or body.get("deviceId") or "")


def measure(sim, account) -> tuple[dict, SqlCounter]:
    from devices import sync

    sim.clear_requests()
    with SqlCounter() as counter:
        outcome = sync.run_sync(account.pk, trigger="manual")
    if outcome != "ok":
        raise SystemExit(f"incremental sync of {account} ended {outcome}")
    entries = sim.requests(vendor=account.vendor)
    return {"entries": entries}, counter


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    with Simulator("--speed", "0") as sim:
        environment = prepare(args.db, "incremental", env=sim.env(), keep=args.keep)
        from django.conf import settings

        from devices import sync, sync_details
        from devices.history import Run
        from devices.machines import Device

        household, _ = household_with_owner()
        accounts = [
            link_360(household, SID_QID, SID, budget=100_000),
            link_mammotion(household, budget=100_000),
        ]
        settings.SYNC_MAX_DETAILS_PER_SYNC = 10_000
        # The details pass a sync queues runs here at once, as a worker would after it.
        sync_details._queue = lambda pk, claim: sync_details.run_details(pk, lease_token=claim)
        for account in accounts:
            for _ in range(5):  # until every run has its detail
                sync.run_sync(account.pk, trigger="manual")
                pending = Run.objects.filter(
                    device__account=account, detail_synced_at__isnull=True
                ).exclude(result="running")
                if not pending.exists():
                    break
        settings.SYNC_MAX_DETAILS_PER_SYNC = 200  # back to the default

        report = Report("incremental sync of an unchanged account", args.db)
        all_ok = True
        for account in accounts:
            devices = Device.objects.filter(account=account, gone_at__isnull=True)
            runs = Run.objects.filter(device__account=account).count()
            result, counter = measure(sim, account)
            entries = result["entries"]
            by_path = Counter(e["path"] for e in entries)
            name = account.vendor
            report.figure(f"{name}: devices / archived runs", f"{devices.count()} / {runs}")
            report.figure(f"{name}: vendor requests", len(entries))
            for path, count in sorted(by_path.items()):
                report.figure(f"{name}:   {path}", count)
            # One request per listing endpoint per device (the devices it lists).
            most = max(
                [
                    n
                    for pattern in LISTINGS[name]
                    for n in Counter(
                        device_of(e) for e in entries if fnmatchcase(e["path"], pattern)
                    ).values()
                ]
                or [0]
            )
            per_listing_ok = most <= 1
            report.figure(
                f"{name}: max requests per listing per device", most, "", "1", per_listing_ok
            )
            writes = counter.writes()
            device_table = {"devices_device"}
            other_tables = {t for _, t in writes} - ARCHIVE_TABLES - device_table
            archive_rows = counter.rows_written(ARCHIVE_TABLES)
            archive_statements = sum(counter.writes(ARCHIVE_TABLES).values())
            report.figure(
                f"{name}: archive rows written (runs, faults, totals)",
                archive_rows,
                f"rows ({archive_statements} statements)",
                "0",
                archive_rows == 0,
            )
            report.figure(
                f"{name}: device rows written",
                counter.rows_written(device_table),
                f"rows ({sum(counter.writes(device_table).values())} statements)",
            )
            report.figure(
                f"{name}: bookkeeping rows written",
                counter.rows_written(other_tables),
                "rows ("
                + ", ".join(
                    f"{v} {t} x{n}" for (v, t), n in sorted(counter.writes(other_tables).items())
                )
                + ")",
            )
            report.figure(f"{name}: SQL statements in all", counter.queries)
            all_ok = all_ok and per_listing_ok and archive_rows == 0
        report.note(
            "a Mammotion sync also reads each mower's live status (4.4.4), which writes "
            "its observed-at time; 360 status comes by push"
        )
        report.note(f"DATA_DIR {environment.data_dir}")
        report.print()


if __name__ == "__main__":
    main()
