"""``MammotionClient`` on the Open API (surface B, cloud-apis.md 4.4) against the simulator.

5.5 scenario 9: success code 0 and 200, detail as a list, extra statuses, every action
with its effect and the ``commandResult: false`` refusals, history paging with the
client-side sort, the 40200 body-variant fallback (remembered per device), fault paging
with ``Accept-Language``, the deactivated account, and a run detail whose short-lived map
URL downloads (and is refused once 15 simulated minutes have passed).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from devices.clouds import (
    AccountDeactivated,
    CloudError,
    CommandRejected,
    InMemoryTokenStore,
    NotFound,
    RunResult,
)

from .conftest import (
    EMPTY_CLIENT_ID,
    EMPTY_CLIENT_SECRET,
    LUBA,
    MINI,
    OWNER_EMAIL,
    STATION,
    YUKA,
    device_ids,
    logged,
    mammotion_client,
    raises_with,
)

ACTION = "/v1/mower/action"
SEARCH = "/v1/mower/work-reports/search"
FAULTS = "/v1/mower/error-codes/search"
DEACTIVATED = "Mammotion deactivated this account. Contact Mammotion support, then link it again."


@pytest.fixture
def ids(sim) -> dict[str, str]:
    return device_ids(sim)


@pytest.fixture
def store() -> InMemoryTokenStore:
    return InMemoryTokenStore()


@pytest.fixture
def client(sim, http, store, sim_time):
    return mammotion_client(sim, http, store, now=sim_time.now)


def raw_api(http, sim, store, method: str, path: str, **kw) -> dict:
    """A raw Open API answer with the client's token (to compare with its parse)."""
    headers = {"Authorization": f"Bearer {store.load().access_token}"}
    return http.request(method, sim.url + path, headers=headers, timeout=10, **kw).json()


# --- devices (4.4.3-4.4.5) --------------------------------------------------------------


@pytest.mark.parametrize("success_code", [0, 200])
def test_devices_and_details_with_either_success_code(sim, client, ids, success_code):
    sim.knobs(success_code=success_code)
    devices = {device.remote_id: device for device in client.list_devices()}
    assert set(devices) == set(ids.values())
    luba, yuka, station, mini = (devices[ids[n]] for n in (LUBA, YUKA, STATION, MINI))
    assert (luba.name, luba.model, luba.online, luba.is_station) == (
        LUBA,
        "LUBA 2 AWD 3000X",
        True,
        False,
    )
    assert yuka.name == "Front Lawn" and yuka.extra["name"] == YUKA  # nickname wins
    assert station.is_station and station.model == "RtkRefStationV1"
    assert mini.online is False

    status = client.get_status(ids[LUBA])
    assert (status.status, status.battery, status.charge_status) == ("Standby", 100, 1)
    assert status.is_docked and status.firmware == "1.30.29.8"
    assert status.network.used_network == "wifi" and status.network.wifi_rssi == -64
    yuka_status = client.get_status(ids[YUKA])
    assert (yuka_status.status, yuka_status.battery) == ("Working", 63)
    assert yuka_status.network.used_network == "cellular"
    mini_status = client.get_status(ids[MINI])
    assert (mini_status.online, mini_status.status) == (False, "Offline")

    tasks = client.list_tasks(ids[LUBA])
    assert [task.name for task in tasks] == ["Front lawn", "Back lawn", "Edges only"]
    assert all(task.task_id for task in tasks)
    assert client.list_tasks(ids[STATION]) == []
    codes = {entry["status"] for entry in sim.requests(vendor="mammotion", path="/v1/*")}
    assert codes == {200}


def test_detail_as_a_one_element_list(sim, client, ids):
    sim.knobs(detail_as_list=True)
    status = client.get_status(ids[LUBA])
    assert status.device_id == ids[LUBA] and status.status == "Standby"


