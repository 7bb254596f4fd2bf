"""When the listener asks a robot for its status (cloud-apis.md 3.7.8 "Refresh")."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from devices import live_status
from devices.push_listener import Intervals
from devices.push_requests import LiveDevice
from tests.live.helpers import S5, S7, device, status_requests, wait_for

DEFAULTS = Intervals()


def robot(mode="charge", **kw) -> LiveDevice:
    return LiveDevice(**{"pk": 1, "sn": S7, "online": True, "mode": mode, "wanted": False, **kw})


def test_the_production_intervals_are_those_of_the_spec():
    assert (DEFAULTS.active, DEFAULTS.idle, DEFAULTS.watched) == (60, 600, 15)
    assert DEFAULTS.min_spacing == 10


@pytest.mark.parametrize(
    ("mode", "every"),
    [("sweep", 60), ("pause", 60), ("backcharge", 60), ("charge", 600), ("idle", 600)],
)
def test_a_device_is_due_after_its_interval_since_the_last_status(mode, every):
    device = robot(mode, last_status=1000.0, last_request=990.0)
    assert device.due(1000.0 + every - 1, DEFAULTS) is None
    assert device.due(1000.0 + every, DEFAULTS) == 0


def test_a_pushed_status_counts_as_fresh():
    device = robot("sweep", last_request=0.0, last_status=50.0)  # an unsolicited push at 50
    assert device.due(70.0, DEFAULTS) is None
    assert device.due(110.0, DEFAULTS) == 0


def test_a_watched_device_is_asked_every_15_seconds():
    device = robot("charge", last_status=100.0, last_request=100.0, watched=True)
    assert device.due(114.0, DEFAULTS) is None
    assert device.due(115.0, DEFAULTS) == 0


def test_never_two_requests_of_one_device_within_10_seconds():
    device = robot("sweep", last_request=100.0, watched=True, wanted=True)
    for now in (100.0, 105.0, 109.9):
        assert device.due(now, DEFAULTS) is None
    assert device.due(110.0, DEFAULTS) == float("inf")  # wanted (after a bind): at once


def test_an_offline_device_is_never_asked():
    assert robot(online=False, wanted=True).due(1e9, DEFAULTS) is None


def test_a_new_device_is_asked_at_once():
    assert LiveDevice(pk=1, sn=S7, online=True, mode="").due(0.0, DEFAULTS) == float("inf")


@pytest.mark.django_db(transaction=True)
def test_a_watched_device_is_refreshed_promptly_and_an_unwatched_one_is_left_alone(
    sim, sid_account, start_listener
):
    start_listener(intervals=Intervals(watched=1.0, min_spacing=1.0), watch_every=0.5)
    wait_for(lambda: device(sid_account, S7).status_observed_at, what="first status")
    wait_for(lambda: device(sid_account, S5).status_observed_at, what="first status")
    asked = len(status_requests(sim, S7))
    time.sleep(2.0)
    assert len(status_requests(sim, S7)) == asked  # idle: next in 10 minutes

    live_status.mark_watched(device(sid_account, S7).pk)
    wait_for(lambda: len(status_requests(sim, S7)) >= asked + 2, what="watched refreshes")
    assert len(status_requests(sim, S5)) == 1  # not watched
    cache.delete(live_status.WATCH_KEY.format(pk=device(sid_account, S7).pk))
    time.sleep(1.0)
    settled = len(status_requests(sim, S7))
    time.sleep(2.0)
    assert len(status_requests(sim, S7)) == settled
