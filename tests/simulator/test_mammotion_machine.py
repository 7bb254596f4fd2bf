"""Mammotion mower actions and state machine in the simulator: docs/cloud-apis.md §4.4.6, §5.4.5."""

import time

import pytest

from simulator.mammotion_testing import Harness

LUBA, YUKA, RTK, MINI = "Luba-VS5K8D2M1", "Yuka-MV27A3F9K2", "RTKX9Q2L7P4", "Luba-MN4H7C1K9"


@pytest.fixture
def cloud():
    return Harness()


@pytest.fixture
def token(cloud):
    cloud.cloud.set_knobs({"token_ttl": 10 * 86400})  # these tests span simulated hours
    return cloud.open_token()


def reports(cloud, token, device_id, **filters):
    body = {"deviceId": device_id, "pageSize": 100} | filters
    return cloud.api("POST", "/v1/mower/work-reports/search", token, json=body)["data"]


def report_detail(cloud, token, device_id, work_id):
    path = f"/v1/mower/{device_id}/work-reports/{work_id}"
    return cloud.api("GET", path, token)["data"]


def events(detail):
    return [event["eventCode"] for event in detail["workProcess"]]


def summary(cloud, token, device_id):
    body = {"deviceId": device_id}
    return cloud.api("POST", "/v1/mower/work-reports/summary", token, json=body)["data"]


@pytest.mark.parametrize(
    ("name", "action", "params", "message"),
    [
        (LUBA, "START", {}, "taskName is required"),
        (LUBA, "START", {"taskName": "front lawn"}, "task not found"),
        (MINI, "CMD_START", {}, "device offline"),
        (RTK, "CMD_START", {}, "not supported"),
        (LUBA, "PAUSE", {}, "invalid state"),
        (LUBA, "RESUME", {}, "invalid state"),
        (LUBA, "STOP", {}, "invalid state"),
        (LUBA, "RETURN", {}, "invalid state"),  # already docked
        (LUBA, "CANCEL_RETURN", {}, "invalid state"),
        (YUKA, "START", {"taskName": "Whole garden"}, "invalid state"),
    ],
)
def test_refused_actions(cloud, token, name, action, params, message):
    result = cloud.action(token, cloud.device_id(name), action, **params)
    assert result == {"commandResult": False, "resultMessage": message}


def test_malformed_action_requests_are_code_400(cloud, token):
    luba = cloud.device_id(LUBA)
    body = cloud.api("POST", "/v1/mower/action", token, json={"deviceId": luba})
    assert (body["code"], body["msg"]) == (400, "action is required")
    body = cloud.api("POST", "/v1/mower/action", token, json={"deviceId": luba, "action": "DANCE"})
    assert (body["code"], body["msg"]) == (400, "action is invalid")
    body = cloud.api("POST", "/v1/mower/action", token, json={"action": "STOP"})
    assert (body["code"], body["msg"]) == (400, "deviceId is required")


def test_lenient_actions_when_strict_actions_is_off(cloud, token):
    cloud.cloud.set_knobs({"strict_actions": False})
    luba = cloud.device_id(LUBA)
    assert cloud.action(token, luba, "PAUSE")["commandResult"] is True
    assert cloud.detail(token, luba)["status"] == "Standby"  # ignored by the mower
    yuka = cloud.device_id(YUKA)
    assert cloud.action(token, yuka, "CMD_START")["commandResult"] is True
    interrupted = reports(cloud, token, yuka, workResult=4)["records"][0]
    assert interrupted["endWorkTime"] == cloud.world.now_ms()


