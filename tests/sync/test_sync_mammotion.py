"""One Mammotion Open API account's sync against the simulator over real HTTP."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from devices.clouds import InMemoryTokenStore, MammotionClient
from devices.history import DeviceStats, Fault, Run, SyncOutcome, SyncRecord
from devices.machines import Device, DeviceKind
from devices.models import AccountStatus, CloudAccount

from .conftest import CLIENT_ID, CLIENT_SECRET, make_account, sync_now

pytestmark = pytest.mark.django_db

LUBA, YUKA, STATION, OFFLINE = "Luba-VS5K8D2M1", "Front Lawn", "RTKX9Q2L7P4", "Luba-MN4H7C1K9"


def vendor_truth(sim) -> dict[str, tuple[int, int]]:
    """(runs, faults) per mower name, read with a client of our own."""
    client = MammotionClient(
        requests.Session(),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_store=InMemoryTokenStore(),
        timeout=(2, 5),
        auth_url=sim.url,
        api_url=sim.url,
    )
    truth = {}
    for device in client.list_devices():
        if device.is_station:
            continue
        runs = client.list_runs(device.remote_id, page_size=100)
        truth[device.name] = (len(runs), len(client.list_faults(device.remote_id)))
    return truth


def archived(account) -> dict[str, tuple[int, int]]:
    return {
        d.name: (Run.objects.filter(device=d).count(), Fault.objects.filter(device=d).count())
        for d in Device.objects.filter(account=account).exclude(kind=DeviceKind.STATION)
    }


def test_first_import_archives_runs_faults_totals_status_and_maps(home, sim_settings, settings):
    settings.SYNC_MAX_DETAILS_PER_SYNC = 40
    account = make_account(home, "mammotion")
    assert sync_now(account) == SyncOutcome.OK
    assert archived(account) == vendor_truth(sim_settings)

    luba = Device.objects.get(account=account, name=LUBA)
    assert luba.state == "Standby" and luba.battery == 100 and luba.charge_status == 1
    assert Device.objects.get(account=account, name=YUKA).state == "Working"
    assert Device.objects.get(account=account, name=STATION).kind == DeviceKind.STATION
    assert not Run.objects.filter(device__kind=DeviceKind.STATION).exists()
    stats = DeviceStats.objects.get(device=luba)
    assert stats.runs and stats.extra["time_saved_min"] and stats.extra["carbon_g"]

    detailed = Run.objects.filter(device__account=account, detail_synced_at__isnull=False)
    assert detailed.count() == 40
    run = detailed.filter(device=luba).first()
    assert run.map_file == f"runs/{luba.pk}/{run.pk}.png"
    assert (settings.MEDIA_ROOT / run.map_file).read_bytes()[:4] == b"\x89PNG"
    assert run.detail["events"] and run.detail["work_params"]
    # The short-lived signed map URL is never stored.
    assert "_sim/mammotion/files" not in json.dumps(list(detailed.values_list("detail", flat=True)))
    # No details for a run still going on (its report is not final).
    assert not detailed.filter(result="running").exists()


def test_never_calls_work_params(home, sim_settings):
    account = make_account(home, "mammotion")
    sync_now(account)
    sync_now(account)
    paths = [r["path"] for r in sim_settings.requests(vendor="mammotion")]
    assert paths and not any(p.endswith("/work-params") for p in paths)
    assert sim_settings.violations() == []


def test_incremental_sync_reads_one_listing_page_per_mower(home, sim_settings, settings):
    settings.SYNC_MAX_DETAILS_PER_SYNC = 0
    account = make_account(home, "mammotion")
    sync_now(account)
    sim_settings.control("DELETE", "requests")
    before = Run.objects.count()
    assert sync_now(account) == SyncOutcome.OK
    searches = sim_settings.requests(vendor="mammotion", path="/v1/mower/work-reports/search")
    assert len(searches) == 3  # the three mowers, not the station
    assert Run.objects.count() == before


def test_sleep_protection_leaves_a_resting_mower_alone_for_30_minutes(
    home, sim_settings, settings, time_machine
):
    settings.SYNC_MAX_DETAILS_PER_SYNC = 0
    time_machine.move_to(timezone.now(), tick=True)
    account = make_account(home, "mammotion")
    luba_id = next(
        d["id"]
        for d in [
            {"id": k, **v}
            for k, v in sim_settings.state()["vendors"]["mammotion"]["devices"].items()
        ]
        if d["name"] == LUBA
    )
    # Off an unpowered dock: Standby, not charging, plenty of battery.
    sim_settings.control(
        "POST", f"mammotion/devices/{luba_id}", {"chargeStatus": 0, "batteryLevel": 80}
    )
    sync_now(account)
    detail_path = f"/v1/mower/{luba_id}"
    assert len(sim_settings.requests(vendor="mammotion", path=detail_path)) == 1

    for _ in range(2):
        time_machine.move_to(timezone.now() + timedelta(minutes=10), tick=True)
        CloudAccount.objects.filter(pk=account.pk).update(next_sync_at=timezone.now())
        assert sync_now(account) == SyncOutcome.OK
    assert len(sim_settings.requests(vendor="mammotion", path=detail_path)) == 1

    time_machine.move_to(timezone.now() + timedelta(minutes=11), tick=True)
    CloudAccount.objects.filter(pk=account.pk).update(next_sync_at=timezone.now())
    sync_now(account)
    assert len(sim_settings.requests(vendor="mammotion", path=detail_path)) == 2


def test_a_mowing_mower_brings_the_next_sync_closer(home, sim_settings, settings):
    settings.SYNC_MAX_DETAILS_PER_SYNC = 0
    account = make_account(home, "mammotion", sync_interval_minutes=60)
    sync_now(account)  # the Yuka mini is mowing
    account.refresh_from_db()
    assert account.next_sync_at <= timezone.now() + timedelta(minutes=5, seconds=1)


def test_offline_mower_status_is_not_polled(home, sim_settings, settings):
    settings.SYNC_MAX_DETAILS_PER_SYNC = 0
    account = make_account(home, "mammotion")
    sync_now(account)
    offline = Device.objects.get(account=account, name=OFFLINE)
    assert offline.online is False
    assert sim_settings.requests(vendor="mammotion", path=f"/v1/mower/{offline.remote_id}") == []


def test_expired_tokens_and_a_rejected_refresh_are_renewed_without_losing_anything(
    home, sim_settings, settings
):
    settings.SYNC_MAX_DETAILS_PER_SYNC = 0
    account = make_account(home, "mammotion")
    assert sync_now(account) == SyncOutcome.OK
    account.refresh_from_db()
    first_tokens = account.credentials()["tokens"]
    sim_settings.control("POST", "mammotion/tokens/expire")
    sim_settings.control("POST", "mammotion/refresh/reject-next")
    CloudAccount.objects.filter(pk=account.pk).update(next_sync_at=timezone.now())
    assert sync_now(account) == SyncOutcome.OK
    account.refresh_from_db()
    assert account.status == AccountStatus.OK
    assert account.credentials()["tokens"]["access_token"] != first_tokens["access_token"]
    assert archived(account) == vendor_truth(sim_settings)


def test_a_deactivated_account_needs_relink_and_keeps_its_archive(
    home, alice, sim_settings, settings
):
    settings.SYNC_MAX_DETAILS_PER_SYNC = 0
    account = make_account(home, "mammotion")
    sync_now(account)
    runs = Run.objects.count()
    sim_settings.control("POST", "mammotion/accounts/owner@example.com/deactivate")
    CloudAccount.objects.filter(pk=account.pk).update(next_sync_at=timezone.now())
    assert sync_now(account) == SyncOutcome.AUTH
    account.refresh_from_db()
    assert account.status == AccountStatus.REAUTH_REQUIRED
    assert "deactivated" in account.status_message.lower()
    assert Run.objects.count() == runs
    record = SyncRecord.objects.filter(account=account).first()
    assert record.outcome == SyncOutcome.AUTH


def test_disabled_client_credentials_need_relink(home, sim_settings):
    account = make_account(home, "mammotion")
    sim_settings.control("POST", f"mammotion/credentials/{CLIENT_ID}/disable")
    assert sync_now(account) == SyncOutcome.AUTH
    assert CloudAccount.objects.get(pk=account.pk).status == AccountStatus.REAUTH_REQUIRED


def test_a_rejected_report_form_falls_back_to_another(home, sim_settings, settings):
    settings.SYNC_MAX_DETAILS_PER_SYNC = 0
    sim_settings.knobs(reject_report_forms=["paging"])
    account = make_account(home, "mammotion")
    assert sync_now(account) == SyncOutcome.OK
    assert Run.objects.filter(device__account=account).exists()


def test_429_on_the_open_api_throttles(home, sim_settings):
    account = make_account(home, "mammotion")
    sim_settings.add_fault(
        vendor="mammotion", path="/v1/mowers", http_status=429, retry_after=60, count=-1
    )
    assert sync_now(account) == SyncOutcome.THROTTLED
    account.refresh_from_db()
    assert account.status == AccountStatus.THROTTLED
    assert account.next_sync_at >= timezone.now() + timedelta(seconds=55)
