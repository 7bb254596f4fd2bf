"""Calendar boundaries in the household's zone, and a device's state in words."""

import sys
import types
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from dashboard import periods
from dashboard.states import device_status, error_text, state_label
from devices.models import Device
from tests.dashboard.conftest import local

BERLIN = ZoneInfo("Europe/Berlin")


def test_week_boundaries_are_local_monday_midnights_across_the_october_dst_change():
    bounds = periods.week_boundaries(local(2025, 11, 5, 12, 0), BERLIN, count=3)
    assert [b.date() for b in bounds] == [
        date(2025, 10, 20),
        date(2025, 10, 27),
        date(2025, 11, 3),
        date(2025, 11, 10),
    ]
    assert all((b.hour, b.minute) == (0, 0) for b in bounds)
    # Summer time before the change, winter time after: the UTC instants differ by offset.
    assert bounds[0].utcoffset() == timedelta(hours=2)
    assert bounds[1].utcoffset() == timedelta(hours=1)


def test_month_boundaries_cross_the_year_and_the_march_dst_change():
    bounds = periods.month_boundaries(local(2025, 4, 2, 12, 0), BERLIN, count=5)
    assert [b.date() for b in bounds] == [
        date(2024, 12, 1),
        date(2025, 1, 1),
        date(2025, 2, 1),
        date(2025, 3, 1),
        date(2025, 4, 1),
        date(2025, 5, 1),
    ]
    assert bounds[3].utcoffset() == timedelta(hours=1)  # 1 March: winter time
    assert bounds[4].utcoffset() == timedelta(hours=2)  # 1 April: summer time


def test_a_utc_now_late_in_the_evening_is_already_tomorrow_locally():
    # 23:30 UTC on Sunday is 00:30 on Monday in Berlin (winter): a new week has begun.
    bounds = periods.week_boundaries(local(2025, 11, 10, 0, 30).astimezone(ZoneInfo("UTC")), BERLIN)
    assert bounds[-2].date() == date(2025, 11, 10)


def test_lifetime_steps_by_month_then_by_year_for_long_histories():
    bounds, step = periods.lifetime_boundaries(local(2024, 6, 15), local(2025, 11, 5), BERLIN)
    assert step == "month" and len(bounds) == 19
    assert bounds[0].date() == date(2024, 6, 1) and bounds[-1].date() == date(2025, 12, 1)
    bounds, step = periods.lifetime_boundaries(local(2010, 6, 15), local(2025, 11, 5), BERLIN)
    assert step == "year" and bounds[0].date() == date(2010, 1, 1)
    assert bounds[-1].date() == date(2026, 1, 1)


def test_day_span_is_inclusive_and_local():
    start, end = periods.day_span(date(2025, 10, 26), date(2025, 10, 26), BERLIN)
    utc = ZoneInfo("UTC")
    # The day the clocks go back is 25 hours long (same-zone subtraction would say 24).
    assert end.astimezone(utc) - start.astimezone(utc) == timedelta(hours=25)
    assert periods.day_span(None, None, BERLIN) == (None, None)


def _device(vendor, state, charge_status=None, **fields):
    return Device(vendor=vendor, state=state, charge_status=charge_status, **fields)


@pytest.mark.parametrize(
    ("vendor", "state", "charge", "words"),
    [
        ("qihoo360", "sweep", None, "Cleaning"),
        ("qihoo360", "pause", None, "Paused"),
        ("qihoo360", "backcharge", None, "Returning to dock"),
        ("qihoo360", "charge", None, "Charging"),
        ("qihoo360", "fullcharge", None, "Docked, fully charged"),
        ("qihoo360", "idle", None, "Idle"),
        ("qihoo360", "dormant", None, "Sleeping"),
        ("qihoo360", "fault", None, "Error"),
        ("qihoo360", "DustCenterWorking", None, "Docked, station busy"),
        ("qihoo360", "somethingNew", None, "somethingNew"),
        ("mammotion", "Standby", 0, "Idle"),
        ("mammotion", "StandBy", 1, "Docked"),
        ("mammotion", "standby", 2, "Docked"),
        ("mammotion", "Working", None, "Mowing"),
        ("mammotion", "Mowing", None, "Mowing"),
        ("mammotion", "TaskPaused", None, "Paused"),
        ("mammotion", "Returning", None, "Returning to dock"),
        ("mammotion", "Charging", None, "Charging"),
        ("mammotion", "Offline", None, "Offline"),
        ("mammotion", "Abnormal", None, "Needs attention"),
        ("mammotion", "Mapping", None, "Mapping"),
        ("mammotion", "Updating", None, "Updating firmware"),
        ("mammotion", "Hibernating", None, "Hibernating"),
        ("mammotion", "", None, "Status unknown"),
    ],
)
def test_state_label(vendor, state, charge, words):
    assert state_label(_device(vendor, state, charge)) == words


def test_status_is_fresh_stale_or_unknown_by_age():
    now = timezone.now()
    fresh = device_status(_device("qihoo360", "sweep", status_observed_at=now, battery=50), now)
    assert (fresh.label, fresh.stale, fresh.unknown, fresh.tone) == ("Cleaning", False, False, "ok")
    stale = device_status(
        _device("qihoo360", "sweep", status_observed_at=now - timedelta(hours=2), battery=50), now
    )
    assert (stale.label, stale.stale, stale.battery) == ("Cleaning", True, 50)
    old = device_status(
        _device("qihoo360", "sweep", status_observed_at=now - timedelta(days=2), battery=50), now
    )
    assert (old.label, old.unknown, old.battery) == ("Status unknown", True, None)
    never = device_status(_device("qihoo360", "sweep", battery=50), now)
    assert (never.label, never.unknown) == ("Status unknown", True)


def test_error_text_falls_back_to_the_code_and_uses_the_catalogue_when_present(monkeypatch):
    assert error_text("qihoo360", "-2201") == "Error -2201"
    assert error_text("qihoo360", "0") == ""
    catalogue = types.ModuleType("devices.catalogue")
    catalogue.error_text = lambda vendor, code: "Wheel stuck" if code == "-2201" else None
    monkeypatch.setitem(sys.modules, "devices.catalogue", catalogue)
    assert error_text("qihoo360", "-2201") == "Wheel stuck"
    assert error_text("qihoo360", "-9999") == "Error -9999"
