"""The fault list: newest first, filters, and only the household's own faults."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tests.dashboard.conftest import local, make_device, make_fault

FAULTS = reverse("dashboard:faults")


def _ids(response):
    return [fault.pk for fault in response.context["page"].rows]


def test_faults_newest_first_with_explanation_and_solution(mower, bob, login):
    old = make_fault(mower, timezone.now() - timedelta(days=3), code="1201", level=3,
                     title="Stuck; needs rescue", solution="Lift the mower free.")  # fmt: skip
    new = make_fault(mower, timezone.now() - timedelta(hours=1))
    response = login(bob).get(FAULTS)
    assert _ids(response) == [new.pk, old.pk]
    body = response.content.decode()
    assert "Stuck; needs rescue" in body and "Lift the mower free." in body
    assert "Critical" in body and "Warning" in body and "code 1201" in body


def test_a_fault_without_vendor_text_shows_the_code(vacuum, bob, login):
    make_fault(vacuum, timezone.now(), code="-2201", title="", solution="", level=None)
    assert "Error -2201" in login(bob).get(FAULTS).content.decode()


def test_filters_by_device_code_level_and_local_dates(vacuum, mower, bob, login):
    a = make_fault(mower, local(2025, 10, 31, 23, 30), code="1005", level=2)
    b = make_fault(mower, local(2025, 11, 1, 0, 30), code="1201", level=3)
    c = make_fault(vacuum, local(2025, 10, 30, 12, 0), code="-2201", level=1)
    client = login(bob)
    assert _ids(client.get(FAULTS, {"device": mower.pk})) == [b.pk, a.pk]
    assert _ids(client.get(FAULTS, {"code": "-2201"})) == [c.pk]
    assert _ids(client.get(FAULTS, {"level": "3"})) == [b.pk]
    assert _ids(client.get(FAULTS, {"date_to": "2025-10-31"})) == [a.pk, c.pk]
    assert _ids(client.get(FAULTS, {"date_from": "2025-11-01"})) == [b.pk]


def test_stations_can_be_chosen_in_the_fault_filter(mower_account, bob, login):
    station = make_device(mower_account, kind="station", name="RTK base")
    fault = make_fault(station, timezone.now())
    assert _ids(login(bob).get(FAULTS, {"device": station.pk})) == [fault.pk]


def test_faults_are_paged(mower, bob, login):
    for i in range(55):
        make_fault(mower, timezone.now() - timedelta(minutes=i))
    client = login(bob)
    first = client.get(FAULTS).context["page"]
    second = client.get(FAULTS, {"before": first.older_cursor}).context["page"]
    assert (len(first.rows), len(second.rows), second.has_older) == (50, 5, False)


def test_another_households_faults_never_appear(vacuum, carol_vacuum, bob, login):
    mine = make_fault(vacuum, timezone.now(), title="Mine")
    make_fault(carol_vacuum, timezone.now(), title="Carol's fault")
    for params in ({}, {"device": carol_vacuum.pk}):
        response = login(bob).get(FAULTS, params)
        assert _ids(response) == [mine.pk]
        assert "Carol" not in response.content.decode()


def test_no_faults_is_good_news(vacuum, bob, login):
    assert "No faults recorded" in login(bob).get(FAULTS).content.decode()
