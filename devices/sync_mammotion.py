"""One Mammotion Open API account's sync (cloud-apis.md 4.4, 4.7), called by
devices.sync.run_sync, and its run details step, called by
devices.sync_details.run_details.

The sync:

1. device list (`/v1/mowers`);
2. per mower the work reports: one page of 100 (newest first) when it holds a run
   archived before the last complete listing, else every page (first import, new
   mower, or more than a page of new runs); parsed whole, then upserted;
3. per mower the fault history of the last 30 days, the status from the Open API
   detail (never the work-params endpoint, which commands the mower, 4.4.11), with the
   sleep protection of 4.7, and the vendor's summary when it may have changed.

The details pass (its own task, after the sync): details of finished runs without one,
newest first, within the budget's detail share, each with its job map downloaded from
the short-lived `mapFilePath` (the URL itself is never stored).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from django.utils import timezone

from devices import archive, catalogue, maps
from devices.clouds.base import CloudError, MowerRunDetail, RunResult, Unavailable
from devices.discovery import discover_devices
from devices.history import DeviceStats, Run
from devices.machines import Device, DeviceKind
from devices.sync_360 import FATAL, per_device

PAGE_SIZE = 100  # the Open API's maximum page size (simulator: 5.4.4)
MAX_PAGES = 50
STATS_MAX_AGE = timedelta(hours=6)
# 4.7 sleep protection: a mower docked on an unpowered dock (Standby, chargeStatus 0)
# with >= 30 % battery is not polled again for 30 minutes, so polling does not keep it
# awake. The sync runs at most every few minutes, so one observation of that state is
# already "for 2 consecutive minutes".
SLEEP_BATTERY = 30
SLEEP_PAUSE = timedelta(minutes=30)
ACTIVE_STATES = {"working", "mowing", "returning", "paused", "taskpaused"}
DETAIL_COST = 2  # vendor requests per run detail: the job detail and its map download


def sync(ctx) -> None:
    account, client = ctx.account, ctx.client
    ctx.progress("Reading the device list")
    ctx.before(1)
    discover_devices(account, client)
    ctx.counted()
    devices = Device.objects.filter(account=account, gone_at__isnull=True).order_by("pk")
    mowers = [device for device in devices if device.kind != DeviceKind.STATION]
    settled = account.last_sync_ok_at
    changed = set()
    for device in mowers:
        full = settled is None or device.first_seen_at > settled
        with per_device(ctx, device):
            if import_runs(ctx, device, settled_before=None if full else settled):
                changed.add(device.pk)
    ctx.mark_listings_done()
    for device in mowers:
        with per_device(ctx, device):
            import_faults(ctx, device)
        with per_device(ctx, device):
            refresh_status(ctx, device)
        with per_device(ctx, device):
            refresh_summary(ctx, device, changed=device.pk in changed)


def import_runs(ctx, device, *, settled_before) -> int:
    client = ctx.client
    new = 0
    if settled_before is not None:
        ctx.progress(f"{device.name}: listing new runs")
        ctx.before(1)
        first = client.list_runs(device.remote_id, page_size=PAGE_SIZE, max_pages=1)
        written = archive.upsert_runs(device, first, settled_before=settled_before)
        new += written.new
        ctx.new_runs += written.new
        ctx.counted()
        if written.reached_settled or len(first) < PAGE_SIZE:
            return new
    ctx.progress(f"{device.name}: listing all runs (first import)")
    ctx.before(2)
    pages = max(1, min(MAX_PAGES, ctx.budget.remaining()))
    runs = client.list_runs(device.remote_id, page_size=PAGE_SIZE, max_pages=pages)
    ctx.counted()
    for start in range(0, len(runs), PAGE_SIZE):
        written = archive.upsert_runs(device, runs[start : start + PAGE_SIZE])
        new += written.new
        ctx.new_runs += written.new
        ctx.progress(
            f"{device.name}: {min(start + PAGE_SIZE, len(runs))} of {len(runs)} runs stored"
        )
    return new


def import_faults(ctx, device) -> None:
    ctx.before(1)
    faults = ctx.client.list_faults(device.remote_id)
    ctx.counted()
    catalogue.remember_mammotion_faults(faults)
    ctx.new_faults += archive.upsert_faults(device, faults)


def sleeping(device, now) -> bool:
    """4.7: leave a mower alone that rests on an unpowered dock with enough battery."""
    return (
        (device.state or "").strip().lower() == "standby"
        and device.charge_status == 0
        and (device.battery or 0) >= SLEEP_BATTERY
        and device.status_observed_at is not None
        and now - device.status_observed_at < SLEEP_PAUSE
    )


def apply_status(device, status) -> None:
    try:
        from devices.status import apply_mammotion_status
    except ImportError:  # pragma: no cover - the colleague's module is the normal path
        apply_mammotion_status = _write_status
    apply_mammotion_status(device, status)


def _write_status(device, status) -> None:
    device.state = (status.status or "")[:64]
    device.battery = status.battery
    device.charge_status = status.charge_status
    device.status_observed_at = timezone.now()
    device.save(update_fields=["state", "battery", "charge_status", "status_observed_at"])


def refresh_status(ctx, device) -> None:
    if not device.online:
        return  # the device list says offline: nothing to read, nothing to wake
    if sleeping(device, timezone.now()):
        return
    ctx.before(1)
    status = ctx.client.get_status(device.remote_id)
    ctx.counted()
    apply_status(device, status)
    if status.state in ACTIVE_STATES:
        ctx.keep_active = True


def refresh_summary(ctx, device, *, changed: bool) -> None:
    stats = DeviceStats.objects.filter(device=device).values_list("updated_at", flat=True).first()
    if stats is not None and not changed and timezone.now() - stats < STATS_MAX_AGE:
        return
    ctx.before(1)
    totals = ctx.client.get_summary(device.remote_id)
    ctx.counted()
    archive.save_device_stats(device, totals)


def run_detail(detail: MowerRunDetail) -> dict:
    """What the run page shows (dashboard/runs.py): timeline and work parameters."""
    params = asdict(detail.work_params) if detail.work_params else None
    return {
        "events": [
            {"at": e.at.isoformat() if e.at else None, "code": e.code, "label": e.label}
            for e in detail.events
        ],
        "work_params": params,
        "energy_wh": detail.energy_wh,
        "time_saved_min": detail.time_saved_min,
        "carbon_g": detail.carbon_g,
        "job_content": detail.job_content,
    }


def detail_devices(account) -> list:
    """The mowers whose runs a details pass reads (not the stations, not gone ones)."""
    devices = Device.objects.filter(account=account, gone_at__isnull=True).order_by("pk")
    return [device for device in devices if device.kind != DeviceKind.STATION]


def pending_details(account):
    """Finished runs of the account's current mowers still without their detail."""
    return (
        Run.objects.filter(
            device__account=account, device__gone_at__isnull=True, detail_synced_at__isnull=True
        )
        .exclude(device__kind=DeviceKind.STATION)
        .exclude(result=RunResult.RUNNING)
    )


