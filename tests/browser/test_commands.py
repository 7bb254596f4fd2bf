"""Command buttons in a real browser, against the simulated clouds.

Every test also fails on any console error, page error or failed request (conftest.py),
which is what catches CSP violations by htmx or the templates.
"""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from django.urls import reverse
from playwright.sync_api import expect

from devices import command_tasks
from tests.browser.helpers import sign_in_as
from tests.devices import test_commands_support as support
from tests.devices.test_commands_support import LUBA, S7, set_state, vacuum_state

sim_settings, vacuums, mowers = support.sim_settings, support.vacuums, support.mowers


@pytest.fixture
def worker(monkeypatch):
    """Plays the Celery worker for the status refresh queued after a mower command: runs
    the real task after its countdown, in a thread, as a worker would."""
    timers: list[threading.Timer] = []

    def run(device_pk):
        try:
            command_tasks.refresh_status_after_command.run(device_pk)
        finally:
            connection.close()

    def apply_async(args, countdown=0, **kwargs):
        timer = threading.Timer(countdown, run, args=args)
        timers.append(timer)
        timer.start()

    monkeypatch.setattr(command_tasks.refresh_status_after_command, "apply_async", apply_async)
    yield timers
    for timer in timers:
        timer.cancel()
        timer.join(timeout=10)


def device_url(device) -> str:
    return reverse("devices:device", args=[device.pk])


def test_operator_starts_a_vacuum_confirms_and_sees_it_in_the_log(
    page, live_server, oscar, vacuums, sim
):
    s7 = set_state(vacuums[S7], "charge", battery=89)
    sign_in_as(page, live_server, oscar)
    page.goto(device_url(s7))
    card = page.locator(f"#device-live-{s7.pk}")
    expect(card.locator(".state-label")).to_have_text("Charging")

    questions = []

    def answer(dialog):
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    card.get_by_role("button", name="Start cleaning").click()

    expect(card.locator(".message")).to_have_text(
        "Living room: start sent. The robot's new state will show once it reports back."
    )
    assert questions == ["Start Living room now? It will leave the dock and clean the whole home."]
    recent = card.locator(".command-list li").first
    expect(recent).to_contain_text("Start cleaning")
    expect(recent).to_contain_text("Sent")
    assert vacuum_state(sim, s7)["status"]["mode"] == "sweep"
    # The robot may be cleaning now: pause and stop are offered again.
    expect(card.get_by_role("button", name="Pause")).to_be_visible()

    card.get_by_role("link", name="All commands of Living room").click()
    expect(page.get_by_role("heading", name="Commands of Living room")).to_be_visible()
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("Start cleaning")
    expect(row).to_contain_text("oscar")
    expect(row).to_contain_text("Sent")


def test_without_javascript_start_asks_on_a_confirmation_page(
    new_context, live_server, oscar, vacuums, sim
):
    s7 = set_state(vacuums[S7], "charge")
    page = new_context(java_script_enabled=False).new_page()
    sign_in_as(page, live_server, oscar)
    page.goto(device_url(s7))

    page.get_by_role("button", name="Start cleaning").click()
    expect(page.get_by_role("heading", name="Are you sure?")).to_be_visible()
    expect(page.get_by_text("Start Living room now?")).to_be_visible()
    page.get_by_role("button", name="Yes: start cleaning").click()

    expect(page).to_have_url(re.compile(rf"{re.escape(device_url(s7))}$"))
    expect(page.get_by_text("Living room: start sent.")).to_be_visible()
    assert vacuum_state(sim, s7)["status"]["mode"] == "sweep"


def test_mower_starts_a_saved_task_and_its_card_changes_to_mowing(
    page, live_server, oscar, mowers, sim, worker
):
    luba = mowers[LUBA]
    sign_in_as(page, live_server, oscar)
    page.goto(device_url(luba))
    card = page.locator(f"#device-live-{luba.pk}")
    expect(card.locator(".state-label")).to_have_text("Status unknown")
    expect(card).to_contain_text("Saved tasks have not been loaded yet")

    card.get_by_role("button", name="Refresh status").click()  # reads detail and tasks
    expect(card.locator(".message")).to_have_text("Luba-VS5K8D2M1: status refreshed.")
    expect(card.locator(".state-label")).to_have_text("Docked")

    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_label("Saved task").select_option("Front lawn")
    card.get_by_role("button", name="Start task").click()

    expect(card.locator(".message")).to_contain_text("start of the task “Front lawn” accepted")
    expect(card).to_contain_text("Waiting for the mower to report its new state")
    # The queued refresh runs 5 s later; the card looks again by itself and shows it.
    expect(card.locator(".state-label")).to_have_text("Mowing", timeout=15_000)
    expect(card.get_by_role("button", name="Pause")).to_be_visible()
    expect(card.locator(".message")).to_contain_text("accepted")  # the message stays
    assert len(worker) == 1


def test_viewer_sees_the_state_but_no_buttons(page, live_server, bob, vacuums, mowers):
    s7 = set_state(vacuums[S7], "sweep", battery=64)
    sign_in_as(page, live_server, bob)
    page.goto(device_url(s7))
    card = page.locator(f"#device-live-{s7.pk}")
    expect(card.locator(".state-label")).to_have_text("Cleaning")
    expect(card).to_contain_text("64 %")
    expect(page.get_by_role("button", name=re.compile("Start|Pause|Stop|Refresh"))).to_have_count(0)
    page.goto(device_url(mowers[LUBA]))
    expect(page.locator("form[action*='/commands/']")).to_have_count(0)