def test_full_job_with_pause_produces_a_report_and_updates_the_summary(cloud, token):
    luba = cloud.device_id(LUBA)
    before = summary(cloud, token, luba)
    ok = cloud.action(token, luba, "START", taskName="Front lawn")
    assert ok == {"commandResult": True, "resultMessage": "Success"}
    detail = cloud.detail(token, luba)
    assert (detail["status"], detail["chargeStatus"]) == ("Working", 0)
    cloud.advance(30 * 60)
    assert cloud.detail(token, luba)["batteryLevel"] == 60  # -1 % per 45 s
    assert cloud.action(token, luba, "PAUSE")["resultMessage"] == "Success"
    cloud.advance(600)
    assert cloud.detail(token, luba)["status"] == "Paused"
    assert cloud.action(token, luba, "RESUME")["commandResult"] is True
    cloud.advance(30 * 60)
    detail = cloud.detail(token, luba)
    assert detail["status"] == "Returning" and detail["batteryLevel"] == 20
    newest = reports(cloud, token, luba)["records"][0]
    assert newest["workResult"] == 5 and newest["workProgress"] == 100.0
    assert newest["workArea"] == 420.0 and newest["workTimeUsed"] == 3600
    full = report_detail(cloud, token, luba, newest["workId"])
    assert events(full) == [2, 6, 4, 12]
    assert full["workType"] == 1 and full["energyConsume"] > 0
    after = summary(cloud, token, luba)
    assert after["workCount"] == before["workCount"] + 1
    assert after["totalWorkArea"] == pytest.approx(before["totalWorkArea"] + 420.0)
    cloud.advance(60)
    detail = cloud.detail(token, luba)
    assert (detail["status"], detail["chargeStatus"]) == ("Standby", 2)
    cloud.advance(80 * 30)
    detail = cloud.detail(token, luba)
    assert (detail["batteryLevel"], detail["chargeStatus"]) == (100, 1)


def test_stop_reports_user_stopped_and_leaves_the_mower_off_dock(cloud, token):
    luba = cloud.device_id(LUBA)
    cloud.action(token, luba, "CMD_START")
    cloud.advance(900)
    assert cloud.action(token, luba, "STOP")["resultMessage"] == "Success"
    detail = cloud.detail(token, luba)
    assert (detail["status"], detail["chargeStatus"]) == ("Standby", 0)
    newest = reports(cloud, token, luba)["records"][0]
    assert newest["workResult"] == 3 and newest["workProgress"] == 25.0
    assert events(report_detail(cloud, token, luba, newest["workId"])) == [2, 14]
    # Off the dock, RETURN is valid; cancelling a return without a job leaves it standing.
    assert cloud.action(token, luba, "RETURN")["resultMessage"] == "Recharge command has been sent"
    assert cloud.detail(token, luba)["status"] == "Returning"
    assert cloud.action(token, luba, "CANCEL_RETURN")["commandResult"] is True
    assert cloud.detail(token, luba)["status"] == "Standby"


def test_return_interrupts_the_running_job(cloud, token):
    luba = cloud.device_id(LUBA)
    cloud.action(token, luba, "START", taskName="Back lawn")
    cloud.advance(600)
    result = cloud.action(token, luba, "RETURN")
    assert result == {"commandResult": True, "resultMessage": "Recharge command has been sent"}
    newest = reports(cloud, token, luba)["records"][0]
    assert newest["workResult"] == 4
    assert events(report_detail(cloud, token, luba, newest["workId"]))[-1] == 13
    cloud.advance(61)
    assert cloud.detail(token, luba)["chargeStatus"] == 2


def test_seeded_yuka_runs_low_recharges_resumes_and_completes(cloud, token):
    yuka = cloud.device_id(YUKA)
    cloud.advance(48 * 45)  # 63 % -> 15 %
    detail = cloud.detail(token, yuka)
    assert (detail["status"], detail["batteryLevel"]) == ("Returning", 15)
    low = cloud.api("POST", "/v1/mower/error-codes/search", token, json={"deviceId": yuka})
    assert low["data"]["records"][0]["code"] == 1005
    cloud.advance(60)
    assert cloud.detail(token, yuka)["chargeStatus"] == 2
    cloud.advance(65 * 30)  # 15 % -> 80 %: automatic resume
    detail = cloud.detail(token, yuka)
    assert (detail["status"], detail["batteryLevel"]) == ("Working", 80)
    cloud.advance(240)  # the remaining 4 of 60 minutes
    assert cloud.detail(token, yuka)["status"] == "Returning"
    newest = reports(cloud, token, yuka)["records"][0]
    assert newest["workResult"] == 5 and newest["workTimeUsed"] == 3600
    full = report_detail(cloud, token, yuka, newest["workId"])
    assert events(full) == [1, 10, 3, 12] and full["workType"] == 2