def test_extra_statuses_are_kept_raw_and_compared_case_insensitively(sim, client, ids):
    sim.knobs(extra_statuses=True)
    luba = client.get_status(ids[LUBA])
    assert luba.status == "StandBy" and luba.state == "standby" and luba.is_docked
    assert client.get_status(ids[YUKA]).status == "Mowing"
    client.pause(ids[YUKA])
    assert client.get_status(ids[YUKA]).status == "TaskPaused"
    sim.control("POST", f"mammotion/devices/{ids[LUBA]}", {"batteryLevel": 50, "chargeStatus": 2})
    charging = client.get_status(ids[LUBA])
    assert charging.status == "Charging" and charging.is_charging


def test_an_empty_credential_sees_no_mowers(sim, http, sim_time):
    client = mammotion_client(
        sim,
        http,
        client_id=EMPTY_CLIENT_ID,
        client_secret=EMPTY_CLIENT_SECRET,
        now=sim_time.now,
    )
    assert client.list_devices() == []


def test_an_unknown_device_is_not_found(sim, client, ids):
    error = raises_with(NotFound, lambda: client.get_status("NoSuchDevice0000000000"))
    assert error.vendor_code == 404 and error.user_message == "Not found. Refresh the device list."
    error = raises_with(NotFound, lambda: client.get_run_detail(ids[LUBA], "1"))
    assert "work report not found" in str(error)


# --- actions (4.4.6, 5.4.5) ------------------------------------------------------------


def test_every_action_moves_the_mower(sim, client, ids, sim_time):
    luba = ids[LUBA]

    def status() -> tuple:
        sim_time.advance(10)  # distinct times for the timeline and the reports
        detail = client.get_status(luba)
        return detail.status, detail.charge_status

    result = client.start_task(luba, "Front lawn")
    assert result.accepted and result.message == "Success"
    assert status() == ("Working", 0)
    (entry,) = logged(sim, ACTION)
    assert entry["body"] == {
        "deviceId": luba,
        "action": "START",
        "params": {"taskName": "Front lawn"},
    }
    assert entry["headers"]["content-type"] == "application/json"

    assert client.pause(luba).accepted and status()[0] == "Paused"
    assert client.resume(luba).accepted and status()[0] == "Working"
    returned = client.return_to_dock(luba)
    assert returned.message == "Recharge command has been sent"
    assert status() == ("Returning", 0)
    assert client.cancel_return(luba).accepted
    # The return ended the job (workResult 4), so there is nothing to pause: the
    # simulator leaves the mower standing where it is ([INF], 5.4.5).
    assert status() == ("Standby", 0)
    assert client.start_now(luba).accepted and status()[0] == "Working"
    assert client.stop(luba).accepted and status() == ("Standby", 0)

    bodies = [entry["body"] for entry in logged(sim, ACTION)]
    assert [body["action"] for body in bodies] == [
        "START",
        "PAUSE",
        "RESUME",
        "RETURN",
        "CANCEL_RETURN",
        "CMD_START",
        "STOP",
    ]
    assert all(body["params"] == {} for body in bodies[1:])  # always sent (4.4.6)

    newest = client.list_runs(luba)[:2]
    assert [run.result for run in newest] == [RunResult.STOPPED, RunResult.INTERRUPTED]
    assert [run.result_raw for run in newest] == ["3", "4"]


def test_cancel_return_during_a_low_battery_return_pauses_the_job(sim, client, ids, sim_time):
    yuka = ids[YUKA]
    sim_time.advance(48 * 45 + 10)  # 63 % -> 15 %: heading home to recharge
    assert client.get_status(yuka).status == "Returning"
    client.cancel_return(yuka)
    assert client.get_status(yuka).status == "Paused"  # 5.4.5: Returning -> Paused
    client.resume(yuka)
    assert client.get_status(yuka).status == "Working"


