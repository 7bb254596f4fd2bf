"""What the listener writes (devices/live_status.py), without sockets."""

from __future__ import annotations

import pytest
from django.utils import timezone

from devices import live_status
from devices.clouds.qihoo360_push import CommandAnswer, parse_status
from devices.commands import ACK_TIMEOUT
from devices.machines import CommandLog, CommandStatus, Device
from devices.models import CloudAccount, LinkMethod, Vendor

pytestmark = pytest.mark.django_db

SN = "361TY000003000000"
CLEAN_ID = f"{SN}-1703612364"


@pytest.fixture
def robot(home) -> Device:
    account = CloudAccount(
        household=home, vendor=Vendor.QIHOO360, method=LinkMethod.QIHOO360_SID, label="360"
    )
    account.set_credentials({"sid": "s" * 32, "push_key": "k" * 32})
    account.save()
    return Device.objects.create(
        account=account, vendor=Vendor.QIHOO360, kind="vacuum", remote_id=SN, name="Living room"
    )


def status(mode="sweep", clean_id=CLEAN_ID, **fields):
    data = {
        "mode": mode, "subMode": "total", "elecReal": 77, "workNoisy": "strong", "cleanArea": 12,
        "cleanTime": 600, "cleanId": clean_id, "errorState": [0], "vol": 6, "mopStatus": 0,
        **fields,
    }  # fmt: skip
    return parse_status(data)


def test_a_status_is_written_to_the_status_fields(robot):
    written = live_status.apply_status(robot.pk, status(errorState=[-2201, -2405]))
    robot.refresh_from_db()
    assert written.mode == "sweep" and written.run_finished is None
    assert (robot.state, robot.battery, robot.fan_level) == ("sweep", 77, "strong")
    assert robot.error_code == "-2405"  # the effective error is the last one (3.8.1)
    extra = robot.status_extra
    assert extra["clean_area"] == 12 and extra["clean_time"] == 600
    assert extra["clean_id"] == CLEAN_ID and extra["sub_mode"] == "total"
    assert extra["subMode"] == "total" and extra["vol"] == 6
    assert extra["errors"] == [-2201, -2405]
    assert abs((timezone.now() - robot.status_observed_at).total_seconds()) < 5


def test_the_write_is_narrow(robot):
    stale = Device.objects.get(pk=robot.pk)
    Device.objects.filter(pk=robot.pk).update(name="Renamed meanwhile", firmware="1.2.3")
    live_status.apply_status(stale.pk, status())
    robot.refresh_from_db()
    assert robot.name == "Renamed meanwhile" and robot.firmware == "1.2.3"


def test_an_odd_battery_is_not_stored_and_last_pushes_survive_a_status(robot):
    robot.status_extra = {"last_push": {"21027": {"data": 1}}, "tasks": []}
    robot.save()
    live_status.apply_status(robot.pk, status(elecReal=250, elec=250))
    robot.refresh_from_db()
    assert robot.battery is None
    assert robot.status_extra["last_push"] == {"21027": {"data": 1}}


@pytest.mark.parametrize(
    ("before", "after", "finished"),
    [
        (("sweep", "A"), ("charge", "A"), "A"),
        (("pause", "A"), ("idle", "A"), "A"),
        (("backcharge", "A"), ("fullcharge", "A"), "A"),
        (("sweep", "A"), ("sweep", "B"), "A"),  # a new run straight after
        (("sweep", "A"), ("sweep", "A"), None),
        (("sweep", "A"), ("pause", "A"), None),
        (("sweep", "A"), ("backcharge", "A"), None),  # may come back and resume
        (("sweep", "A"), ("fault", "A"), None),
        (("charge", "A"), ("charge", "A"), None),
        (("", None), ("charge", "A"), None),
    ],
)
def test_a_finished_run_is_noticed(robot, before, after, finished):
    live_status.apply_status(robot.pk, status(before[0], before[1]))
    written = live_status.apply_status(robot.pk, status(after[0], after[1]))
    assert written.run_finished == finished


def test_other_infotypes_keep_only_their_last_small_payload(robot):
    def answer(info_type, data, message="ok"):
        return CommandAnswer(SN, "1", None, info_type, message, data)

    live_status.remember_push(robot.pk, answer("21027", {"process": 10}))
    live_status.remember_push(robot.pk, answer("21027", {"process": 90}))
    live_status.remember_push(robot.pk, answer("20002", {"grid": "x" * 3000}))
    for n in range(20):
        live_status.remember_push(robot.pk, answer(str(30000 + n), n))
    robot.refresh_from_db()
    pushes = robot.status_extra["last_push"]
    assert len(pushes) == live_status.LAST_PUSH_MAX_TYPES
    assert "21027" not in pushes  # the oldest types went first
    assert pushes["30019"]["data"] == 19 and pushes["30019"]["message"] == "ok"


def command(robot, task_id="7b0c", status=CommandStatus.SENT) -> CommandLog:
    return CommandLog.objects.create(
        device=robot, command="start", status=status, task_id=task_id,
        deadline=timezone.now() + ACK_TIMEOUT,
    )  # fmt: skip


def test_an_ok_answer_acknowledges_the_command(robot):
    entry = command(robot)
    assert live_status.settle_command(robot.account_id, SN, "7b0c", "ok") is True
    entry.refresh_from_db()
    assert entry.status == CommandStatus.ACKNOWLEDGED and entry.finished_at
    assert entry.message == live_status.ACKNOWLEDGED_MESSAGE


def test_a_refusal_fails_the_command_with_the_robots_words(robot):
    entry = command(robot, status=CommandStatus.LOST)  # a late answer still counts
    assert live_status.settle_command(robot.account_id, SN, "7b0c", "fail") is False
    entry.refresh_from_db()
    assert entry.status == CommandStatus.FAILED
    assert entry.message == "The robot refused it (it answered “fail”)."


def test_an_answer_matches_only_its_own_device_and_account(robot, home):
    entry = command(robot)
    assert live_status.settle_command(robot.account_id, "360TY000001000001", "7b0c", "ok") is None
    assert live_status.settle_command(robot.account_id + 1, SN, "7b0c", "ok") is None
    assert live_status.settle_command(robot.account_id, SN, "other", "ok") is None
    entry.refresh_from_db()
    assert entry.status == CommandStatus.SENT


def test_a_settled_command_is_not_settled_twice(robot):
    entry = command(robot, status=CommandStatus.ACKNOWLEDGED)
    assert live_status.settle_command(robot.account_id, SN, "7b0c", "fail") is False
    entry.refresh_from_db()
    assert entry.status == CommandStatus.ACKNOWLEDGED
