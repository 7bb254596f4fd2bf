"""The device page and its command buttons, as people in different roles see and use them."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from devices import commands
from devices.history import Run, RunResult
from devices.machines import CommandLog
from tests.devices import test_commands_support as support
from tests.devices.test_commands_support import (
    LUBA,
    LUBA_MINI,
    S5,
    S7,
    S9,
    STATION,
    X95,
    YUKA,
    command_forms,
    set_state,
    vacuum_state,
)

sim_settings, vacuums, mowers = support.sim_settings, support.vacuums, support.mowers
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def people(alice, oscar, bob, carol):
    return {"owner": alice, "operator": oscar, "viewer": bob, "outsider": carol}


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Mower commands queue a status refresh; here nothing listens to the queue."""
    from devices import command_tasks

    monkeypatch.setattr(
        command_tasks.refresh_status_after_command, "apply_async", lambda *a, **k: None
    )


def page(client, device) -> str:
    response = client.get(reverse("devices:device", args=[device.pk]))
    assert response.status_code == 200
    return response.content.decode()


def command_url(device, command: str) -> str:
    return reverse("devices:command", args=[device.pk, command])


# --- who may do what (S2, S3) -----------------------------------------------------------

GET_PAGES = ["devices:device", "devices:device_commands", "devices:device_live"]


@pytest.mark.parametrize("name", GET_PAGES)
@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("operator", 200), ("viewer", 200), ("outsider", 404)],
)
def test_device_pages_are_for_members_only(vacuums, people, login, name, role, status):
    response = login(people[role]).get(reverse(name, args=[vacuums[S7].pk]), **HTMX)
    assert response.status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(vacuums):
    for name in GET_PAGES:
        response = Client().get(reverse(name, args=[vacuums[S7].pk]))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 302), ("operator", 302), ("viewer", 403), ("outsider", 404)],
)
def test_only_operators_and_owners_send_commands(vacuums, people, login, sim, role, status):
    response = login(people[role]).post(command_url(vacuums[S7], "find"))
    assert response.status_code == status
    assert CommandLog.objects.count() == (1 if status == 302 else 0)
    assert (
        len(sim.requests(vendor="qihoo360", path="/clean/cmd/send")) == CommandLog.objects.count()
    )


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("operator", 200), ("viewer", 403), ("outsider", 404)],
)
def test_confirmation_page_roles(vacuums, people, login, role, status):
    url = reverse("devices:command_confirm", args=[vacuums[S7].pk, "start"])
    assert login(people[role]).get(url).status_code == status


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 302), ("operator", 403), ("viewer", 403), ("outsider", 404)],
)
def test_only_owners_rename(vacuums, people, login, sim, role, status):
    url = reverse("devices:rename", args=[vacuums[S7].pk])
    response = login(people[role]).post(url, {"name": "Kitchen"})
    assert response.status_code == status
    assert vacuum_state(sim, vacuums[S7])["title"] == (
        "Kitchen" if role == "owner" else "Living room"
    )


@pytest.mark.parametrize(
    "url_of",
    [
        lambda d: command_url(d, "find"),
        lambda d: command_url(d, "start"),
        lambda d: reverse("devices:rename", args=[d.pk]),
    ],
)
def test_get_on_a_command_url_is_405(vacuums, alice, login, url_of):
    assert login(alice).get(url_of(vacuums[S7])).status_code == 405


@pytest.mark.parametrize("name", ["devices:device_live", "devices:device_commands"])
def test_post_on_a_read_url_is_405(vacuums, alice, login, name):
    assert login(alice).post(reverse(name, args=[vacuums[S7].pk])).status_code == 405


def test_post_without_csrf_token_is_refused(vacuums, alice, login, sim):
    client = login(alice, enforce_csrf_checks=True)
    for url in (
        command_url(vacuums[S7], "find"),
        command_url(vacuums[S7], "start"),
        reverse("devices:rename", args=[vacuums[S7].pk]),
    ):
        assert client.post(url, {"confirm": "1", "name": "x"}).status_code == 403
    assert not CommandLog.objects.exists()
    assert sim.requests(vendor="qihoo360", path="/clean/cmd/send") == []
    assert sim.requests(vendor="qihoo360", path="/clean/devuser/updateInfo") == []


