"""The report pages use the same number of SQL queries with 10 runs as with 10,000."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboard.reports import NEWEST_FIRST
from devices.models import DeviceStats, Run
from tests.dashboard.conftest import bulk_runs, make_fault


def _count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
        assert response.status_code == 200
    return len(queries)


def _counts(client, runs: list[int]) -> dict[str, int]:
    """Queries per page; `runs` are the run ids newest first."""
    deep = runs[len(runs) * 9 // 10]
    detail = reverse("dashboard:run", args=[runs[len(runs) // 2]])
    return {
        "overview": _count(client, reverse("dashboard:overview")),
        "history": _count(client, reverse("dashboard:history")),
        "history deep": _count(client, reverse("dashboard:history"), {"before": deep}),
        "history newer": _count(client, reverse("dashboard:history"), {"after": deep}),
        "history filtered": _count(
            client, reverse("dashboard:history"), {"vendor": "qihoo360", "before": deep}
        ),
        "run detail": _count(client, detail),
        "faults": _count(client, reverse("dashboard:faults")),
    }


def _fill(vacuum, mower, total: int) -> list[int]:
    now = timezone.now()
    # Spread over years so that lifetime and monthly buckets are all busy.
    step = timedelta(hours=max(1, 5 * 365 * 24 // total))
    bulk_runs(vacuum, total - total // 5, newest=now, step=step)
    bulk_runs(mower, total // 5, newest=now - timedelta(minutes=7), step=step * 4)
    DeviceStats.objects.create(device=vacuum, area_m2=1, runs=1, duration_s=1)
    for i in range(3):
        make_fault(mower, now - timedelta(days=i))
    return list(Run.objects.order_by(*NEWEST_FIRST).values_list("pk", flat=True))


def test_query_counts_do_not_grow_with_the_archive(vacuum, mower, bob, login):
    client = login(bob)
    client.get(reverse("dashboard:overview"))  # the first request stores the household choice
    small = _counts(client, _fill(vacuum, mower, 10))
    Run.objects.all().delete()
    DeviceStats.objects.all().delete()
    large = _counts(client, _fill(vacuum, mower, 10_000))
    assert Run.objects.count() == 10_000
    assert large == small
    assert max(small.values()) <= 14, small
