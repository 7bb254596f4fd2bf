"""Period totals from the per-day summary (RunDay, kept by triggers) equal the sums over
the runs themselves, in any time zone, after any kind of write."""

import random
from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard import periods
from dashboard.run_totals import bucketed_totals
from devices.models import Run, RunDay
from tests.dashboard.conftest import make_run

ZONES = ["Europe/Berlin", "America/St_Johns", "Asia/Kolkata", "Pacific/Kiritimati", "UTC"]
NOW = datetime(2025, 11, 4, 12, 0, tzinfo=UTC)


def expected(runs, boundaries, *, clip):
    sums = {}
    for run in runs:
        index = None
        if run.started_at is not None:
            index = bisect_right(boundaries, run.started_at) - 1
            if not 0 <= index < len(boundaries) - 1:
                index = None
        if index is None and clip:
            continue
        total = sums.setdefault((run.device_id, index), [0, 0.0, 0])
        total[0] += 1
        total[1] += run.area_m2 or 0
        total[2] += run.duration_s or 0
    return sums


def as_dict(rows):
    return {(r["device_id"], r["bucket"]): [r["runs"], r["area"], r["secs"]] for r in rows}


def assert_same(got, want):
    assert got.keys() == want.keys()
    for key, (runs, area, secs) in want.items():
        assert got[key][0] == runs and got[key][2] == secs, key
        assert got[key][1] == pytest.approx(area), key


def check(devices, tz):
    runs = list(Run.objects.filter(device__in=devices))
    first = min(r.started_at for r in runs if r.started_at)
    weeks = periods.week_boundaries(NOW, tz)
    months = periods.month_boundaries(NOW, tz)
    lifetime, _ = periods.lifetime_boundaries(first, NOW, tz)
    week_rows, month_rows, all_rows = bucketed_totals(
        [d.pk for d in devices], weeks, months, lifetime
    )
    assert_same(as_dict(week_rows), expected(runs, weeks, clip=True))
    assert_same(as_dict(month_rows), expected(runs, months, clip=True))
    assert_same(as_dict(all_rows), expected(runs, lifetime, clip=False))


@pytest.mark.parametrize("zone", ZONES)
def test_period_totals_match_the_runs_around_every_local_midnight(vacuum, mower, zone):
    tz = ZoneInfo(zone)
    rng = random.Random(zone)
    for device in (vacuum, mower):
        for day in range(420):
            midnight = periods.local_midnight((NOW - timedelta(days=day)).astimezone(tz).date(), tz)
            for minutes in rng.sample([-90, -31, -1, 0, 1, 29, 61, 600], 3):
                make_run(
                    device, midnight + timedelta(minutes=minutes), area=rng.choice([1.5, 7, 20])
                )
    make_run(vacuum, None, area=3)  # undated: all-time totals only
    check([vacuum, mower], tz)


def test_the_summary_follows_updates_deletes_and_upserts(vacuum, mower):
    tz = ZoneInfo("Europe/Berlin")
    for hours in range(0, 24 * 90, 7):
        make_run(vacuum, NOW - timedelta(hours=hours), area=10)
    runs = list(Run.objects.order_by("pk"))
    Run.objects.filter(pk__in=[r.pk for r in runs[:20]]).update(area_m2=2.5, duration_s=60)
    Run.objects.filter(pk__in=[r.pk for r in runs[20:40]]).update(
        started_at=NOW - timedelta(days=40)
    )
    Run.objects.filter(pk__in=[r.pk for r in runs[40:50]]).update(device=mower)
    Run.objects.filter(pk__in=[r.pk for r in runs[50:60]]).update(started_at=None)
    Run.objects.filter(pk__in=[r.pk for r in runs[60:80]]).delete()
    Run.objects.bulk_create(
        [
            Run(device=vacuum, remote_id=r.remote_id, started_at=r.started_at, area_m2=99)
            for r in runs[80:90]
        ]
        + [
            Run(device=vacuum, remote_id=f"new-{i}", started_at=NOW - timedelta(days=i))
            for i in range(10)
        ],
        update_conflicts=True,
        unique_fields=["device", "remote_id"],
        update_fields=["started_at", "area_m2"],
    )
    check([vacuum, mower], tz)
    mower.delete()
    assert not RunDay.objects.filter(device_id=mower.pk).exists()
    check([vacuum], tz)