def test_unknown_command_is_404(vacuums, alice, login):
    assert login(alice).post(command_url(vacuums[S7], "selfdestruct")).status_code == 404
    assert login(alice).post(command_url(vacuums[S7], "start_task")).status_code == 404


# --- what the page shows ------------------------------------------------------------------


def test_page_shows_facts_status_and_capabilities(vacuums, alice, login):
    s5 = set_state(vacuums[S5], "fullcharge", battery=100, fan_level="strong", error_code="-2201")
    html = page(login(alice), s5)
    assert "<h1>Upstairs</h1>" in html
    assert "S5" in html and "Vacuum" in html and "360 Smart" in html
    assert "Docked, fully charged" in html
    assert "100 %" in html and "Strong" in html
    assert "-2201" in html  # the error with its text (or "Error -2201" without a catalogue)
    assert "Not on this model: Max suction, Mop, Volume control." in html
    assert "Online" in html


def test_stale_status_is_labelled_with_its_age(vacuums, alice, login):
    s7 = set_state(vacuums[S7], "charge")
    s7.status_observed_at = timezone.now() - timedelta(hours=2)
    s7.save()
    html = page(login(alice), s7)
    assert "Stale:" in html and "last reported 2 h ago" in html
    assert "Charging" in html


def test_360_shares_are_listed(vacuums, alice, login):
    x95 = vacuums[X95]
    x95.shares = [{"name": "Guest", "detail": "qid 2000000002"}]
    x95.save()
    html = page(login(alice), x95)
    assert "Who else has access" in html and "Guest" in html
    assert "No other 360 account is known to share this robot." in page(login(alice), vacuums[S7])


def test_reports_partials_appear_when_runs_exist(vacuums, alice, login):
    s7 = vacuums[S7]
    assert "Lifetime totals" not in page(login(alice), s7)
    Run.objects.create(
        device=s7,
        remote_id="run-1",
        started_at=timezone.now() - timedelta(days=1),
        duration_s=1800,
        area_m2=30,
        result=RunResult.COMPLETED,
    )
    html = page(login(alice), s7)
    assert "Lifetime totals" in html and "Archived here" in html


def test_viewer_sees_the_state_but_no_buttons(vacuums, mowers, bob, login):
    s7 = set_state(vacuums[S7], "sweep", battery=70)
    html = page(login(bob), s7)
    assert "Cleaning" in html and "70 %" in html
    assert command_forms(html) == {}
    assert "Rename" not in html
    assert command_forms(page(login(bob), mowers[LUBA])) == {}


def test_owner_sees_rename_operator_does_not(vacuums, alice, oscar, login):
    assert "Rename Living room" in page(login(alice), vacuums[S7])
    assert "Rename Living room" not in page(login(oscar), vacuums[S7])


# --- gating -------------------------------------------------------------------------------


def test_s7_with_unknown_state_offers_everything_with_max_and_volume(vacuums, oscar, login):
    forms = command_forms(page(login(oscar), vacuums[S7]))
    assert list(forms) == [
        "start", "spot", "edge", "pause", "resume", "stop", "dock", "cancel_dock", "find",
        "status", "suction", "volume",
    ]  # fmt: skip
    assert forms["suction"]["selects"]["level"] == ["quiet", "auto", "strong", "max"]
    assert forms["volume"]["selects"]["volume"] == [str(v) for v in range(11)]
    assert not any(form["disabled"] for form in forms.values())


def test_s5_shows_no_volume_and_no_max(vacuums, oscar, login):
    forms = command_forms(page(login(oscar), vacuums[S5]))
    assert "volume" not in forms
    assert forms["suction"]["selects"]["level"] == ["quiet", "auto", "strong"]


def test_offline_s9_disables_everything_but_refresh(vacuums, oscar, login):
    html = page(login(oscar), vacuums[S9])
    forms = command_forms(html)
    assert {key for key, form in forms.items() if not form["disabled"]} == {"status"}
    assert len(forms) == 12  # support "" is unknown: every control exists, disabled
    assert "Garage is offline, so only Refresh status works." in html


def test_station_has_no_controls(mowers, alice, login):
    station = set_state(mowers[STATION], "Standby", battery=0)
    html = page(login(alice), station)
    assert command_forms(html) == {}
    assert "RTK reference stations have no controls." in html
    assert "Battery" not in html and "Recent commands" not in html
    assert login(alice).post(command_url(mowers[STATION], "status")).status_code == 404


