"""Who may read the report pages: every member (viewer and up); anonymous people are sent
to the login page; outsiders get 404 for the household's objects and never see its rows."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.dashboard.conftest import make_run

LISTS = ["dashboard:overview", "dashboard:history", "dashboard:history_export", "dashboard:faults"]
OBJECTS = ["dashboard:run", "dashboard:run_map"]


@pytest.fixture
def run(vacuum, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "map.png").write_bytes(b"\x89PNG")
    return make_run(vacuum, timezone.now(), map_file="map.png", remote_id="home-run-1")


def _url(name, run):
    return reverse(name, args=[run.pk]) if name in OBJECTS else reverse(name)


@pytest.mark.parametrize("name", LISTS + OBJECTS)
@pytest.mark.parametrize("persona", ["alice", "oscar", "bob"])
def test_every_member_can_read(request, login, run, name, persona):
    response = login(request.getfixturevalue(persona)).get(_url(name, run))
    assert response.status_code == 200


@pytest.mark.parametrize("name", LISTS + OBJECTS)
def test_anonymous_people_are_sent_to_login(client, run, name):
    response = client.get(_url(name, run))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", OBJECTS)
def test_outsiders_get_404_for_the_households_runs(carol, login, run, name):
    assert login(carol).get(_url(name, run)).status_code == 404


@pytest.mark.parametrize("name", LISTS)
def test_outsiders_lists_never_show_the_households_rows(carol, login, run, name):
    response = login(carol).get(_url(name, run), {"device": run.device_id})
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"home-run-1" not in body and b"Robbie" not in body
    assert reverse("dashboard:run", args=[run.pk]).encode() not in body


@pytest.mark.parametrize("name", LISTS + OBJECTS)
def test_report_pages_are_read_only(alice, login, run, name):
    assert login(alice).post(_url(name, run)).status_code == 405