def test_cancel_return_during_low_battery_return_pauses_the_job(cloud, token):
    yuka = cloud.device_id(YUKA)
    cloud.advance(48 * 45 + 10)
    assert cloud.action(token, yuka, "CANCEL_RETURN")["commandResult"] is True
    assert cloud.detail(token, yuka)["status"] == "Paused"
    assert cloud.action(token, yuka, "RESUME")["commandResult"] is True
    cloud.advance(1)  # still at 15 %: it heads home again at once
    assert cloud.detail(token, yuka)["status"] == "Returning"


def test_a_whole_day_advances_quickly_and_ends_docked_and_full(cloud, token):
    yuka = cloud.device_id(YUKA)
    began = time.perf_counter()
    cloud.advance(86400)
    elapsed = time.perf_counter() - began
    detail = cloud.detail(token, yuka)
    assert elapsed < 0.1
    assert (detail["status"], detail["chargeStatus"], detail["batteryLevel"]) == (
        "Standby",
        1,
        100,
    )


def test_fault_control_interrupts_the_job_and_records_the_fault(cloud, token):
    yuka = cloud.device_id(YUKA)
    response = cloud.control("POST", f"devices/{yuka}/fault", json={"code": 1201, "faultLevel": 3})
    assert response.status == 200
    assert cloud.detail(token, yuka)["status"] == "Abnormal"
    newest = reports(cloud, token, yuka)["records"][0]
    assert newest["workResult"] == 4 and newest["workTimeUsed"] == 1200
    body = {"deviceId": yuka, "errorCode": "1201"}
    record = cloud.api("POST", "/v1/mower/error-codes/search", token, json=body)["data"]
    newest_fault = record["records"][0]
    assert newest_fault["code"] == 1201 and newest_fault["faultLevel"] == 3
    assert newest_fault["gmtCreate"] == cloud.world.now_ms()
    assert newest_fault["imageList"][0]["buttonType"] == "IMAGE"
    assert cloud.fetch(newest_fault["imageList"][0]["url"]).content_type == "image/png"
    assert cloud.action(token, yuka, "STOP")["commandResult"] is True
    assert cloud.detail(token, yuka)["status"] == "Standby"


def test_fault_clear_control(cloud, token):
    luba = cloud.device_id(LUBA)
    cloud.control("POST", f"devices/{luba}/fault", json={"code": 2801})
    assert cloud.detail(token, luba)["status"] == "Abnormal"
    cloud.control("POST", f"devices/{luba}/fault", json={"clear": True})
    detail = cloud.detail(token, luba)
    assert (detail["status"], detail["chargeStatus"]) == ("Standby", 1)


def test_devices_control_sets_online_status_battery_and_charge(cloud, token):
    luba = cloud.device_id(LUBA)
    cloud.control("POST", f"devices/{luba}", json={"online": 0})
    assert cloud.detail(token, luba)["status"] == "Offline"
    assert cloud.action(token, luba, "CMD_START")["resultMessage"] == "device offline"
    cloud.control("POST", f"devices/{luba}", json={"online": 1, "batteryLevel": 40})
    detail = cloud.detail(token, luba)
    assert (detail["status"], detail["online"], detail["batteryLevel"]) == ("Standby", 1, 40)
    cloud.control("POST", f"devices/{luba}", json={"chargeStatus": 2})
    cloud.advance(30 * 10)
    assert cloud.detail(token, luba)["batteryLevel"] == 50  # +1 % per 30 s
    cloud.control("POST", f"devices/{luba}", json={"status": "Updating"})
    assert cloud.detail(token, luba)["status"] == "Updating"
    bad = cloud.control("POST", f"devices/{luba}", json={"batteryLevel": 101})
    assert bad.status == 400
    assert cloud.control("POST", "devices/nope", json={}).status == 404