@pytest.mark.parametrize(
    ("device", "action", "task", "message"),
    [
        (LUBA, "START", "No such task", "task not found"),
        (MINI, "PAUSE", None, "device offline"),
        (MINI, "START", "Side lawn", "device offline"),
        (LUBA, "PAUSE", None, "invalid state"),
        (LUBA, "CANCEL_RETURN", None, "invalid state"),
        (YUKA, "RESUME", None, "invalid state"),
        (STATION, "CMD_START", None, "not supported"),
    ],
)
def test_refused_actions_are_command_rejected(sim, client, ids, device, action, task, message):
    before = client.get_status(ids[device]).status
    error = raises_with(
        CommandRejected, lambda: client.send_action(ids[device], action, task_name=task)
    )
    assert error.vendor_message == message
    assert error.user_message == f"The device refused the command: {message}"
    assert client.get_status(ids[device]).status == before
    assert len(logged(sim, ACTION)) == 1  # never retried


def test_start_without_a_task_name_is_refused_before_sending(sim, client, ids):
    with pytest.raises(ValueError, match="taskName"):
        client.send_action(ids[LUBA], "START")
    assert logged(sim, ACTION) == []
    # What the cloud answers to a START without taskName (5.4.5), as the client sees it.
    sim.add_fault(
        vendor="mammotion",
        path=ACTION,
        shape={"commandResult": False, "resultMessage": "taskName is required"},
    )
    error = raises_with(CommandRejected, lambda: client.start_now(ids[LUBA]))
    assert error.user_message == "The device refused the command: taskName is required"


def test_lenient_actions_without_strict_state_checks(sim, client, ids):
    sim.knobs(strict_actions=False)
    assert client.pause(ids[LUBA]).accepted  # silently ignored by the mower
    assert client.get_status(ids[LUBA]).status == "Standby"


# --- work reports (4.4.7-4.4.9) --------------------------------------------------------


