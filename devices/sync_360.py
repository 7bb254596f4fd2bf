"""One 360 Smart account's sync (cloud-apis.md 3.5), called by devices.sync.run_sync,
and its run details step, called by devices.sync_details.run_details.

The sync, most important first, so a spent budget or a crash costs the least:
1. device list (GetList);
2. every device's run listing, newest first by lastId paging, until a page holds a run
   that was archived before the last complete listing (a first import, or a device new
   since then, pages to the end); each page is parsed whole and upserted in one
   transaction (a first import: a batch of pages per transaction, the next page read
   while one is stored); runs that ended with an error also become Fault rows;
3. lifetime totals, weekly/monthly series and shares of devices with new runs (or
   stale ones), and the account totals.

The details pass (its own task, after the sync): getOne and the map of runs that have
none yet, newest first, within the budget's detail share (a run the vendor refuses is
stored as "unavailable" and not asked for again; one a pass did not reach keeps
`detail_synced_at` null and waits for the next pass).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from devices import archive, catalogue, maps
from devices.budget import BudgetSpent
from devices.clouds.base import (
    AuthExpired,
    BadResponse,
    CloudError,
    RateLimited,
    RunMap,
    Unavailable,
)
from devices.discovery import discover_devices
from devices.history import DeviceStats, Run
from devices.machines import Device
from devices.sync_job import DeadlineReached
from devices.sync_prefetch import Prefetch

PAGE_SIZE = 20  # cloud-apis.md 3.5.5: the product uses 20
# A first import stores its pages in batches: the first page alone, then twice as many
# runs each time up to BATCH_RUNS (fewer, larger transactions for long histories).
BATCH_RUNS = 500
MAX_PAGES = 2000
STATS_MAX_AGE = timedelta(hours=6)
ACCOUNT_TOTALS_KEY = "sync:qihoo360:account_totals:{pk}"
FATAL = (AuthExpired, RateLimited, Unavailable, BadResponse)
DETAIL_COST = 1  # vendor requests per run detail (getOne; the map comes with it)


@contextmanager
def per_device(ctx, device):
    """A device-level refusal (offline, no permission, unknown record) skips that device
    for this step; account-level errors stop the sync."""
    try:
        yield
    except FATAL:
        raise
    except CloudError as exc:
        ctx.note(f"{device.name}: {exc.user_message}")


def sync(ctx) -> None:
    account, client = ctx.account, ctx.client
    catalogue.refresh()  # shared by all accounts; only when older than a day
    ctx.progress("Reading the device list")
    ctx.before(1)
    discover_devices(account, client)
    ctx.counted()
    devices = list(Device.objects.filter(account=account, gone_at__isnull=True).order_by("pk"))
    settled = account.last_sync_ok_at
    changed = set()
    for device in devices:
        full = settled is None or device.first_seen_at > settled
        with per_device(ctx, device):
            if import_runs(ctx, device, settled_before=None if full else settled):
                changed.add(device.pk)
    ctx.mark_listings_done()
    for device in devices:
        with per_device(ctx, device):
            refresh_stats(ctx, device, changed=device.pk in changed)
    refresh_account_totals(ctx, changed=bool(changed))


def import_runs(ctx, device, *, settled_before) -> int:
    """List the device's runs newest first; returns how many were new."""
    if settled_before is None:
        return import_all_runs(ctx, device)
    listed = new = 0
    ctx.progress(f"{device.name}: listing runs (new runs)")
    ctx.before(1)
    pages = ctx.client.iter_run_pages(device.remote_id, page_size=PAGE_SIZE, max_pages=MAX_PAGES)
    for number, page in enumerate(pages, start=1):
        written = archive.upsert_runs(device, page, settled_before=settled_before)
        listed += len(page)
        new += written.new
        ctx.new_runs += written.new
        ctx.new_faults += written.new_faults
        ctx.progress(f"{device.name}: new runs, page {number}, {listed} runs listed, {new} new")
        if written.reached_settled or len(page) < PAGE_SIZE:
            break
        ctx.before(1)  # room for the next page
    ctx.counted()
    return new


def import_all_runs(ctx, device) -> int:
    """A first import (or a device new since the last complete listing): every page to
    the end. The next page is read while this one is stored (sync_prefetch), and pages
    are stored in batches growing from one page to BATCH_RUNS runs, each in one
    transaction (parsed whole before; a crash loses at most the batch in hand, which
    the next sync reads again)."""
    listed = new = 0
    batch: list = []
    batch_size = PAGE_SIZE
    ctx.progress(f"{device.name}: listing runs (first import)")
    ctx.before(1)
    pages = ctx.client.iter_run_pages(device.remote_id, page_size=PAGE_SIZE, max_pages=MAX_PAGES)
    with Prefetch(pages) as ahead:
        ahead.grant()
        while (page := ahead.next()) is not None:
            listed += len(page)
            batch.extend(page)
            more = len(page) == PAGE_SIZE  # a short page is the last (3.5.5)
            if more:
                try:
                    ctx.before(1)  # room for the next page, read while this batch is stored
                except (BudgetSpent, DeadlineReached):
                    new += store_runs(ctx, device, batch)  # keep what was read
                    raise
                ahead.grant()
            if len(batch) >= batch_size or not more:
                new += store_runs(ctx, device, batch)
                batch, batch_size = [], min(BATCH_RUNS, batch_size * 2)
            ctx.progress(f"{device.name}: first import, {listed} runs listed, {new} new")
            if not more:
                break
        new += store_runs(ctx, device, batch)
    ctx.counted()
    return new