@pytest.mark.parametrize(
    ("mode", "offered"),
    [
        ("charge", {"start", "spot", "edge"}),
        ("sweep", {"pause", "stop", "dock"}),
        ("pause", {"start", "spot", "edge", "resume", "stop", "dock"}),
        ("backcharge", {"cancel_dock"}),
        ("idle", {"start", "spot", "edge", "dock"}),
    ],
)
def test_360_buttons_follow_the_known_state(vacuums, oscar, login, mode, offered):
    forms = command_forms(page(login(oscar), set_state(vacuums[S7], mode)))
    always = {"find", "suction", "volume", "status"}
    assert set(forms) == offered | always


@pytest.mark.parametrize(
    ("state", "charge", "offered"),
    [
        ("Standby", 1, {"start_task", "start_now"}),  # docked: no resume, no return
        ("Standby", 0, {"start_task", "start_now", "dock"}),
        ("Working", 0, {"pause", "stop", "dock"}),
        ("Paused", 0, {"resume", "stop", "dock"}),
        ("Returning", 0, {"stop", "cancel_dock"}),
    ],
)
def test_mower_buttons_follow_the_known_state(mowers, oscar, login, state, charge, offered):
    luba = mowers[LUBA]
    luba.status_extra = {
        "tasks": ["Front lawn", "Back lawn"],
        "tasks_at": timezone.now().isoformat(),
    }
    forms = command_forms(page(login(oscar), set_state(luba, state, charge_status=charge)))
    assert set(forms) == offered | {"status"}
    if "start_task" in forms:
        assert forms["start_task"]["selects"]["task"] == ["Front lawn", "Back lawn"]


def test_mower_with_unknown_status_shows_everything_and_asks_first(mowers, oscar, login):
    luba = mowers[LUBA]  # never refreshed: status unknown, tasks not loaded
    html = page(login(oscar), luba)
    forms = command_forms(html)
    assert set(forms) == {"start_now", "pause", "resume", "stop", "dock", "cancel_dock", "status"}
    assert all(forms[key]["confirm"] for key in forms if key != "status")
    assert "Saved tasks have not been loaded yet: press Refresh status to load them." in html


def test_offline_mower_only_refreshes(mowers, oscar, login):
    mini = set_state(mowers[LUBA_MINI], "Offline", online=False)
    forms = command_forms(page(login(oscar), mini))
    assert {key for key, form in forms.items() if not form["disabled"]} == {"status"}


def test_a_command_newer_than_the_status_makes_the_state_unknown(vacuums, oscar, login, sim):
    s7 = set_state(vacuums[S7], "charge")
    client = login(oscar)
    assert "pause" not in command_forms(page(client, s7))
    client.post(command_url(s7, "start"), {"confirm": "1"})
    forms = command_forms(page(client, s7))
    assert {"pause", "stop", "start"} <= set(forms)  # the robot may be cleaning by now


def test_dangerous_buttons_ask_first(vacuums, mowers, oscar, login):
    s7 = set_state(vacuums[S7], "pause")
    forms = command_forms(page(login(oscar), s7))
    assert forms["start"]["confirm"] == (
        "Start Living room now? It will leave the dock and clean the whole home."
    )
    assert forms["stop"]["confirm"] == "Stop Living room? The current run ends here."
    assert forms["resume"]["confirm"] is None and forms["dock"]["confirm"] is None
    luba = set_state(mowers[LUBA], "Paused", charge_status=0)
    mower_forms = command_forms(page(login(oscar), luba))
    assert mower_forms["resume"]["confirm"] == (
        "Resume mowing with Luba-VS5K8D2M1? The mower will start moving."
    )
    assert mower_forms["dock"]["confirm"] is None


def test_buttons_post_in_place_with_htmx(vacuums, oscar, login):
    s7 = vacuums[S7]
    forms = command_forms(page(login(oscar), s7))
    assert forms["find"]["hx_post"] == command_url(s7, "find")
    assert forms["find"]["hx_target"] == f"#device-live-{s7.pk}"


# --- pressing buttons -----------------------------------------------------------------------


