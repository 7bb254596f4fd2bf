"""The run history: newest first, filters in the household's time zone, keyset pages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.reports import NEWEST_FIRST
from devices.history import RunResult
from devices.models import Run
from tests.dashboard.conftest import bulk_runs, local, make_run

HISTORY = reverse("dashboard:history")


def _ids(response):
    return [run.pk for run in response.context["page"].rows]


def _walk(client, params=None):
    """Follow "Older" links from the first page to the last; all run ids in page order."""
    params = dict(params or {})
    seen, pages = [], 0
    while True:
        response = client.get(HISTORY, params)
        assert response.status_code == 200
        page = response.context["page"]
        seen += [run.pk for run in page.rows]
        pages += 1
        if not page.has_older:
            return seen, pages
        params["before"] = page.older_cursor


def test_runs_are_listed_newest_first_and_link_to_their_detail(vacuum, mower, alice, login):
    older = make_run(vacuum, timezone.now() - timedelta(days=2))
    newer = make_run(mower, timezone.now() - timedelta(hours=2))
    response = login(alice).get(HISTORY)
    assert _ids(response) == [newer.pk, older.pk]
    body = response.content.decode()
    assert reverse("dashboard:run", args=[newer.pk]) in body
    assert body.index(reverse("dashboard:run", args=[newer.pk])) < body.index(
        reverse("dashboard:run", args=[older.pk])
    )


def test_pages_hold_fifty_runs_and_walking_them_lists_every_run_once(vacuum, bob, login):
    bulk_runs(vacuum, 120, newest=timezone.now())
    client = login(bob)
    first = client.get(HISTORY)
    assert len(first.context["page"].rows) == 50
    assert first.context["page"].has_older and not first.context["page"].has_newer
    seen, pages = _walk(client)
    expected = list(Run.objects.order_by(*NEWEST_FIRST).values_list("pk", flat=True))
    assert (seen, pages) == (expected, 3)


def test_newer_links_go_back_to_the_same_pages(vacuum, bob, login):
    bulk_runs(vacuum, 120, newest=timezone.now())
    client = login(bob)
    first = client.get(HISTORY).context["page"]
    second = client.get(HISTORY, {"before": first.older_cursor}).context["page"]
    third = client.get(HISTORY, {"before": second.older_cursor}).context["page"]
    assert len(third.rows) == 20 and not third.has_older and third.has_newer
    back = client.get(HISTORY, {"after": third.newer_cursor}).context["page"]
    assert [r.pk for r in back.rows] == [r.pk for r in second.rows]
    assert back.has_newer and back.has_older
    top = client.get(HISTORY, {"after": back.newer_cursor}).context["page"]
    assert [r.pk for r in top.rows] == [r.pk for r in first.rows] and not top.has_newer


def test_runs_with_the_same_start_or_no_start_are_paged_without_gaps(vacuum, bob, login):
    moment = timezone.now() - timedelta(days=1)
    Run.objects.bulk_create(
        [Run(device=vacuum, remote_id=f"same-{i}", started_at=moment) for i in range(60)]
        + [Run(device=vacuum, remote_id=f"none-{i}", started_at=None) for i in range(55)]
        + [Run(device=vacuum, remote_id=f"new-{i}", started_at=timezone.now()) for i in range(5)]
    )
    seen, pages = _walk(login(bob))
    assert sorted(seen) == sorted(Run.objects.values_list("pk", flat=True))
    assert len(seen) == len(set(seen)) == 120 and pages == 3


def test_filters_by_device_vendor_and_result(vacuum, mower, bob, login):
    clean = make_run(vacuum, timezone.now() - timedelta(hours=1))
    failed = make_run(vacuum, timezone.now() - timedelta(hours=2), result=RunResult.ERROR)
    mow = make_run(mower, timezone.now() - timedelta(hours=3))
    client = login(bob)
    assert _ids(client.get(HISTORY, {"device": vacuum.pk})) == [clean.pk, failed.pk]
    assert _ids(client.get(HISTORY, {"vendor": "mammotion"})) == [mow.pk]
    assert _ids(client.get(HISTORY, {"vendor": "qihoo360", "result": "error"})) == [failed.pk]
    assert _ids(client.get(HISTORY, {"device": mower.pk, "result": "error"})) == []


def test_date_range_is_inclusive_and_in_the_household_time_zone(vacuum, bob, login):
    before = make_run(vacuum, local(2025, 10, 24, 23, 30))
    last_evening = make_run(vacuum, local(2025, 10, 31, 23, 30))  # 22:30 UTC
    first_of_november = make_run(vacuum, local(2025, 11, 1, 0, 30))  # 23:30 UTC on 31 Oct
    inside = make_run(vacuum, local(2025, 10, 25, 0, 15))  # 24 Oct in UTC, CEST
    response = login(bob).get(HISTORY, {"date_from": "2025-10-25", "date_to": "2025-10-31"})
    assert _ids(response) == [last_evening.pk, inside.pk]
    assert before.pk not in _ids(response) and first_of_november.pk not in _ids(response)


def test_another_households_device_in_the_filter_is_ignored(vacuum, carol_vacuum, bob, login):
    mine = make_run(vacuum, timezone.now() - timedelta(hours=1))
    theirs = make_run(carol_vacuum, timezone.now() - timedelta(hours=1))
    response = login(bob).get(HISTORY, {"device": carol_vacuum.pk})
    assert response.status_code == 200
    assert _ids(response) == [mine.pk] and theirs.pk not in _ids(response)
    assert "(ignored)" in response.content.decode()


def test_a_foreign_run_as_cursor_is_ignored(vacuum, carol_vacuum, bob, login):
    mine = make_run(vacuum, timezone.now() - timedelta(days=3))
    theirs = make_run(carol_vacuum, timezone.now())
    assert _ids(login(bob).get(HISTORY, {"before": theirs.pk})) == [mine.pk]


@pytest.mark.parametrize(
    "params",
    [{"date_from": "yesterday"}, {"result": "exploded"}, {"device": "x"}, {"before": "1e9"}],
)
def test_malformed_filters_are_ignored_not_errors(vacuum, bob, login, params):
    run = make_run(vacuum, timezone.now() - timedelta(hours=1))
    response = login(bob).get(HISTORY, params)
    assert response.status_code == 200 and _ids(response) == [run.pk]


def test_an_empty_history_says_so(vacuum, bob, login):
    assert "No runs match yet" in login(bob).get(HISTORY).content.decode()


def test_export_links_carry_the_filters(vacuum, bob, login):
    body = login(bob).get(HISTORY, {"device": vacuum.pk, "result": "error"}).content.decode()
    assert f"/history/export?device={vacuum.pk}&amp;result=error&amp;format=csv" in body