def store_runs(ctx, device, runs: list) -> int:
    if not runs:
        return 0
    written = archive.upsert_runs(device, runs)
    ctx.new_runs += written.new
    ctx.new_faults += written.new_faults
    return written.new


def _stats_due(device, changed: bool) -> bool:
    stats = DeviceStats.objects.filter(device=device).values_list("updated_at", flat=True).first()
    return changed or stats is None or timezone.now() - stats > STATS_MAX_AGE


def _utc_offset_hours(account) -> float:
    offset = timezone.now().astimezone(account.household.tz).utcoffset()
    return offset.total_seconds() / 3600 if offset else 0.0


def refresh_stats(ctx, device, *, changed: bool) -> None:
    if not _stats_due(device, changed):
        return
    client = ctx.client
    ctx.progress(f"{device.name}: lifetime totals")
    ctx.before(3)
    totals = client.get_device_totals(device.remote_id)
    series = client.get_period_series(
        device.remote_id, utc_offset_hours=_utc_offset_hours(ctx.account)
    )
    shares = client.list_shares(device.remote_id)
    archive.save_device_stats(device, totals, series)
    archive.save_shares(device, shares)
    ctx.counted()


def account_totals(account) -> dict | None:
    """The 360 account-wide totals last synced (allStatis, 3.5.8), or None."""
    return cache.get(ACCOUNT_TOTALS_KEY.format(pk=account.pk))


def refresh_account_totals(ctx, *, changed: bool) -> None:
    stored = account_totals(ctx.account)
    fresh = stored and timezone.now() - stored["fetched_at"] < STATS_MAX_AGE
    if fresh and not changed:
        return
    ctx.before(1)
    totals = ctx.client.get_account_totals()
    value = {k: v for k, v in asdict(totals).items() if k != "clues"}
    cache.set(
        ACCOUNT_TOTALS_KEY.format(pk=ctx.account.pk),
        {**value, "fetched_at": timezone.now()},
        timeout=None,
    )
    ctx.counted()


def run_detail(run_map: RunMap) -> dict:
    grid = run_map.grid
    return {
        "rooms": [
            {
                "id": room.id,
                "name": room.name,
                "active": room.active,
                "clean_times": room.clean_times,
                "wind_mode": room.wind_mode,
                "water_pump": room.water_pump,
            }
            for room in run_map.rooms
        ],
        "zones": [
            {"id": z.id, "kind": z.kind, "forbid_type": z.forbid_type, "name": z.name}
            for z in run_map.zones
        ],
        "grid": (
            {"width": grid.width, "height": grid.height, "resolution": grid.resolution}
            if grid
            else None
        ),
        "map_error": run_map.map_error,
        "path_points": len(run_map.path),
        "charger": list(run_map.charger) if run_map.charger else None,
    }


def detail_devices(account) -> list:
    """The devices whose runs a details pass reads (those the account still has)."""
    return list(Device.objects.filter(account=account, gone_at__isnull=True).order_by("pk"))


def pending_details(account):
    """Runs of the account's current devices still without their detail."""
    return Run.objects.filter(
        device__account=account, device__gone_at__isnull=True, detail_synced_at__isnull=True
    )


def fetch_details(ctx, devices) -> None:
    """getOne for runs without details, newest first, within the detail budget and at
    most max_details() of them (counted in ctx.details_done)."""
    from devices.sync_details import max_details

    by_pk = {device.pk: device for device in devices}
    pending = Run.objects.filter(device__in=devices, detail_synced_at__isnull=True)
    total, done, cap = pending.count(), 0, max_details()
    while total and done < cap:
        room = min(ctx.budget.remaining(details=True), cap - done)
        batch = list(pending.order_by("-started_at", "-pk")[: max(1, min(room, 100))])
        if not batch:
            break
        for run in batch:
            ctx.progress(f"Run details and maps: {done} of {total} fetched")
            ctx.before(1, details=True)
            fetch_one(ctx, by_pk[run.device_id], run)
            done += 1
            ctx.details_done = done
        ctx.counted()
    if total:
        ctx.progress(f"Run details and maps: {done} of {total} fetched")


def fetch_one(ctx, device, run) -> None:
    try:
        run_map = ctx.client.get_run(device.remote_id, run.remote_id)
    except FATAL:
        raise
    except CloudError as exc:
        # The vendor no longer has this record (or refuses it): do not ask again.
        archive.save_run_detail(run, {"unavailable": exc.user_message[:200]})
        return
    path = ""
    if run_map.grid is not None:
        path = maps.store_map(run, maps.render_run_map(run_map))
    fields = {}
    if run_map.ended_at and run.ended_at is None:
        fields["ended_at"] = run_map.ended_at
    archive.save_run_detail(run, run_detail(run_map), map_file=path, **fields)
