"""A mower's last known status: applied from the vendor's detail with narrow writes, read
from the simulator with its saved tasks, and the refresh task queued after a command."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from devices import command_tasks
from devices.clouds.base import CloudError, DeviceStatus, NetworkInfo
from devices.machines import Device
from devices.models import AccountStatus
from devices.status import (
    apply_mammotion_status,
    cached_tasks,
    refresh_mammotion_status,
    tasks_due,
)
from tests.devices import test_commands_support as support
from tests.devices.test_commands_support import LUBA, LUBA_MINI, S7, STATION, YUKA

sim_settings, vacuums, mowers = support.sim_settings, support.vacuums, support.mowers


def detail(**fields) -> DeviceStatus:
    values = {
        "device_id": "x",
        "status": "Working",
        "battery": 48,
        "charge_status": 0,
        "online": True,
        "firmware": "1.30.29.8",
        "network": NetworkInfo(used_network="wifi", wifi_rssi=-64),
    }
    values.update(fields)
    return DeviceStatus(**values)


def test_apply_writes_the_status_fields(mowers):
    luba = mowers[LUBA]
    before = timezone.now()
    apply_mammotion_status(luba, detail())

    luba.refresh_from_db()
    assert (luba.state, luba.battery, luba.charge_status, luba.online) == ("Working", 48, 0, True)
    assert luba.firmware == "1.30.29.8"
    assert luba.status_observed_at >= before
    assert luba.status_extra["network"] == {"used": "wifi", "wifi_rssi": -64, "cellular_rssi": None}


def test_apply_is_a_narrow_write_that_keeps_a_concurrent_rename(mowers):
    web_copy = Device.objects.get(pk=mowers[LUBA].pk)
    sync_copy = Device.objects.get(pk=mowers[LUBA].pk)
    web_copy.name = "Renamed meanwhile"
    web_copy.save(update_fields=["name"])

    with CaptureQueriesContext(connection) as queries:
        apply_mammotion_status(sync_copy, detail())

    (update,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert '"name"' not in update and '"capabilities"' not in update
    assert Device.objects.get(pk=sync_copy.pk).name == "Renamed meanwhile"


def test_apply_tolerates_missing_and_odd_values(mowers):
    luba = mowers[LUBA]
    apply_mammotion_status(
        luba, DeviceStatus(device_id="x", status=None, battery=250, online=None, network=None)
    )
    luba.refresh_from_db()
    assert (luba.state, luba.battery, luba.charge_status) == ("", None, None)
    assert luba.online is True  # unknown online state leaves it as it was


def test_apply_keeps_the_cached_tasks(mowers):
    luba = mowers[LUBA]
    luba.status_extra = {"tasks": ["Front lawn"], "tasks_at": timezone.now().isoformat()}
    luba.save()
    apply_mammotion_status(luba, detail())
    luba.refresh_from_db()
    assert cached_tasks(luba) == ["Front lawn"]


def test_refresh_reads_the_simulated_mower_and_its_tasks(mowers, sim):
    luba = mowers[LUBA]
    status = refresh_mammotion_status(luba)

    assert status.status == "Standby"
    luba.refresh_from_db()
    assert (luba.state, luba.battery, luba.charge_status, luba.online) == ("Standby", 100, 1, True)
    assert cached_tasks(luba) == ["Front lawn", "Back lawn", "Edges only"]
    assert not tasks_due(luba)


def test_tasks_are_read_again_only_after_15_minutes(mowers, sim):
    luba = mowers[LUBA]
    refresh_mammotion_status(luba)
    refresh_mammotion_status(luba)
    plan = f"/v1/mower/{luba.remote_id}/plan"
    assert len(sim.requests(vendor="mammotion", path=plan)) == 1
    assert len(sim.requests(vendor="mammotion", path=f"/v1/mower/{luba.remote_id}")) == 2

    assert tasks_due(luba, now=timezone.now() + timedelta(minutes=16))
    refresh_mammotion_status(luba, with_tasks=True)
    assert len(sim.requests(vendor="mammotion", path=plan)) == 2


def test_a_failed_task_read_keeps_the_previous_list(mowers, sim):
    luba = mowers[LUBA]
    luba.status_extra = {"tasks": ["Old task"], "tasks_at": "2020-01-01T00:00:00+00:00"}
    luba.save()
    sim.add_fault(vendor="mammotion", path="/v1/mower/*/plan", http_status=503, count=-1)

    refresh_mammotion_status(luba)

    luba.refresh_from_db()
    assert luba.state == "Standby"
    assert cached_tasks(luba) == ["Old task"]


def test_stations_get_status_but_no_task_read(mowers, sim):
    station = mowers[STATION]
    refresh_mammotion_status(station)
    station.refresh_from_db()
    assert station.state == "Standby"
    assert sim.requests(vendor="mammotion", path=f"/v1/mower/{station.remote_id}/plan") == []


def test_an_offline_mower_is_stored_offline(mowers, sim):
    mini = mowers[LUBA_MINI]
    refresh_mammotion_status(mini)
    mini.refresh_from_db()
    assert (mini.state, mini.online) == ("Offline", False)


def test_an_unreadable_detail_raises_and_writes_nothing(mowers, sim):
    luba = mowers[LUBA]
    sim.add_fault(vendor="mammotion", path=f"/v1/mower/{luba.remote_id}", malformed="html")
    with pytest.raises(CloudError):
        refresh_mammotion_status(luba)
    luba.refresh_from_db()
    assert luba.state == "" and luba.status_observed_at is None


def test_refresh_is_for_mowers_only(vacuums):
    with pytest.raises(ValueError):
        refresh_mammotion_status(vacuums[S7])


# --- the task queued after a command ----------------------------------------------------


def test_refresh_task_applies_the_current_detail(mowers, sim):
    yuka = mowers[YUKA]
    command_tasks.refresh_status_after_command(yuka.pk)
    yuka.refresh_from_db()
    assert (yuka.state, yuka.battery) == ("Working", 63)


def test_refresh_task_ignores_vanished_devices_and_360_robots(mowers, vacuums, sim):
    yuka = mowers[YUKA]
    Device.objects.filter(pk=yuka.pk).update(gone_at=timezone.now())
    command_tasks.refresh_status_after_command(yuka.pk)
    command_tasks.refresh_status_after_command(vacuums[S7].pk)
    command_tasks.refresh_status_after_command(999_999)
    assert sim.requests(vendor="mammotion", path=f"/v1/mower/{yuka.remote_id}") == []


def test_refresh_task_skips_accounts_that_need_relinking(mowers, sim):
    luba = mowers[LUBA]
    luba.account.set_status(AccountStatus.REAUTH_REQUIRED, "expired")
    command_tasks.refresh_status_after_command(luba.pk)
    assert sim.requests(vendor="mammotion", path=f"/v1/mower/{luba.remote_id}") == []


def test_refresh_task_retries_once_on_a_transient_failure(mowers, sim):
    luba = mowers[LUBA]
    sim.add_fault(vendor="mammotion", path=f"/v1/mower/{luba.remote_id}", http_status=503, count=2)
    with pytest.raises(Retry):
        command_tasks.refresh_status_after_command(luba.pk)