def test_without_javascript_a_command_redirects_back_with_its_message(vacuums, oscar, login, sim):
    s7 = set_state(vacuums[S7], "charge")
    response = login(oscar).post(command_url(s7, "find"), follow=True)
    assert response.redirect_chain == [(reverse("devices:device", args=[s7.pk]), 302)]
    assert "Living room: find robot sent." in response.content.decode()


def test_without_javascript_start_goes_through_the_confirmation_page(vacuums, oscar, login, sim):
    s7 = set_state(vacuums[S7], "charge")
    client = login(oscar)
    response = client.post(command_url(s7, "start"))
    confirm_url = reverse("devices:command_confirm", args=[s7.pk, "start"])
    assert (response.status_code, response["Location"]) == (302, confirm_url)
    assert not CommandLog.objects.exists()

    html = client.get(confirm_url).content.decode()
    assert "Are you sure?" in html
    assert "Start Living room now? It will leave the dock and clean the whole home." in html
    assert 'name="confirm" value="1"' in html

    response = client.post(command_url(s7, "start"), {"confirm": "1"}, follow=True)
    assert "Living room: start sent." in response.content.decode()
    assert vacuum_state(sim, s7)["status"]["mode"] == "sweep"


def test_without_javascript_a_task_start_keeps_the_chosen_task(mowers, oscar, login, sim):
    luba = mowers[LUBA]
    client = login(oscar)
    response = client.post(command_url(luba, "start_task"), {"task": "Back lawn"})
    assert response["Location"].endswith("/start_task/confirm/?task=Back+lawn")
    html = client.get(response["Location"]).content.decode()
    assert "Start the task “Back lawn” on Luba-VS5K8D2M1 now?" in html
    assert 'name="task" value="Back lawn"' in html
    client.post(command_url(luba, "start_task"), {"task": "Back lawn", "confirm": "1"})
    assert CommandLog.objects.get().params == {"task": "Back lawn"}