def fetch_details(ctx, mowers) -> None:
    """Details (and maps) of finished runs without one, newest first, at most
    max_details() of them (counted in ctx.details_done)."""
    from devices.sync_details import max_details

    by_pk = {device.pk: device for device in mowers}
    pending = Run.objects.filter(device__in=mowers, detail_synced_at__isnull=True).exclude(
        result=RunResult.RUNNING
    )

    total, done, skipped, cap = pending.count(), 0, set(), max_details()
    while total and done < cap:
        room = min(ctx.budget.remaining(details=True) // 2, cap - done)
        batch = pending.exclude(pk__in=skipped).order_by("-started_at", "-pk")
        batch = list(batch[: max(1, min(room, 50))])
        if not batch:
            break
        for run in batch:
            ctx.progress(f"Run details and maps: {done} of {total} fetched")
            ctx.before(2, details=True)
            if not fetch_one(ctx, by_pk[run.device_id], run):
                skipped.add(run.pk)
            done += 1
            ctx.details_done = done
    if total:
        ctx.progress(f"Run details and maps: {done} of {total} fetched")


def fetch_one(ctx, device, run) -> bool:
    """Store one run's detail and map; False when it must be tried again next time."""
    try:
        detail = ctx.client.get_run_detail(device.remote_id, run.remote_id)
    except FATAL:
        raise
    except CloudError as exc:  # NotFound and other refusals: the vendor forgot this run
        archive.save_run_detail(run, {"unavailable": exc.user_message[:200]})
        return True
    ctx.counted()
    data, path = run_detail(detail), ""
    if detail.map_url:
        try:
            ctx.extra_requests += 1
            png = maps.download_map(ctx.http_session(), detail.map_url, timeout=ctx.timeout)
            path = maps.store_map(run, png)
        except Unavailable as exc:
            # Transient (or the signed URL expired): keep the run pending, try next time.
            ctx.note(f"{device.name}: job map not downloaded ({exc})")
            return False
        except maps.MapError as exc:
            data["map_error"] = str(exc)
    fields = {}
    if detail.run.started_at is not None:
        fields["started_at"] = detail.run.started_at
    archive.save_run_detail(run, data, map_file=path, **fields)
    return True
