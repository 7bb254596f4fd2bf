"""Sending commands (devices.commands) against the real simulator over HTTP: what is
recorded, what reaches the machine, and what the person is told for every outcome."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from devices import command_tasks, commands
from devices.machines import CommandLog, CommandStatus
from devices.models import AccountStatus
from tests.devices import test_commands_support as support
from tests.devices.test_commands_support import (
    LUBA,
    LUBA_MINI,
    QID,
    S5,
    S7,
    S9,
    YUKA,
    mower_state,
    vacuum_state,
)

sim_settings, vacuums, mowers = support.sim_settings, support.vacuums, support.mowers


@pytest.fixture
def no_rate_limit(monkeypatch):
    monkeypatch.setattr(commands, "RATE_CAPACITY", 1000)


@pytest.fixture
def queued(monkeypatch):
    """Status refreshes queued for a worker: [(args, countdown)] instead of the broker."""
    calls = []

    def apply_async(args, countdown=None, **kwargs):
        calls.append((tuple(args), countdown))

    monkeypatch.setattr(command_tasks.refresh_status_after_command, "apply_async", apply_async)
    return calls


def send(device, command, user, **params):
    return commands.send_command(device=device, command=command, user=user, params=params)


def cmd_sends(sim):
    return sim.requests(vendor="qihoo360", path="/clean/cmd/send")


# --- 360: recorded, sent, and the robot moves -------------------------------------------


def test_start_on_s7_is_recorded_sent_with_task_id_and_the_robot_sweeps(vacuums, alice, sim):
    s7 = vacuums[S7]
    outcome = send(s7, "start", alice)

    assert outcome.ok
    assert outcome.message == (
        "Living room: start sent. The robot's new state will show once it reports back."
    )
    entry = CommandLog.objects.get()
    assert (entry.device, entry.user, entry.command, entry.status) == (s7, alice, "start", "sent")
    assert uuid.UUID(entry.task_id).version == 4
    assert entry.sent_at is not None and entry.finished_at is None
    assert entry.deadline > entry.sent_at  # awaits the robot's push answer, then "lost"
    # The task id is the one the cloud got (it correlates the push answer, 3.5.4).
    (request,) = cmd_sends(sim)
    assert request["body"]["taskid"] == entry.task_id
    assert (request["body"]["infoType"], json.loads(request["body"]["data"])) == (
        "21005",
        {"mode": "smartClean", "globalCleanTimes": 1},
    )
    assert vacuum_state(sim, s7)["status"]["mode"] == "sweep"


def test_the_log_row_exists_before_the_cloud_is_called(vacuums, alice, monkeypatch):
    seen = []

    def spy(self, sn, command, **kwargs):
        seen.append(list(CommandLog.objects.values_list("command", "status")))
        raise RuntimeError("stop here")

    monkeypatch.setattr("devices.clouds.qihoo360.Qihoo360Client.send_command", spy)
    outcome = send(vacuums[S7], "find", alice)

    assert seen == [[("find", "pending")]]
    assert not outcome.ok
    assert CommandLog.objects.get().status == "failed"


def test_pause_resume_stop_dock_and_cancel_move_the_vacuum(vacuums, oscar, sim, no_rate_limit):
    s7 = vacuums[S7]
    expected = [
        ("start", "sweep"),
        ("pause", "pause"),
        ("resume", "sweep"),
        ("stop", "idle"),
        ("dock", "backcharge"),
        ("cancel_dock", "idle"),
    ]
    for command, mode in expected:
        outcome = send(s7, command, oscar)
        assert outcome.ok, outcome.message
        assert vacuum_state(sim, s7)["status"]["mode"] == mode, command
    assert list(CommandLog.objects.order_by("pk").values_list("command", "status")) == [
        (command, "sent") for command, _ in expected
    ]


def test_suction_volume_and_find_reach_the_robot(vacuums, alice, sim, no_rate_limit):
    s7 = vacuums[S7]
    assert send(s7, "suction", alice, level="max").message == "Living room: suction level max sent."
    assert send(s7, "volume", alice, volume="3").ok
    assert send(s7, "find", alice).ok

    status = vacuum_state(sim, s7)["status"]
    assert (status["workNoisy"], status["vol"]) == ("max", 3)
    bodies = [r["body"] for r in cmd_sends(sim)]
    assert [(b["infoType"], json.loads(b["data"])) for b in bodies] == [
        ("21022", {"cmd": "max", "cleanType": "total"}),
        ("21024", {"cmd": "setVolume", "value": 3}),
        ("21020", {"ctrlCode": 3010}),
    ]
    assert list(CommandLog.objects.order_by("pk").values_list("params", flat=True)) == [
        {"level": "max"},
        {"volume": 3},
        {},
    ]


def test_suction_during_a_room_job_uses_clean_type_area(vacuums, alice, sim):
    s7 = vacuums[S7]
    s7.status_extra = {"subMode": "room"}
    send(s7, "suction", alice, level="quiet")
    assert json.loads(cmd_sends(sim)[0]["body"]["data"]) == {"cmd": "quiet", "cleanType": "area"}


def test_status_request_sends_20001_with_empty_data(vacuums, alice, sim):
    outcome = send(vacuums[S7], "status", alice)
    assert outcome.message.startswith("Living room: status request sent.")
    body = cmd_sends(sim)[0]["body"]
    assert (body["infoType"], body["data"]) == ("20001", "")


@pytest.mark.parametrize(
    ("command", "params", "message"),
    [
        ("suction", {"level": "max"}, "Upstairs has no max suction level."),
        ("volume", {"volume": "4"}, "Upstairs does not support the volume setting."),
        ("suction", {"level": "turbo"}, "Choose a suction level: quiet, auto, strong or max."),
        ("teleport", {}, "Upstairs has no such control."),
    ],
)
def test_s5_refuses_what_it_lacks_without_recording_or_sending(
    vacuums, alice, sim, command, params, message
):
    outcome = send(vacuums[S5], command, alice, **params)
    assert (outcome.ok, outcome.message) == (False, message)
    assert not CommandLog.objects.exists()
    assert cmd_sends(sim) == []


def test_volume_must_be_0_to_10(vacuums, alice, sim):
    for bad in ("11", "-1", "loud", ""):
        outcome = send(vacuums[S7], "volume", alice, volume=bad)
        assert outcome.message == "The volume must be a whole number from 0 to 10."
    assert cmd_sends(sim) == []


# --- Mammotion: acknowledged, then the status refresh --------------------------------


def test_start_task_front_lawn_is_acknowledged_and_the_mower_works_after_the_refresh(
    mowers, alice, sim, queued, django_capture_on_commit_callbacks
):
    luba = mowers[LUBA]
    with django_capture_on_commit_callbacks(execute=True):
        outcome = send(luba, "start_task", alice, task="Front lawn")

    assert outcome.ok
    assert outcome.message == (
        "Luba-VS5K8D2M1: start of the task “Front lawn” accepted. "
        "The new state will show in a few seconds."
    )
    entry = CommandLog.objects.get()
    assert (entry.status, entry.params, entry.message) == (
        "acknowledged",
        {"task": "Front lawn"},
        "Success",
    )
    assert entry.finished_at is not None
    assert mower_state(sim, luba)["status"] == "Working"
    assert queued == [((luba.pk,), 5)]  # re-read the detail 5 s later (4.4.6)

    command_tasks.refresh_status_after_command(luba.pk)  # what the worker runs then

    luba.refresh_from_db()
    assert (luba.state, luba.charge_status) == ("Working", 0)
    assert luba.status_observed_at > entry.created_at


def test_mower_pause_resume_stop_return_and_cancel(mowers, oscar, sim, queued, no_rate_limit):
    yuka = mowers[YUKA]  # "Front Lawn", working
    expected = [
        ("pause", "Paused"),
        ("resume", "Working"),
        ("stop", "Standby"),
        ("dock", "Returning"),
        ("cancel_dock", "Standby"),  # no job left to pause: it stays where it is
    ]
    for command, status in expected:
        outcome = send(yuka, command, oscar)
        assert outcome.ok, outcome.message
        assert mower_state(sim, yuka)["status"] == status, command
    assert set(CommandLog.objects.values_list("status", flat=True)) == {"acknowledged"}
    actions = [r["body"] for r in sim.requests(vendor="mammotion", path="/v1/mower/action")]
    assert [a["action"] for a in actions] == ["PAUSE", "RESUME", "STOP", "RETURN", "CANCEL_RETURN"]
    assert all(a["params"] == {} for a in actions)


def test_start_now_sends_cmd_start(mowers, alice, sim, queued):
    assert send(mowers[LUBA], "start_now", alice).ok
    assert mower_state(sim, mowers[LUBA])["status"] == "Working"
    (action,) = sim.requests(vendor="mammotion", path="/v1/mower/action")
    assert action["body"] == {
        "deviceId": mowers[LUBA].remote_id,
        "action": "CMD_START",
        "params": {},
    }


def test_mower_refresh_status_reads_detail_and_tasks_at_once(mowers, alice, queued):
    luba = mowers[LUBA]
    outcome = send(luba, "status", alice)

    assert outcome.message == "Luba-VS5K8D2M1: status refreshed."
    luba.refresh_from_db()
    assert (luba.state, luba.battery, luba.charge_status) == ("Standby", 100, 1)
    assert luba.status_extra["tasks"] == ["Front lawn", "Back lawn", "Edges only"]
    assert CommandLog.objects.get().status == "acknowledged"
    assert queued == []  # nothing to re-read: it was just read


# --- what the person is told when it does not work -----------------------------------


def test_360_offline_device_fails_with_offline_message(vacuums, alice, sim):
    s9 = vacuums[S9]  # offline in the simulator: cmd/send answers errno 212
    outcome = send(s9, "status", alice)
    assert (outcome.ok, outcome.message) == (False, "Garage is offline.")
    entry = CommandLog.objects.get()
    assert (entry.status, entry.message) == ("failed", "The device is offline.")


def test_errno_212_marks_the_device_offline(vacuums, alice, sim):
    sim.add_fault(vendor="qihoo360", path="/clean/cmd/send", errno=212)
    outcome = send(vacuums[S7], "start", alice)
    assert outcome.message == "Living room is offline."
    vacuums[S7].refresh_from_db()
    assert vacuums[S7].online is False


def test_mammotion_offline_mower_fails_with_offline_message(mowers, alice, sim, queued):
    outcome = send(mowers[LUBA_MINI], "start_now", alice)
    assert (outcome.ok, outcome.message) == (False, "Luba-MN4H7C1K9 is offline.")
    assert CommandLog.objects.get().status == "failed"
    assert queued == []


def test_mammotion_refusal_shows_the_vendor_reason(mowers, alice, sim, queued):
    outcome = send(mowers[LUBA], "start_task", alice, task="Moon base")
    assert outcome.message == "Luba-VS5K8D2M1: Mammotion refused: task not found"
    entry = CommandLog.objects.get()
    assert (entry.status, entry.message) == ("failed", "Mammotion refused: task not found")
    assert mower_state(sim, mowers[LUBA])["status"] == "Standby"


def test_command_result_false_with_task_name_required(mowers, alice, sim, queued):
    sim.add_fault(
        vendor="mammotion",
        path="/v1/mower/action",
        shape={"commandResult": False, "resultMessage": "taskName is required"},
    )
    outcome = send(mowers[LUBA], "start_task", alice, task="Front lawn")
    assert outcome.message == "Luba-VS5K8D2M1: Mammotion refused: taskName is required"
    assert queued == []


@pytest.mark.parametrize("vendor", ["qihoo360", "mammotion"])
def test_vendor_throttling_is_recorded_as_failed(vacuums, mowers, alice, sim, queued, vendor):
    path = "/clean/cmd/send" if vendor == "qihoo360" else "/v1/mower/action"
    sim.add_fault(vendor=vendor, path=path, http_status=429, retry_after=30)
    device = vacuums[S7] if vendor == "qihoo360" else mowers[LUBA]
    outcome = send(device, "start" if vendor == "qihoo360" else "start_now", alice)

    cloud = "360" if vendor == "qihoo360" else "Mammotion"
    assert outcome.message == (
        f"{device.name}: The {cloud} cloud is throttling requests, so it did not take the "
        "command. Try again in a few minutes."
    )
    assert CommandLog.objects.get().status == "failed"


def test_timeout_is_lost_with_a_did_not_answer_message_and_returns_quickly(
    vacuums, alice, sim, monkeypatch
):
    monkeypatch.setattr(commands, "COMMAND_TIMEOUT", (1, 1))
    sim.add_fault(vendor="qihoo360", path="/clean/cmd/send", delay=4)
    started = timezone.now()
    outcome = send(vacuums[S7], "start", alice)

    assert (timezone.now() - started).total_seconds() < 3
    assert outcome.level == "warning"
    assert outcome.message == (
        "Living room: The 360 cloud did not answer in time, so it is unknown whether the "
        "command arrived. Check the state before trying again."
    )
    assert CommandLog.objects.get().status == "lost"


def test_cloud_unreachable_is_failed(vacuums, alice, sim):
    sim.add_fault(vendor="qihoo360", path="/clean/cmd/send", http_status=503)
    outcome = send(vacuums[S7], "start", alice)
    assert "having trouble right now" in outcome.message
    assert CommandLog.objects.get().status == "failed"


def test_malformed_answer_is_a_bad_response(vacuums, alice, sim):
    sim.add_fault(vendor="qihoo360", path="/clean/cmd/send", malformed="html")
    outcome = send(vacuums[S7], "find", alice)
    assert outcome.message == "Living room: The cloud sent an unexpected answer. Try again later."
    assert CommandLog.objects.get().status == "failed"


def test_360_expired_session_fails_and_flags_the_account(vacuums, alice, sim):
    sim.control("POST", f"360/accounts/{QID}/expire-sid")
    s7 = vacuums[S7]
    outcome = send(s7, "start", alice)

    assert (
        outcome.message == "Living room: The 360 session (SID) has expired. Link the account again."
    )
    assert CommandLog.objects.get().status == "failed"
    s7.account.refresh_from_db()
    assert s7.account.status == AccountStatus.REAUTH_REQUIRED
    assert vacuum_state(sim, s7)["status"]["mode"] == "charge"


def test_mammotion_rejected_credentials_fail_and_flag_the_account(mowers, alice, sim, queued):
    sim.control("POST", "mammotion/credentials/sim-client-1/disable")
    sim.control("POST", "mammotion/tokens/expire")
    outcome = send(mowers[LUBA], "start_now", alice)

    assert outcome.message == (
        "Luba-VS5K8D2M1: Mammotion rejected the API client id or secret. Paste them again."
    )
    assert CommandLog.objects.get().status == "failed"
    account = mowers[LUBA].account
    account.refresh_from_db()
    assert account.status == AccountStatus.REAUTH_REQUIRED


def test_stations_have_no_commands(mowers, alice, sim):
    station = mowers[support.STATION]
    outcome = send(station, "start_now", alice)
    assert outcome.message == "RTKX9Q2L7P4 has no such control."
    assert not CommandLog.objects.exists()


# --- rate limit, lost commands --------------------------------------------------------


def test_seventh_click_within_a_minute_is_refused_and_not_recorded(vacuums, alice, sim):
    outcomes = [send(vacuums[S7], "find", alice) for _ in range(7)]

    assert [o.ok for o in outcomes] == [True] * 6 + [False]
    assert outcomes[-1].level == "warning"
    assert outcomes[-1].message == (
        "Living room: too many commands in a short time, so this one was not sent. "
        "Wait about 10 seconds and try again."
    )
    assert CommandLog.objects.count() == 6
    assert len(cmd_sends(sim)) == 6
    assert send(vacuums[S5], "find", alice).ok  # per device


class WorkerKilled(BaseException):
    """Stands in for SIGKILL / a dying request: nothing below it gets to run."""


def test_command_whose_request_died_ends_lost_not_pending(vacuums, alice, monkeypatch):
    def die(*args, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr("devices.clouds.qihoo360.Qihoo360Client.send_command", die)
    with pytest.raises(WorkerKilled):
        send(vacuums[S7], "start", alice)
    entry = CommandLog.objects.get()
    assert entry.status == "pending"

    assert commands.expire_lost_commands() == 0  # not yet: its deadline is ahead
    later = timezone.now() + commands.PENDING_TIMEOUT + timedelta(seconds=1)
    assert commands.expire_lost_commands(now=later) == 1

    entry.refresh_from_db()
    assert (entry.status, entry.message) == ("lost", commands.LOST_PENDING)
    assert entry.finished_at == later


def test_beat_task_expires_pending_and_unanswered_sent_commands(vacuums, alice):
    past = timezone.now() - timedelta(seconds=1)
    s7 = vacuums[S7]
    pending = CommandLog.objects.create(device=s7, user=alice, command="start", deadline=past)
    sent = CommandLog.objects.create(
        device=s7, user=alice, command="pause", status="sent", task_id="t", deadline=past
    )
    done = CommandLog.objects.create(
        device=s7, user=alice, command="find", status="acknowledged", deadline=past
    )
    waiting = CommandLog.objects.create(
        device=s7, user=alice, command="stop", status="sent", deadline=past + timedelta(minutes=5)
    )

    assert command_tasks.expire_lost_commands() == 2

    statuses = {e.pk: (e.status, e.message) for e in CommandLog.objects.all()}
    assert statuses[pending.pk] == ("lost", commands.LOST_PENDING)
    assert statuses[sent.pk] == ("lost", commands.LOST_SENT)
    assert statuses[done.pk][0] == "acknowledged"
    assert statuses[waiting.pk][0] == "sent"
    assert not CommandLog.objects.filter(status=CommandStatus.PENDING).exists()


# --- rename -----------------------------------------------------------------------------


def test_owner_renames_a_360_robot_in_the_cloud(vacuums, alice, sim):
    s7 = vacuums[S7]
    outcome = commands.rename_device(device=s7, name="  Kitchen  ", user=alice)

    assert (
        outcome.message == "Renamed “Living room” to “Kitchen”. The 360 app shows the new name too."
    )
    s7.refresh_from_db()
    assert s7.name == "Kitchen"
    assert vacuum_state(sim, s7)["title"] == "Kitchen"
    entry = CommandLog.objects.get()
    assert (entry.command, entry.status, entry.params) == (
        "rename",
        "acknowledged",
        {"name": "Kitchen", "old": "Living room"},
    )


def test_rename_keeps_the_old_name_when_the_cloud_refuses(vacuums, alice, sim):
    sim.add_fault(vendor="qihoo360", path="/clean/devuser/updateInfo", errno=212)
    outcome = commands.rename_device(device=vacuums[S7], name="Kitchen", user=alice)
    assert outcome.message == "Living room is offline."
    vacuums[S7].refresh_from_db()
    assert vacuums[S7].name == "Living room"
    assert vacuum_state(sim, vacuums[S7])["title"] == "Living room"


def test_mower_is_renamed_here_only_and_says_so(mowers, alice, sim):
    luba = mowers[LUBA]
    outcome = commands.rename_device(device=luba, name="Lawn boss", user=alice)
    assert outcome.message == (
        "Renamed “Luba-VS5K8D2M1” to “Lawn boss”. Renamed here only: Mammotion's API cannot "
        "rename machines, so its app keeps the old name."
    )
    luba.refresh_from_db()
    assert luba.name == "Lawn boss"
    assert sim.requests(vendor="mammotion", path="/v1/mower/action") == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 33])
def test_rename_needs_1_to_32_characters(vacuums, alice, sim, name):
    outcome = commands.rename_device(device=vacuums[S7], name=name, user=alice)
    assert outcome.message == "A name must be 1 to 32 characters long."
    assert not CommandLog.objects.exists()
    assert sim.requests(vendor="qihoo360", path="/clean/devuser/updateInfo") == []


def test_no_violations_and_no_control_calls(vacuums, mowers, alice, sim, queued, no_rate_limit):
    for command in ("start", "pause", "find", "status"):
        send(vacuums[S7], command, alice)
    send(mowers[LUBA], "start_task", alice, task="Front lawn")
    send(mowers[LUBA], "status", alice)
    assert sim.violations() == []
    assert not [r for r in sim.requests() if r["path"].startswith("/_sim")]
