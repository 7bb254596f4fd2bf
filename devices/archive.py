"""Idempotent writes of synced data: runs, faults, vendor totals and run details.

Every write is an upsert keyed by the vendor's ids (unique constraints on (device,
remote_id)), an INSERT ... ON CONFLICT DO UPDATE (SQLite and Postgres) in a short
transaction per page, after the page was parsed whole. Rows that are already stored
unchanged are not written at all, so an incremental sync of an unchanged account writes
nothing and a re-run after a crash neither duplicates nor loses anything.

Runs, the one bulk write (a first import brings thousands), are written by
`_write_runs`: the statement `bulk_create(update_conflicts=True)` would send, with each
value adapted once by its column's kind instead of through the ORM's per-row, per-field
machinery (which cost more than the database's own work). Faults and the rest use
`bulk_create` itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from devices.clouds.base import LifetimeTotals, PeriodSeries, RemoteFault, RemoteRun
from devices.history import DeviceStats, Fault, Run
from devices.machines import Device

RUN_FIELDS = [
    "started_at",
    "ended_at",
    "duration_s",
    "area_m2",
    "mode",
    "result",
    "result_raw",
    "error_code",
    "progress",
]
FAULT_FIELDS = ["code", "level", "occurred_at", "title", "solution"]
CHUNK = 500


@dataclass
class RunsWritten:
    new: int = 0
    updated: int = 0
    new_faults: int = 0
    # The page held a run that was archived before `settled_before` (the time the last
    # complete listing finished): everything older is archived, an incremental sync stops.
    reached_settled: bool = False


def _run_values(remote: RemoteRun, old: Run | None) -> dict:
    """The listing fields (RUN_FIELDS) of a run as stored."""
    started = remote.started_at
    if started is None and remote.ended_at is not None and remote.duration_s is not None:
        # Mammotion lists no start (4.4.7): estimate it; the run detail brings the real one.
        started = remote.ended_at - timedelta(seconds=remote.duration_s)
    values = {
        "started_at": started,
        "ended_at": remote.ended_at,
        "duration_s": remote.duration_s if (remote.duration_s or 0) >= 0 else None,
        "area_m2": remote.area_m2,
        "mode": (remote.mode or "")[:32],
        "result": str(remote.result),
        "result_raw": (remote.result_raw or "")[:32],
        "error_code": str(remote.error_code or "")[:32],
        "progress": remote.progress,
    }
    if old is not None:
        # A listing never erases what a run detail added (e.g. Mammotion's exact start).
        if old.detail_synced_at is not None and old.started_at is not None:
            values["started_at"] = old.started_at
        for name, value in values.items():
            if value is None or value == "":
                values[name] = getattr(old, name)
    return values


def _differs(old: Run, values: dict) -> bool:
    return any(getattr(old, name) != values[name] for name in RUN_FIELDS)


def _write_runs(device: Device, rows: list[tuple[str, dict]]) -> None:
    """Upsert (remote_id, listing fields) rows of one device: new runs get the other
    columns' defaults, stored ones their listing fields updated. Postgres gets one array
    per column (UNNEST, as Django's own bulk_create does there: 20 parameters instead of
    thousands); SQLite rows of VALUES, as many per statement as it takes."""
    if not rows:
        return
    meta, ops = Run._meta, connection.ops
    quote = ops.quote_name
    listed = [meta.get_field("remote_id"), *map(meta.get_field, RUN_FIELDS)]
    # The columns a listing does not set: their defaults, adapted once for the lot.
    fixed = {"device": device.pk, "imported_at": timezone.now()}
    rest = [f for f in meta.concrete_fields if not f.primary_key and f not in listed]
    constants = [
        f.get_db_prep_save(fixed[f.name] if f.name in fixed else f.get_default(), connection)
        for f in rest
    ]
    head = (
        f"INSERT INTO {quote(meta.db_table)} "
        f"({', '.join(quote(f.column) for f in [*listed, *rest])}) "
    )
    tail = f" ON CONFLICT ({quote('device_id')}, {quote('remote_id')}) DO UPDATE SET " + ", ".join(
        f"{quote(name)} = EXCLUDED.{quote(name)}" for name in RUN_FIELDS
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = [[remote_id for remote_id, _ in rows]]
            arrays += [[values[name] for _, values in rows] for name in RUN_FIELDS]
            typed = ", ".join(f"%s::{f.db_type(connection)}[]" for f in listed)
            fixed_sql = ", ".join(f"%s::{f.db_type(connection)}" for f in rest)
            sql = f"{head}SELECT u.*, {fixed_sql} FROM UNNEST({typed}) AS u{tail}"  # noqa: S608
            cursor.execute(sql, [*constants, *arrays])  # in the order of the text
            return
        dates = {"started_at", "ended_at"}
        size = max(1, min(CHUNK, ops.bulk_batch_size([*listed, *rest], rows)))
        row_sql = "(" + ", ".join(["%s"] * (len(listed) + len(rest))) + ")"
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            params = []
            for remote_id, values in chunk:
                params.append(remote_id)
                for name in RUN_FIELDS:
                    value = values[name]
                    params.append(ops.adapt_datetimefield_value(value) if name in dates else value)
                params.extend(constants)
            cursor.execute(f"{head}VALUES {', '.join([row_sql] * len(chunk))}{tail}", params)


def upsert_runs(
    device: Device, remotes: Iterable[RemoteRun], *, settled_before: datetime | None = None
) -> RunsWritten:
    """Insert new runs and update changed ones of one listing page (one transaction)."""
    by_id = {r.remote_id[:96]: r for r in remotes if r.remote_id}
    written = RunsWritten()
    if not by_id:
        return written
    with transaction.atomic():
        existing = {
            run.remote_id: run
            for run in Run.objects.filter(device=device, remote_id__in=list(by_id)).only(
                "remote_id", "imported_at", "detail_synced_at", *RUN_FIELDS
            )  # not the run details: they can be large and are never compared here
        }
        rows = []
        for remote_id, remote in by_id.items():
            old = existing.get(remote_id)
            if old is not None and settled_before is not None and old.imported_at <= settled_before:
                written.reached_settled = True
            values = _run_values(remote, old)
            if old is None:
                written.new += 1
                rows.append((remote_id, values))
            elif _differs(old, values):
                written.updated += 1
                rows.append((remote_id, values))
        _write_runs(device, rows)
        if device.vendor == "qihoo360":
            written.new_faults = _faults_from_runs(
                device, [row for row in rows if row[1]["error_code"]]
            )
    return written


def _faults_from_runs(device: Device, rows: list[tuple[str, dict]]) -> int:
    """360 has no fault history: a run that ended with `errorEnd` is the fault record."""
    from devices.catalogue import error_text

    faults = [
        RemoteFault(
            vendor="qihoo360",
            remote_id=f"{remote_id}:{run['error_code']}",
            device_id=device.remote_id,
            code=None,
            title=error_text("qihoo360", run["error_code"]),
            occurred_at=run["ended_at"] or run["started_at"],
            extra={"code": run["error_code"]},
        )
        for remote_id, run in rows
        if run["ended_at"] or run["started_at"]
    ]
    return upsert_faults(device, faults)


def upsert_faults(device: Device, remotes: Iterable[RemoteFault]) -> int:
    """Insert new faults (and refresh changed texts); returns how many were new."""
    rows = {}
    for remote in remotes:
        if remote.occurred_at is None and remote.created_at is None:
            continue
        code = remote.code if remote.code is not None else remote.extra.get("code", "")
        rows[remote.remote_id[:128]] = Fault(
            device=device,
            remote_id=remote.remote_id[:128],
            code=str(code)[:32],
            level=remote.level if remote.level is not None and remote.level >= 0 else None,
            occurred_at=remote.occurred_at or remote.created_at,
            title=(remote.title or "")[:300],
            solution=remote.solution or "",
        )
    if not rows:
        return 0
    with transaction.atomic():
        existing = {
            f.remote_id: f for f in Fault.objects.filter(device=device, remote_id__in=list(rows))
        }
        changed = [
            row
            for remote_id, row in rows.items()
            if remote_id not in existing
            or any(getattr(existing[remote_id], n) != getattr(row, n) for n in FAULT_FIELDS)
        ]
        if changed:
            Fault.objects.bulk_create(
                changed,
                update_conflicts=True,
                unique_fields=["device", "remote_id"],
                update_fields=FAULT_FIELDS,
            )
    return sum(1 for remote_id in rows if remote_id not in existing)


def clue_markup(totals: LifetimeTotals) -> str:
    """360 clue text with its ((…)) highlight markers put back (the page bolds them)."""
    if totals.clues is None:
        return ""
    return "".join(f"(({text}))" if bold else text for text, bold in totals.clues.segments)


def save_device_stats(
    device: Device, totals: LifetimeTotals, series: PeriodSeries | None = None
) -> None:
    """The vendor's own totals (and 360 weekly/monthly series) of one device."""
    extra = {
        "mop_area_m2": totals.mop_area_m2,
        "time_saved_min": totals.time_saved_min,
        "carbon_g": totals.carbon_g,
        "clues": clue_markup(totals) or None,
    }
    values = {
        "area_m2": totals.area_m2,
        "runs": totals.run_count if (totals.run_count or 0) >= 0 else None,
        "duration_s": totals.duration_s if (totals.duration_s or 0) >= 0 else None,
        "extra": {k: v for k, v in extra.items() if v is not None},
        "updated_at": timezone.now(),
    }
    if series is not None:
        values["week_series"] = _points(series.week)
        values["month_series"] = _points(series.month)
    DeviceStats.objects.update_or_create(device=device, defaults=values)


def _points(points) -> list[dict]:
    if points is None:
        return []
    return [{"date": p.label, "area": p.area_m2} for p in points]


def save_shares(device: Device, shares) -> None:
    value = [{"name": s.display_name, "detail": s.qid or ""} for s in shares]
    if value != device.shares:
        Device.objects.filter(pk=device.pk).update(shares=value)


def save_run_detail(run: Run, detail: dict, *, map_file: str = "", **fields) -> None:
    """Store a run's detail (and map path); `fields` may refine listing values."""
    Run.objects.filter(pk=run.pk).update(
        detail=detail, map_file=map_file, detail_synced_at=timezone.now(), **fields
    )