def test_history_pages_to_the_end(sim, http, client, store, ids):
    luba = ids[LUBA]
    runs = client.list_runs(luba, page_size=5)
    raw = raw_api(http, sim, store, "POST", SEARCH, json={"deviceId": luba, "pageSize": 1})
    total = raw["data"]["total"]
    assert len(runs) == total > 10  # 180 days; fewer out of the mowing season
    assert len({run.remote_id for run in runs}) == total
    ends = [run.ended_at for run in runs]
    assert ends == sorted(ends, reverse=True)
    pages = logged(sim, SEARCH)[:-1]  # the last one is the raw call above
    assert [entry["body"]["pageNumber"] for entry in pages] == list(range(1, -(-total // 5) + 1))
    assert all(entry["body"]["pageSize"] == 5 for entry in pages)

    summary = client.get_summary(luba)
    assert summary.run_count == total
    assert summary.area_m2 == pytest.approx(sum(run.area_m2 for run in runs), abs=1)


def test_history_is_sorted_client_side(sim, client, ids):
    luba = ids[LUBA]
    records = [
        {"workId": "111", "endWorkTime": 1_759_000_000_000, "workResult": 5},
        {"workId": "333", "endWorkTime": 1_759_200_000_000, "workResult": 3},
        {"workId": "222", "endWorkTime": 1_759_100_000_000, "workResult": 4},
    ]
    shape = {"records": records, "total": 3, "pageNumber": 1, "pageSize": 50, "pages": 1}
    sim.add_fault(vendor="mammotion", path=SEARCH, shape=shape)
    runs = client.list_runs(luba)
    assert [run.remote_id for run in runs] == ["333", "222", "111"]
    assert [run.result for run in runs] == [
        RunResult.STOPPED,
        RunResult.INTERRUPTED,
        RunResult.COMPLETED,
    ]


def test_rejected_report_forms_fall_back_and_the_variant_is_remembered(sim, client, ids):
    luba, yuka = ids[LUBA], ids[YUKA]
    sim.knobs(reject_report_forms=["paging"])
    runs = client.list_runs(luba)
    assert runs and len(runs) <= 10  # the bare form has no paging: the server's first page
    bodies = [entry["body"] for entry in logged(sim, SEARCH)]
    assert len(bodies) == 4  # paging, 30-day range, 7-day range, then deviceId only
    assert "endWorkTimeStart" not in bodies[0] and "pageNumber" in bodies[0]
    day = 86_400_000
    assert bodies[1]["endWorkTimeEnd"] - bodies[1]["endWorkTimeStart"] == 30 * day
    assert bodies[2]["endWorkTimeEnd"] - bodies[2]["endWorkTimeStart"] == 7 * day
    assert bodies[3] == {"deviceId": luba}
    assert client.report_variants == {luba: "bare"}

    client.list_runs(luba)  # remembered: one request with the working form
    assert [entry["body"] for entry in logged(sim, SEARCH)][4:] == [{"deviceId": luba}]

    client.list_runs(yuka)  # per device: the Yuka starts from the top again
    assert len(logged(sim, SEARCH)) == 5 + 4


def test_a_one_off_40200_moves_on_to_the_30_day_range(sim, client, ids, sim_time):
    luba = ids[LUBA]
    client.start_now(luba)  # at least one job inside the range, whatever the season
    sim_time.advance(60)
    client.stop(luba)
    sim.add_fault(vendor="mammotion", path=SEARCH, code=40200, msg="Request parameter error")
    runs = client.list_runs(luba)
    assert client.report_variants == {luba: "range30"}
    month_ago = sim_time.now() - timedelta(days=30)
    assert runs and all(run.ended_at >= month_ago for run in runs)
    first_of_second_call = len(logged(sim, SEARCH))
    client.list_runs(luba)
    body = logged(sim, SEARCH)[first_of_second_call]["body"]
    assert "endWorkTimeStart" in body and body["pageNumber"] == 1


def test_every_form_rejected_is_a_clear_error(sim, client, ids):
    sim.add_fault(vendor="mammotion", path=SEARCH, code=40200, count=-1)
    error = raises_with(CloudError, lambda: client.list_runs(ids[LUBA]))
    assert error.vendor_code == 40200
    assert error.user_message == "Mammotion refused to list the mowing history of this device."
    assert len(logged(sim, SEARCH)) == 4


def test_run_detail_with_timeline_and_a_map_that_expires(sim, http, client, ids):
    luba = ids[LUBA]
    newest = client.list_runs(luba)[0]
    detail = client.get_run_detail(luba, newest.remote_id)
    run = detail.run
    assert run.remote_id == newest.remote_id and run.ended_at == newest.ended_at
    assert run.started_at is not None and run.started_at < run.ended_at
    last_event = {  # 4.5.4 workResult -> the 4.5.5 event that ends (or pauses) the job
        RunResult.COMPLETED: "completed",
        RunResult.INTERRUPTED: "interrupted",
        RunResult.STOPPED: "user stopped",
        RunResult.RUNNING: "manual pause",
    }
    assert detail.events and detail.events[-1].label == last_event[run.result]
    assert [event.at for event in detail.events] == sorted(event.at for event in detail.events)
    assert detail.work_params is not None and detail.work_params.job_content in (8, 10, 12)
    assert detail.energy_wh > 0 and detail.carbon_g > 0 and detail.time_saved_min > 0

    assert detail.map_url.startswith(f"{sim.url}/_sim/mammotion/files/map/{newest.remote_id}.png?")
    image = http.get(detail.map_url, timeout=5)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")

    sim.advance(15 * 60 + 1)
    assert http.get(detail.map_url, timeout=5).status_code == 403
    fresh = client.get_run_detail(luba, newest.remote_id).map_url  # never cached (4.4.9)
    assert fresh != detail.map_url and http.get(fresh, timeout=5).status_code == 200


def test_the_timeline_is_sorted_client_side(sim, client, ids):
    luba = ids[LUBA]
    events = [
        {"timeStamp": 1_759_000_900_000, "eventCode": 12},
        {"timeStamp": 1_759_000_000_000, "eventCode": 2},
        {"timeStamp": 1_759_000_300_000, "eventCode": 6},
    ]
    sim.add_fault(
        vendor="mammotion",
        path=f"/v1/mower/{luba}/work-reports/*",
        shape={"workResult": 5, "workProcess": events},
    )
    work_id = client.list_runs(luba)[0].remote_id
    detail = client.get_run_detail(luba, work_id)
    assert detail.run.remote_id == work_id and detail.run.result is RunResult.COMPLETED
    assert [event.label for event in detail.events] == ["manual start", "manual pause", "completed"]
    assert detail.map_url is None and detail.work_params is None


def test_a_numeric_request_id_is_tolerated(sim, client, ids):
    sim.knobs(request_id_as_number=True)
    assert len(client.list_devices()) == 4
    assert client.get_status(ids[LUBA]).status == "Standby"


def test_a_live_job_becomes_a_report_with_its_timeline(sim, client, ids, sim_time):
    luba = ids[LUBA]
    client.start_task(luba, "Edges only")
    sim_time.advance(600)
    client.pause(luba)
    sim_time.advance(60)
    client.resume(luba)
    sim_time.advance(300)
    client.stop(luba)
    newest = client.list_runs(luba)[0]
    assert newest.result is RunResult.STOPPED and newest.duration_s == 900
    detail = client.get_run_detail(luba, newest.remote_id)
    labels = [event.label for event in detail.events]
    assert labels == ["manual start", "manual pause", "manual resume", "user stopped"]


# --- faults (4.4.10) -------------------------------------------------------------------


def test_fault_history_pages_while_has_more(sim, http, client, store, ids, sim_time):
    luba = ids[LUBA]
    end = sim_time.now().date()
    start = end - timedelta(days=200)
    faults = client.list_faults(luba, start=start, end=end, page_size=2)
    raw = raw_api(
        http,
        sim,
        store,
        "POST",
        FAULTS,
        json={"deviceId": luba, "pageSize": 100, "startDate": start.isoformat()},
    )
    assert len(faults) == raw["data"]["total"] >= 3
    assert len({fault.remote_id for fault in faults}) == len(faults)
    pages = logged(sim, FAULTS)[:-1]
    assert len(pages) == -(-len(faults) // 2)
    assert [entry["body"]["pageNumber"] for entry in pages] == list(range(1, len(pages) + 1))
    assert all(entry["body"]["startDate"] == start.isoformat() for entry in pages)
    first = faults[0]
    assert first.code and first.title and first.solution and first.level in (1, 2, 3)
    assert first.occurred_at <= first.created_at


def test_fault_texts_follow_accept_language(sim, http, store, ids, sim_time):
    luba = ids[LUBA]
    end = sim_time.now().date()
    start = end - timedelta(days=200)
    english = mammotion_client(sim, http, store, now=sim_time.now)
    german = mammotion_client(sim, http, store, now=sim_time.now, language="de-DE")
    en = english.list_faults(luba, start=start, end=end)
    de = german.list_faults(luba, start=start, end=end)
    assert [f.code for f in en] == [f.code for f in de]
    assert all(a.title != b.title for a, b in zip(en, de, strict=True))
    languages = [entry["headers"]["accept-language"] for entry in logged(sim, FAULTS)]
    assert languages == ["en-US", "de-DE"]


def test_default_fault_window_is_the_last_30_days(sim, client, ids, sim_time):
    client.list_faults(ids[LUBA])
    (entry,) = logged(sim, FAULTS)
    today = sim_time.now().date()
    assert entry["body"]["endDate"] == today.isoformat()
    assert entry["body"]["startDate"] == (today - timedelta(days=30)).isoformat()


# --- the deactivated account (4.6) -----------------------------------------------------


def test_a_deactivated_account_stops_the_open_api(sim, client, ids):
    client.list_devices()
    sim.control("POST", f"mammotion/accounts/{OWNER_EMAIL}/deactivate")
    for call in (client.list_devices, lambda: client.get_status(ids[LUBA])):
        error = raises_with(AccountDeactivated, call)
        assert error.reason == "deactivated" and error.user_message == DEACTIVATED
        assert not error.retryable


def test_a_deactivated_account_cannot_get_a_token(sim, client):
    sim.control("POST", f"mammotion/accounts/{OWNER_EMAIL}/deactivate")
    error = raises_with(AccountDeactivated, client.list_devices)
    assert error.user_message == DEACTIVATED
    assert logged(sim, "/v1/mowers") == [] and len(logged(sim, "/oauth2/token")) == 1
