"""The push listener against the simulator over real sockets: status, commands, runs.

The listener runs in a background thread (conftest.start_listener) and writes to the test
database; the simulator's own view (`GET /_sim/360/devices/<sn>`) is the truth.
"""

from __future__ import annotations

import pytest

from devices import commands
from devices.machines import CommandLog, CommandStatus
from devices.models import AccountStatus
from tests.live.helpers import S5, S7, S9, X95, device, sim_status, status_requests, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def observed(account, sn):
    return device(account, sn).status_observed_at


def test_status_of_every_online_device_arrives_and_matches_the_simulator(
    sim, sid_account, start_listener
):
    listener = start_listener()
    for sn in (S7, S5, X95):
        wait_for(lambda sn=sn: observed(sid_account, sn), what=f"status of {sn}")
    for sn in (S7, S5, X95):
        row, truth = device(sid_account, sn), sim_status(sim, sn)
        assert row.state == truth["mode"]
        assert row.battery == truth["elecReal"]
        assert row.fan_level == truth["workNoisy"]
        assert row.error_code == ""
        assert row.status_extra["clean_id"] == truth["cleanId"]
        assert row.status_extra["vol"] == truth["vol"]
    assert observed(sid_account, S9) is None  # offline: never asked
    assert status_requests(sim, S9) == []
    assert len(status_requests(sim, S7)) == 1  # once after the bind, then only when due
    listener.stop()


def test_start_pause_and_dock_are_acknowledged_and_the_finished_run_is_synced(
    sim, sid_account, oscar, start_listener, queued_syncs
):
    start_listener()
    s7 = wait_for(lambda: observed(sid_account, S7) and device(sid_account, S7), what="status")
    assert s7.state == "charge"
    sim.set_speed(0)  # from here the test moves the robot's clock

    outcome = commands.send_command(device=s7, command="start", user=oscar)
    assert outcome.ok, outcome.message
    entry = outcome.entry
    sim.advance(1)  # the robot answers 0.5 s (simulated) after the command
    wait_for(
        lambda: CommandLog.objects.get(pk=entry.pk).status == CommandStatus.ACKNOWLEDGED,
        what="start acknowledged",
    )
    assert CommandLog.objects.get(pk=entry.pk).message == "The robot confirmed it."
    wait_for(lambda: device(sid_account, S7).state == "sweep", what="sweeping")
    started = device(sid_account, S7).status_extra
    assert started["clean_area"] == 0 and started["sub_mode"]

    sim.advance(120)  # an unsolicited status every 60 s while sweeping; +1 m2 per 40 s
    wait_for(lambda: device(sid_account, S7).status_extra["clean_time"] >= 120, what="time growing")
    grown, truth = device(sid_account, S7), sim_status(sim, S7)
    assert grown.status_extra["clean_area"] == truth["cleanArea"] >= 3
    assert grown.status_extra["clean_id"] == started["clean_id"]
    assert grown.battery < s7.battery and abs(grown.battery - truth["elecReal"]) <= 1

    pause = commands.send_command(device=grown, command="pause", user=oscar)
    sim.advance(1)
    wait_for(lambda: device(sid_account, S7).state == "pause", what="paused")
    wait_for(
        lambda: CommandLog.objects.get(pk=pause.entry.pk).status == CommandStatus.ACKNOWLEDGED,
        what="pause acknowledged",
    )
    assert queued_syncs == []  # the run goes on

    dock = commands.send_command(device=device(sid_account, S7), command="dock", user=oscar)
    sim.advance(1)
    wait_for(lambda: device(sid_account, S7).state == "backcharge", what="returning")
    assert CommandLog.objects.get(pk=dock.entry.pk).status == CommandStatus.ACKNOWLEDGED
    sim.advance(31)  # docking takes 30 s
    wait_for(lambda: device(sid_account, S7).state == "charge", what="docked")
    wait_for(lambda: queued_syncs, what="history sync requested")
    assert queued_syncs == [(sid_account.pk, "run_finished")]


def test_a_refused_command_is_recorded_as_failed_with_the_robots_answer(
    sim, sid_account, oscar, start_listener
):
    start_listener()
    s7 = wait_for(lambda: observed(sid_account, S7) and device(sid_account, S7))
    sim.set_speed(0)
    pause = commands.send_command(device=s7, command="pause", user=oscar)  # docked: refused
    sim.advance(1)
    row = wait_for(
        lambda: (r := CommandLog.objects.get(pk=pause.entry.pk)).status != CommandStatus.SENT and r,
        what="an outcome",
    )
    assert row.status == CommandStatus.FAILED
    assert row.message == "The robot refused it (it answered “fail”)."


def test_other_infotypes_are_kept_raw_and_small(sim, sid_account, start_listener):
    start_listener()
    wait_for(lambda: observed(sid_account, S7))
    sim.control("POST", "360/push", {"sn": S7, "infoType": 21027, "data": {"process": 40}})
    sim.control("POST", "360/push", {"sn": S7, "infoType": 20002, "data": {"map": "x" * 5000}})
    pushes = wait_for(
        lambda: len(p := device(sid_account, S7).status_extra.get("last_push", {})) >= 2 and p,
        what="raw pushes kept",
    )
    assert pushes["21027"]["data"] == {"process": 40}
    assert pushes["20002"]["data"] == {"omitted": "too large to keep", "chars": 5010}


def test_an_error_state_is_stored_as_the_effective_code(sim, sid_account, start_listener):
    start_listener()
    wait_for(lambda: observed(sid_account, S7))
    sim.control("POST", f"360/devices/{S7}/fault", {"code": -2201})
    row = wait_for(lambda: (d := device(sid_account, S7)).state == "fault" and d, what="fault")
    assert row.error_code == "-2201"
    assert row.status_extra["errors"] == [-2201]


def test_accounts_that_are_not_ok_are_not_served(sim, sid_account, start_listener):
    sid_account.set_status(AccountStatus.REAUTH_REQUIRED, "Link it again.")
    listener = start_listener()
    wait_for(lambda: listener.listener.counters["refreshes"] >= 2, what="two account refreshes")
    assert listener.accounts == set()
    assert sim.push_connections() == []
