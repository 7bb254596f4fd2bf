"""One 360 account's sync against the simulator over real HTTP (in this thread)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from PIL import Image

from devices import archive
from devices.cloud import client_for
from devices.clouds.qihoo360 import Qihoo360Client
from devices.history import DeviceStats, Fault, Run, SyncOutcome, SyncRecord
from devices.machines import Device
from devices.models import CloudAccount

from .conftest import (
    SID,
    SID_ONLINE_SNS,
    SID_QID,
    last_sync,
    make_account,
    sim_run_counts,
    sync_now,
    sync_only,
)

pytestmark = pytest.mark.django_db


def runs_by_sn(account) -> dict[str, int]:
    counts = {}
    for device in Device.objects.filter(account=account):
        counts[device.remote_id] = Run.objects.filter(device=device).count()
    return counts


def start_a_new_run(sim, sn: str) -> None:
    """Let the simulated vacuum clean once (a real command, then simulated time)."""
    client = Qihoo360Client(
        requests.Session(), qid=SID_QID, sid=SID, timeout=(2, 5), api_url=sim.url
    )
    client.send_command(sn, "start")
    sim.advance(3 * 3600)


def test_first_import_archives_every_run_with_details_maps_faults_and_totals(
    home, sim_settings, settings
):
    settings.SYNC_MAX_DETAILS_PER_SYNC = 1000
    account = make_account(home, "sid")
    assert sync_now(account) == SyncOutcome.OK

    assert runs_by_sn(account) == sim_run_counts(sim_settings)
    runs = Run.objects.filter(device__account=account)
    assert runs.filter(detail_synced_at__isnull=True).count() == 0
    assert runs.exclude(map_file="").count() == runs.count()
    # Runs that ended with an error are the 360's fault records (3 per online device).
    errored = runs.exclude(error_code="")
    assert errored.count() == Fault.objects.filter(device__account=account).count() == 9
    fault = Fault.objects.filter(device__account=account).first()
    assert fault.title and not fault.title.startswith("Error ")  # from errorInfo_us.json
    stats = DeviceStats.objects.get(device__remote_id=SID_ONLINE_SNS[0])
    assert stats.runs and stats.area_m2 and stats.week_series and stats.month_series
    assert "((" in stats.extra["clues"]
    record = last_sync(account)
    assert record.new_runs == runs.count() and record.new_faults == 9
    # The sync read the listings; the details pass it queued read every run's detail.
    details = SyncRecord.objects.get(account=account, trigger="details")
    get_one = len(sim_settings.requests(vendor="qihoo360", path="/clean/record/getOne"))
    assert details.outcome == SyncOutcome.OK and details.requests == get_one == runs.count()
    everything = len(sim_settings.requests(vendor="qihoo360")) - 2  # - catalogues
    assert record.requests == everything - get_one
    account.refresh_from_db()
    assert account.last_sync_ok_at is not None and account.lease_token == ""
    assert account.next_sync_at > timezone.now()
    # The detail of a run names its rooms (Base64 names decoded) and the grid it drew.
    detail = runs.first().detail
    assert "Büro" in [room["name"] for room in detail["rooms"]]
    assert detail["grid"] == {"width": 240, "height": 200, "resolution": 0.05}


def test_map_png_is_stored_under_media_root_and_decodes(home, sim_settings, settings):
    account = make_account(home, "sid")
    sync_now(account)
    run = Run.objects.filter(device__account=account).exclude(map_file="").first()
    assert run.map_file == f"runs/{run.device_id}/{run.pk}.png"
    with Image.open(settings.MEDIA_ROOT / run.map_file) as image:
        image.load()
        assert image.format == "PNG" and image.size == (480, 400)


def test_incremental_sync_reads_one_listing_page_per_device_and_writes_nothing(
    home, sim_settings, settings
):
    settings.SYNC_MAX_DETAILS_PER_SYNC = 1000  # fully archived, details included
    account = make_account(home, "sid")
    sync_now(account)
    before = list(Run.objects.order_by("pk").values_list("pk", "imported_at", "detail_synced_at"))
    sim_settings.control("DELETE", "requests")

    assert sync_now(account) == SyncOutcome.OK

    listings = sim_settings.requests(vendor="qihoo360", path="/clean/record/getList")
    assert len(listings) == 4  # one per device (the offline S9 answers an empty page)
    paths = {r["path"] for r in sim_settings.requests(vendor="qihoo360")}
    assert paths == {"/common/dev/GetList", "/clean/record/getList"}
    assert (
        list(Run.objects.order_by("pk").values_list("pk", "imported_at", "detail_synced_at"))
        == before
    )
    assert SyncRecord.objects.filter(account=account).first().requests == 5


def test_incremental_sync_imports_only_the_new_run(home, sim_settings):
    account = make_account(home, "sid")
    sync_now(account)
    start_a_new_run(sim_settings, SID_ONLINE_SNS[0])
    sim_settings.control("DELETE", "requests")

    assert sync_now(account) == SyncOutcome.OK

    record = last_sync(account)
    assert record.new_runs == 1
    assert runs_by_sn(account) == sim_run_counts(sim_settings)
    assert len(sim_settings.requests(vendor="qihoo360", path="/clean/record/getList")) == 4
    newest = Run.objects.filter(device__remote_id=SID_ONLINE_SNS[0]).order_by("-started_at").first()
    assert newest.detail_synced_at is not None and newest.map_file
    # Its device's totals were refreshed because it had a new run.
    assert len(sim_settings.requests(vendor="qihoo360", path="/clean/record/statis")) == 1


def test_syncing_again_and_again_duplicates_nothing(home, sim_settings):
    account = make_account(home, "sid")
    for _ in range(3):
        assert sync_now(account) == SyncOutcome.OK
    assert runs_by_sn(account) == sim_run_counts(sim_settings)
    # Each sync's details pass fetched the details of the next 30 runs, newest first, once.
    assert Run.objects.filter(detail_synced_at__isnull=False).count() == 90
    assert Fault.objects.count() == 9
    assert DeviceStats.objects.count() == 4


def test_a_crash_mid_import_loses_nothing_and_duplicates_nothing(home, sim_settings, monkeypatch):
    account = make_account(home, "sid")
    real_upsert = archive.upsert_runs
    pages = []

    def crash_on_the_fourth_page(device, remotes, **kw):
        pages.append(1)
        if len(pages) == 4:
            raise RuntimeError("worker died")
        return real_upsert(device, remotes, **kw)

    monkeypatch.setattr(archive, "upsert_runs", crash_on_the_fourth_page)
    assert sync_now(account) == SyncOutcome.ERROR
    partial = Run.objects.count()
    assert 0 < partial < sum(sim_run_counts(sim_settings).values())
    account.refresh_from_db()
    assert account.last_sync_ok_at is None and account.lease_token == ""

    monkeypatch.setattr(archive, "upsert_runs", real_upsert)
    CloudAccount.objects.filter(pk=account.pk).update(next_sync_at=timezone.now())
    assert sync_now(account) == SyncOutcome.OK
    assert runs_by_sn(account) == sim_run_counts(sim_settings)


def test_a_crash_during_new_runs_is_caught_up_although_newer_runs_are_archived(
    home, sim_settings, monkeypatch
):
    """The listing stops at runs archived *before the last complete listing*; runs a
    crashed sync imported do not count, so the runs it did not reach are still found."""
    account = make_account(home, "sid")
    sync_now(account)
    sn = SID_ONLINE_SNS[0]
    newest = list(Run.objects.filter(device__remote_id=sn).order_by("-started_at")[:45])
    # As if 45 runs had been new and a crash struck after the first 20 of them.
    Run.objects.filter(pk__in=[r.pk for r in newest[20:]]).delete()
    Run.objects.filter(pk__in=[r.pk for r in newest[:20]]).update(
        imported_at=timezone.now() + timedelta(seconds=1)
    )
    assert sync_now(account) == SyncOutcome.OK
    assert runs_by_sn(account) == sim_run_counts(sim_settings)


def test_spent_budget_stops_the_sync_as_partial_and_the_next_one_goes_on(
    home, sim_settings, time_machine
):
    time_machine.move_to(timezone.now(), tick=True)
    account = make_account(home, "sid", budget=20)  # less than the listings need
    outcome, queued = sync_only(account)
    assert outcome == SyncOutcome.PARTIAL and queued == []  # no room left for details
    record = SyncRecord.objects.get(account=account)
    assert record.requests <= 20 and "budget" in record.error
    assert 0 < Run.objects.count() < sum(sim_run_counts(sim_settings).values())

    time_machine.shift(timedelta(hours=1, minutes=1))
    CloudAccount.objects.filter(pk=account.pk).update(
        request_budget_per_hour=1000, next_sync_at=timezone.now()
    )
    assert sync_now(account) == SyncOutcome.OK
    assert runs_by_sn(account) == sim_run_counts(sim_settings)


def test_spent_budget_stops_the_details_pass_and_the_next_sync_goes_on(
    home, sim_settings, settings, time_machine
):
    settings.SYNC_MAX_DETAILS_PER_SYNC = 1000
    time_machine.move_to(timezone.now(), tick=True)
    account = make_account(home, "sid", budget=100)
    assert sync_now(account) == SyncOutcome.OK  # the listings fit
    details = SyncRecord.objects.get(account=account, trigger="details")
    assert details.outcome == SyncOutcome.PARTIAL and "budget" in details.error
    # The details may use 80 % of the budget, the listings the rest.
    assert last_sync(account).requests + details.requests == 80
    assert runs_by_sn(account) == sim_run_counts(sim_settings)
    pending = Run.objects.filter(detail_synced_at__isnull=True).count()
    assert pending > 0

    CloudAccount.objects.filter(pk=account.pk).update(next_sync_at=timezone.now())
    outcome, queued = sync_only(account)
    assert outcome == SyncOutcome.OK and queued == []  # the listings fit, no detail room
    assert Run.objects.filter(detail_synced_at__isnull=True).count() == pending

    time_machine.shift(timedelta(hours=1, minutes=1))
    CloudAccount.objects.filter(pk=account.pk).update(next_sync_at=timezone.now())
    assert sync_now(account) == SyncOutcome.OK
    assert Run.objects.filter(detail_synced_at__isnull=True).count() < pending
    for record in SyncRecord.objects.filter(account=account):
        assert record.requests <= 100


def test_offline_device_is_kept_and_its_empty_history_is_fine(home, sim_settings):
    account = make_account(home, "sid")
    assert sync_now(account) == SyncOutcome.OK
    offline = Device.objects.get(remote_id="361TY000009000009")
    assert offline.online is False and offline.gone_at is None


def test_a_device_that_refuses_is_noted_and_the_others_sync(home, sim_settings):
    account = make_account(home, "sid")
    sim_settings.add_fault(
        vendor="qihoo360", path="/clean/record/getList", sn=SID_ONLINE_SNS[1], errno=212, count=-1
    )
    assert sync_now(account) == SyncOutcome.OK
    counts, expected = runs_by_sn(account), sim_run_counts(sim_settings)
    assert counts[SID_ONLINE_SNS[1]] == 0
    assert counts[SID_ONLINE_SNS[0]] == expected[SID_ONLINE_SNS[0]]
    assert "Upstairs" in last_sync(account).error


def test_client_for_is_the_only_way_in(home, sim_settings):
    """Smoke check of the wiring the sync relies on (settings point at the simulator)."""
    account = make_account(home, "sid")
    assert [d.remote_id for d in client_for(account).list_devices()][:1] == [SID_ONLINE_SNS[0]]


def test_png_bytes_of_a_stored_map_are_a_png(home, sim_settings, settings):
    account = make_account(home, "sid", budget=1000)
    sync_now(account)
    path = Run.objects.exclude(map_file="").first().map_file
    data = (settings.MEDIA_ROOT / path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    Image.open(io.BytesIO(data)).verify()