def test_htmx_command_swaps_the_live_block_with_its_message(mowers, oscar, login, sim):
    luba = mowers[LUBA]
    response = login(oscar).post(
        command_url(luba, "start_task"), {"task": "Front lawn", "confirm": "1"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="device-live')
    assert f'id="device-live-{luba.pk}"' in html
    assert "start of the task “Front lawn” accepted" in html
    assert 'hx-trigger="load delay:6s"' in html  # looks again for the new state
    assert "<html" not in html


def test_htmx_unconfirmed_start_is_sent_to_the_confirmation_page(vacuums, oscar, login):
    response = login(oscar).post(command_url(vacuums[S7], "start"), **HTMX)
    assert response["HX-Redirect"] == reverse(
        "devices:command_confirm", args=[vacuums[S7].pk, "start"]
    )
    assert not CommandLog.objects.exists()


def test_vendor_timeout_returns_quickly_with_a_clear_message(vacuums, oscar, login, sim):
    """The real COMMAND_TIMEOUT (read 5 s) bounds the page, whatever the vendor does."""
    sim.add_fault(vendor="qihoo360", path="/clean/cmd/send", delay=12)
    started = time.monotonic()
    response = login(oscar).post(command_url(vacuums[S7], "find"), **HTMX)
    elapsed = time.monotonic() - started
    assert elapsed < 7
    assert "The 360 cloud did not answer in time" in response.content.decode()


def test_rate_limit_message_after_six_clicks(vacuums, oscar, login, sim):
    client = login(oscar)
    for _ in range(6):
        client.post(command_url(vacuums[S7], "find"), **HTMX)
    html = client.post(command_url(vacuums[S7], "find"), **HTMX).content.decode()
    assert "too many commands in a short time, so this one was not sent" in html
    assert CommandLog.objects.count() == 6


def test_mammotion_refusal_is_shown_on_the_card(mowers, oscar, login, sim):
    html = (
        login(oscar)
        .post(command_url(mowers[LUBA], "start_task"), {"task": "Nope", "confirm": "1"}, **HTMX)
        .content.decode()
    )
    assert "Mammotion refused: task not found" in html
    assert 'class="message message-error"' in html


def test_offline_mower_message(mowers, oscar, login, sim):
    yuka = mowers[YUKA]
    sim.control("POST", f"mammotion/devices/{yuka.remote_id}", {"online": False})
    response = login(oscar).post(command_url(yuka, "pause"), {"confirm": "1"}, **HTMX)
    assert "Front Lawn is offline." in response.content.decode()


def test_live_block_without_htmx_redirects_to_the_page(vacuums, alice, login):
    response = login(alice).get(reverse("devices:device_live", args=[vacuums[S7].pk]))
    assert response["Location"] == reverse("devices:device", args=[vacuums[S7].pk])


def test_rename_from_the_page(mowers, alice, login, sim):
    response = login(alice).post(
        reverse("devices:rename", args=[mowers[LUBA].pk]), {"name": "Lawn boss"}, follow=True
    )
    html = response.content.decode()
    assert "<h1>Lawn boss</h1>" in html
    assert "Renamed here only" in html


# --- command logs -------------------------------------------------------------------------


def make_log(device, user, n, **fields):
    now = timezone.now()
    CommandLog.objects.bulk_create(
        CommandLog(
            device=device,
            user=user,
            command=fields.get("command", "find"),
            status=fields.get("status", "sent"),
            message=fields.get("message", "ok"),
            created_at=now - timedelta(minutes=i),
            deadline=now,
        )
        for i in range(n)
    )


def test_household_log_lists_commands_with_their_outcome(vacuums, mowers, alice, bob, login):
    commands.send_command(device=vacuums[S9], command="status", user=alice)
    html = login(bob).get(reverse("devices:commands")).content.decode()
    assert "Refresh status" in html and "Garage" in html and "alice" in html
    assert "Failed" in html and "The device is offline." in html


def test_outsider_log_never_shows_another_households_commands(vacuums, alice, carol, login):
    make_log(vacuums[S7], alice, 3)
    html = login(carol).get(reverse("devices:commands")).content.decode()
    assert "Living room" not in html
    assert "No commands have been sent yet." in html
    assert (
        login(carol).get(reverse("devices:device_commands", args=[vacuums[S7].pk])).status_code
        == 404
    )


def test_log_filters(vacuums, alice, oscar, login):
    make_log(vacuums[S7], alice, 3, command="find", status="sent")
    make_log(vacuums[S5], oscar, 2, command="pause", status="failed", message="Nope, offline")
    client = login(alice)
    url = reverse("devices:commands")

    def rows(**query):
        html = client.get(url, query).content.decode()
        return html.count('<tr>\n      <td class="command-when">')

    assert rows() == 5
    assert rows(status="failed") == 2
    assert rows(command="find") == 3
    assert rows(user=oscar.pk) == 2
    assert rows(device=vacuums[S7].pk) == 3
    assert rows(device=vacuums[S7].pk, status="failed") == 0
    per_device = client.get(reverse("devices:device_commands", args=[vacuums[S5].pk]))
    assert per_device.content.decode().count('<td class="command-when">') == 2


def test_log_pages_fifty_at_a_time(vacuums, alice, login):
    make_log(vacuums[S7], alice, 60)
    client = login(alice)
    first = client.get(reverse("devices:device_commands", args=[vacuums[S7].pk]))
    assert first.context["page"].has_older and len(first.context["page"].rows) == 50
    older = first.context["page"].older_cursor
    second = client.get(
        reverse("devices:device_commands", args=[vacuums[S7].pk]), {"before": older}
    )
    assert len(second.context["page"].rows) == 10
    assert not second.context["page"].has_older


# --- constant query counts -------------------------------------------------------------------


def count_queries(client, url):
    client.get(url)  # the first request of a session also saves the session
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_device_page_queries_do_not_grow_with_commands(vacuums, alice, login):
    client = login(alice)
    s7 = set_state(vacuums[S7], "charge")
    url = reverse("devices:device", args=[s7.pk])
    make_log(s7, alice, 2)
    few = count_queries(client, url)
    make_log(s7, alice, 40)
    assert count_queries(client, url) == few


def test_command_log_queries_do_not_grow_with_commands_or_devices(vacuums, mowers, alice, login):
    client = login(alice)
    url = reverse("devices:commands")
    make_log(vacuums[S7], alice, 2)
    few = count_queries(client, url)
    for device in list(vacuums.values()) + list(mowers.values()):
        make_log(device, alice, 12)
    assert count_queries(client, url) == few
    device_url = reverse("devices:device_commands", args=[vacuums[S5].pk])
    empty = count_queries(client, device_url)
    make_log(vacuums[S5], alice, 60)
    assert count_queries(client, device_url) == empty
