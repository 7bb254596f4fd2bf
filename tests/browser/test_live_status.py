"""Live status in a real browser: the push listener (in a thread, against the simulator's
push server) stores what the robot reports, and the device page and the overview card show
it without being reloaded. Fails on any console error (the strict CSP included)."""

from __future__ import annotations

import re
import threading
import time

import pytest
from django.db import connections
from django.urls import reverse
from playwright.sync_api import expect

from devices.clouds.qihoo360_push import ReconnectBackoff
from devices.machines import Device
from devices.push_listener import Intervals, Listener
from tests.browser.helpers import sign_in_as
from tests.devices import test_commands_support as support
from tests.devices.test_commands_support import S7

sim_settings, vacuums = support.sim_settings, support.vacuums

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def listener(sim, vacuums):
    """The push listener serving Home's 360 account, quick to notice watched robots."""
    service = Listener(
        sim.push_addr,
        intervals=Intervals(watched=2.0, min_spacing=2.0),
        refresh_every=1.0,
        watch_every=0.5,
        backoff_factory=lambda: ReconnectBackoff(initial=0.3, maximum=2.0, jitter=0.0),
    )
    stop = threading.Event()

    def run():
        try:
            service.run(stop)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    s7 = vacuums[S7]
    while Device.objects.get(pk=s7.pk).status_observed_at is None:
        assert time.monotonic() < deadline, "the listener stored no status"
        time.sleep(0.1)
    yield service
    stop.set()
    thread.join(timeout=30)


def area(locator) -> int:
    match = re.search(r"(\d+)", locator.inner_text())
    return int(match.group(1)) if match else -1


def test_a_started_vacuum_shows_cleaning_and_its_area_growing_without_reloading(
    page, live_server, oscar, vacuums, sim, listener
):
    s7 = vacuums[S7]
    sign_in_as(page, live_server, oscar)
    page.goto(reverse("devices:device", args=[s7.pk]))
    live = page.locator(f"#live-status-{s7.pk}")
    expect(live.locator(".state-label")).to_have_text("Charging")
    expect(live.locator(".battery")).to_contain_text("89 %")
    expect(live.locator(".status-age")).to_contain_text("Updated just now")
    page.evaluate("window.notReloaded = true")

    sim.set_speed(40)  # 40 simulated seconds a second: +1 m² every second of the test
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#device-live-{s7.pk}").get_by_role("button", name="Start cleaning").click()

    expect(live.locator(".state-label")).to_have_text("Cleaning", timeout=25_000)
    first = area(live.locator(".run-area"))
    assert first >= 0
    expect(live.locator(".run-time")).not_to_be_empty()
    deadline = time.monotonic() + 30
    while area(live.locator(".run-area")) <= first:
        assert time.monotonic() < deadline, "the area did not grow"
        page.wait_for_timeout(500)
    assert page.evaluate("window.notReloaded") is True
    # The page's own block followed the new state: its buttons are those of a running robot.
    expect(
        page.locator(f"#device-live-{s7.pk}").get_by_role("button", name="Pause")
    ).to_be_visible()
    # Requests for watched robots were sent; the simulator saw no forbidden call.
    assert sim.violations() == []


def test_the_overview_card_follows_the_robot(page, live_server, alice, vacuums, sim, listener):
    s7 = vacuums[S7]
    sign_in_as(page, live_server, alice)
    page.goto(reverse("dashboard:overview"))
    live = page.locator(f"#device-{s7.pk} #live-status-{s7.pk}")
    expect(live.locator(".state-label")).to_have_text("Charging")
    sim.control("POST", f"360/devices/{S7}/fault", {"code": -2201})  # the robot reports it
    expect(live.locator(".state-label")).to_have_text("Error", timeout=25_000)
    expect(live.locator(".device-error")).to_be_visible()


def test_a_hidden_page_stops_reading_and_catches_up_when_shown_again(
    page, live_server, bob, vacuums
):
    s7 = vacuums[S7]
    reads: list[str] = []
    page.on("request", lambda request: "/live-status/" in request.url and reads.append(request.url))
    sign_in_as(page, live_server, bob)
    page.goto(reverse("devices:device", args=[s7.pk]))
    expect(page.locator(f"#live-status-{s7.pk}")).to_be_visible()
    page.wait_for_timeout(500)
    assert len(reads) == 1  # the read on load

    def visibility(state: str) -> None:
        page.evaluate(
            "state => { Object.defineProperty(document, 'visibilityState',"
            " {value: state, configurable: true});"
            " document.dispatchEvent(new Event('visibilitychange')); }",
            state,
        )

    visibility("hidden")
    page.wait_for_timeout(11_000)  # one poll interval and a bit
    assert len(reads) == 1
    visibility("visible")
    page.wait_for_timeout(1_000)
    assert len(reads) == 2  # at once, not at the next tick
