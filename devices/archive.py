"""Idempotent writes of synced data: runs, faults, vendor totals and run details.

Every write is an upsert keyed by the vendor's ids (unique constraints on (device,
remote_id)), done with `bulk_create(update_conflicts=True)` (SQLite and Postgres) in a
short transaction per page, after the page was parsed whole. Rows that are already
stored unchanged are not written at all, so an incremental sync of an unchanged account
writes nothing and a re-run after a crash neither duplicates nor loses anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
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


def _run_row(device: Device, remote: RemoteRun, old: Run | None) -> Run:
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
    return Run(device=device, remote_id=remote.remote_id[:96], **values)


def _differs(old: Run, new: Run) -> bool:
    return any(getattr(old, name) != getattr(new, name) for name in RUN_FIELDS)


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
            row = _run_row(device, remote, old)
            if old is None:
                written.new += 1
                rows.append(row)
            elif _differs(old, row):
                written.updated += 1
                rows.append(row)
        for start in range(0, len(rows), CHUNK):
            Run.objects.bulk_create(
                rows[start : start + CHUNK],
                update_conflicts=True,
                unique_fields=["device", "remote_id"],
                update_fields=RUN_FIELDS,
            )
        if device.vendor == "qihoo360":
            written.new_faults = _faults_from_runs(device, [r for r in rows if r.error_code])
    return written


def _faults_from_runs(device: Device, runs: list[Run]) -> int:
    """360 has no fault history: a run that ended with `errorEnd` is the fault record."""
    from devices.catalogue import error_text

    faults = [
        RemoteFault(
            vendor="qihoo360",
            remote_id=f"{run.remote_id}:{run.error_code}",
            device_id=device.remote_id,
            code=None,
            title=error_text("qihoo360", run.error_code),
            occurred_at=run.ended_at or run.started_at,
            extra={"code": run.error_code},
        )
        for run in runs
        if run.ended_at or run.started_at
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
