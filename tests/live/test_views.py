"""The live status fragment (devices:live_status): what it shows, who may read it, and
that reading it marks the robot as watched."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from devices import live_status
from devices.machines import Device
from devices.models import AccountStatus, CloudAccount, LinkMethod, Vendor
from devices.views.live import NO_PUSH_KEY

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
SN = "361TY000003000000"


def make_account(home, *, push_key=True, vendor=Vendor.QIHOO360) -> CloudAccount:
    method = LinkMethod.QIHOO360_SID if vendor == Vendor.QIHOO360 else LinkMethod.MAMMOTION_OPEN_API
    account = CloudAccount(household=home, vendor=vendor, method=method, label="Cloud")
    account.set_credentials({"sid": "f" * 32, **({"push_key": "k" * 32} if push_key else {})})
    account.save()
    return account


@pytest.fixture
def robot(home) -> Device:
    return Device.objects.create(
        account=make_account(home), vendor=Vendor.QIHOO360, kind="vacuum", remote_id=SN,
        name="Living room",
    )  # fmt: skip


@pytest.fixture(autouse=True)
def _clear_watches():
    cache.clear()


def report(device, mode, *, age=timedelta(seconds=5), **fields):
    extra = {"clean_area": 12, "clean_time": 725, "clean_id": f"{SN}-1", "vol": 5}
    values = {"state": mode, "battery": 77, "fan_level": "strong", "error_code": "",
              "status_extra": extra, "status_observed_at": timezone.now() - age, **fields}  # fmt: skip
    Device.objects.filter(pk=device.pk).update(**values)
    device.refresh_from_db()
    return device


def fragment(client, device, **query):
    return client.get(reverse("devices:live_status", args=[device.pk]), query, **HTMX)


class Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def text(response) -> str:
    parser = Text()
    parser.feed(response.content.decode())
    return " ".join(" ".join(parser.parts).split())


def test_a_cleaning_robot_shows_its_state_battery_and_run(robot, bob, login):
    report(robot, "sweep")
    response = fragment(login(bob), robot)
    assert response.status_code == 200
    shown = text(response)
    assert "Cleaning · battery 77 %" in shown
    assert "This run 12 m²" in shown and "Running for 12 min" in shown
    assert "Suction Strong" in shown
    assert "Updated just now" in shown and "Stale" not in shown
    html = response.content.decode()
    assert f'id="live-status-{robot.pk}"' in html
    assert 'hx-trigger="every 10s, visibilitychange from:document"' in html  # no "load" again
    assert "<script" not in html  # the page loaded live.js already


def test_a_docked_robot_shows_no_run(robot, bob, login):
    report(robot, "charge")
    shown = text(fragment(login(bob), robot))
    assert "Charging · battery 77 %" in shown and "This run" not in shown


def test_an_error_is_shown_in_words(robot, bob, login):
    report(robot, "fault", error_code="-2201")
    shown = text(fragment(login(bob), robot))
    assert "Error" in shown and "-2201" in shown


@pytest.mark.parametrize(
    ("mode", "age", "stale"),
    [
        ("sweep", timedelta(minutes=2), False),
        ("sweep", timedelta(minutes=4), True),  # a running robot reports every minute
        ("charge", timedelta(minutes=10), False),
        ("charge", timedelta(minutes=16), True),  # 3.7.8: 15 minutes
    ],
)
def test_an_old_status_is_shown_as_stale(robot, bob, login, mode, age, stale):
    report(robot, mode, age=age)
    shown = text(fragment(login(bob), robot))
    assert ("Stale: last reported" in shown) is stale


def test_a_status_older_than_a_day_is_hidden(robot, bob, login):
    report(robot, "sweep", age=timedelta(hours=25))
    shown = text(fragment(login(bob), robot))
    assert "Status unknown" in shown and "too old to show" in shown and "battery" not in shown


def test_reading_the_fragment_marks_the_robot_watched(robot, bob, login):
    assert live_status.watched([robot.pk]) == set()
    fragment(login(bob), robot)
    assert live_status.watched([robot.pk]) == {robot.pk}


def test_a_mower_is_not_marked_watched(home, bob, login):
    mower = Device.objects.create(
        account=make_account(home, vendor=Vendor.MAMMOTION), vendor=Vendor.MAMMOTION,
        kind="mower", remote_id="Luba-1", name="Luba",
    )  # fmt: skip
    response = fragment(login(bob), mower)
    assert response.status_code == 200
    assert live_status.watched([mower.pk]) == set()


def test_without_a_push_key_it_says_live_status_needs_one(home, bob, login):
    robot = Device.objects.create(
        account=make_account(home, push_key=False), vendor=Vendor.QIHOO360, kind="vacuum",
        remote_id=SN, name="Living room",
    )  # fmt: skip
    assert NO_PUSH_KEY in text(fragment(login(bob), robot))


def test_an_account_flagged_by_the_listener_says_why(robot, bob, login):
    robot.account.set_status(AccountStatus.ERROR, "Live status: the push key does not decrypt.")
    assert "Live status: the push key does not decrypt." in text(fragment(login(bob), robot))


def test_a_changed_state_triggers_the_pages_own_status_block(robot, bob, login):
    report(robot, "sweep")
    client = login(bob)
    assert "HX-Trigger" not in fragment(client, robot, seen="sweep..1.77").headers
    assert fragment(client, robot, seen="charge..1.77").headers["HX-Trigger"] == (
        f"live-changed-{robot.pk}"
    )
    assert "HX-Trigger" not in fragment(client, robot).headers  # first read of a card


def test_the_url_in_the_fragment_carries_what_it_shows(robot, bob, login):
    report(robot, "fault", error_code="-2201")
    html = fragment(login(bob), robot, variant="card").content.decode()
    url = reverse("devices:live_status", args=[robot.pk])
    assert f'hx-get="{url}?variant=card&amp;seen=fault.-2201.1.77"' in html


def test_without_htmx_it_sends_people_to_the_device_page(robot, bob, login):
    response = login(bob).get(reverse("devices:live_status", args=[robot.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("devices:device", args=[robot.pk])


def test_outsiders_get_404_and_anonymous_visitors_the_login(robot, carol, login, client):
    assert fragment(login(carol), robot).status_code == 404
    response = fragment(client, robot)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_it_only_reads(robot, alice, login):
    response = login(alice).post(reverse("devices:live_status", args=[robot.pk]), **HTMX)
    assert response.status_code == 405


def test_a_constant_number_of_queries(robot, bob, login, django_assert_max_num_queries):
    report(robot, "sweep")
    client = login(bob)
    fragment(client, robot)
    with django_assert_max_num_queries(8):
        fragment(client, robot)


@pytest.mark.parametrize("mode", ["", "sweep", "fault"])
def test_reading_the_fragment_again_unchanged_triggers_nothing(robot, bob, login, mode):
    if mode:
        report(robot, mode, error_code="-2201" if mode == "fault" else "")
    client = login(bob)
    html = fragment(client, robot).content.decode()
    url = re.search(r'hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
    again = client.get(url, **HTMX)
    assert again.status_code == 200 and "HX-Trigger" not in again.headers
