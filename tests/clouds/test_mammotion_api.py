"""Mammotion Open API endpoints (cloud-apis.md 4.4) and their error answers."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
import responses

from devices.clouds import (
    AccountDeactivated,
    BadResponse,
    CloudError,
    CommandRejected,
    MowerAction,
    NoPermission,
    NotFound,
    RateLimited,
    RunResult,
    Unavailable,
)

from . import samples
from .conftest import OPEN_API, TOKEN_URL, make_mclient

DEV = samples.DEVICE_ID
SEARCH = f"{OPEN_API}/v1/mower/work-reports/search"
ACTION = f"{OPEN_API}/v1/mower/action"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def body_of(call) -> dict:
    return json.loads(call.request.body)


def envelope(data, code=0) -> dict:
    return {"code": code, "msg": "Request success", "data": data}


# --- devices ------------------------------------------------------------------------


def test_mower_list_sample(mocked, mclient):
    mocked.get(f"{OPEN_API}/v1/mowers", json=samples.MOWERS)
    mower, station = mclient.list_devices()
    assert (mower.vendor, mower.remote_id, mower.name, mower.model) == (
        "mammotion",
        DEV,
        "Front Lawn",
        "Luba2 AWD 5000",
    )
    assert mower.online is True and mower.is_station is False
    assert (station.name, station.is_station) == ("RTKX9Q2L7P4", True)
    request = mocked.calls[0].request
    assert request.method == "GET"
    assert request.headers["Authorization"] == "Bearer access-current-0001"
    assert request.headers["Accept-Language"] == "en-US"
    assert request.headers["Accept"] == "application/json"


def test_accept_language_follows_the_ui(mocked, session, store):
    client = make_mclient(session, store, language="de-DE")
    mocked.get(f"{OPEN_API}/v1/mowers", json=envelope([]))
    assert client.list_devices() == []
    assert mocked.calls[0].request.headers["Accept-Language"] == "de-DE"


@pytest.mark.parametrize("model", ["RtkRefStationV1", "RTK base", "rtkx"])
def test_station_detection(mocked, mclient, model):
    mocked.get(
        f"{OPEN_API}/v1/mowers",
        json=envelope([{"id": "s", "name": "Base", "model": model, "online": True}]),
    )
    assert mclient.list_devices()[0].is_station


def test_detail_sample(mocked, mclient):
    mocked.get(f"{OPEN_API}/v1/mower/{DEV}", json=samples.DETAIL)
    status = mclient.get_status(DEV)
    assert (status.status, status.state, status.battery, status.charge_status) == (
        "Working",
        "working",
        48,
        0,
    )
    assert (status.firmware, status.model, status.name, status.online) == (
        "1.30.29.8",
        "LUBA 2 AWD 3000X",
        "Luba-VS5K8D2M1",
        True,
    )
    assert status.network.used_network == "wifi" and status.network.wifi_rssi == -64
    assert status.network.wifi_ip == "192.168.1.100" and status.network.cellular_available is False
    assert not status.is_docked and not status.is_charging


def test_detail_as_one_element_list_with_extra_status_and_code_200(mocked, mclient):
    data = dict(
        samples.DETAIL["data"],
        status="StandBy",
        chargeStatus=2,
        online=True,
        network={"usedNetwork": "2"},
    )
    mocked.get(f"{OPEN_API}/v1/mower/{DEV}", json={"code": 200, "msg": "Success", "data": [data]})
    status = mclient.get_status(DEV)
    assert status.state == "standby" and status.is_docked and status.is_charging
    assert status.network.used_network == "cellular"


def test_detail_of_unknown_shape_is_a_bad_response(mocked, mclient):
    mocked.get(f"{OPEN_API}/v1/mower/{DEV}", json=envelope([]))
    with pytest.raises(BadResponse):
        mclient.get_status(DEV)


def test_path_parameters_are_encoded(mocked, mclient):
    mocked.get(f"{OPEN_API}/v1/mower/a%2Fb%20c", json=samples.DETAIL)
    mclient.get_status("a/b c")
    assert mocked.calls[0].request.path_url == "/v1/mower/a%2Fb%20c"


def test_saved_tasks(mocked, mclient):
    mocked.get(f"{OPEN_API}/v1/mower/{DEV}/plan", json=samples.PLAN)
    (task,) = mclient.list_tasks(DEV)
    assert (task.task_id, task.name) == ("task-a", "Morning mow")


# --- actions (4.4.6) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "args", "action", "params"),
    [
        ("start_now", (), "CMD_START", {}),
        ("start_task", ("Front lawn",), "START", {"taskName": "Front lawn"}),
        ("pause", (), "PAUSE", {}),
        ("resume", (), "RESUME", {}),
        ("stop", (), "STOP", {}),
        ("return_to_dock", (), "RETURN", {}),
        ("cancel_return", (), "CANCEL_RETURN", {}),
    ],
)
def test_actions_always_send_params(mocked, mclient, method, args, action, params):
    mocked.post(ACTION, json=samples.ACTION_OK)
    result = getattr(mclient, method)(DEV, *args)
    request = mocked.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    assert (
        request.body
        == json.dumps(
            {"deviceId": DEV, "action": action, "params": params}, separators=(",", ":")
        ).encode()
    )
    assert result.accepted and result.message == "Success"


def test_start_without_a_task_name_is_refused_locally(mocked, mclient):
    with pytest.raises(ValueError):
        mclient.send_action(DEV, MowerAction.START)
    with pytest.raises(ValueError):
        mclient.send_action(DEV, "MOW_EVERYTHING")
    assert len(mocked.calls) == 0


@pytest.mark.parametrize("message", ["task not found", "device offline", "invalid state"])
def test_command_result_false_is_command_rejected(mocked, mclient, message):
    mocked.post(ACTION, json=envelope({"commandResult": False, "resultMessage": message}))
    with pytest.raises(CommandRejected) as info:
        mclient.start_task(DEV, "Nope")
    assert info.value.vendor_message == message
    assert info.value.user_message == f"The device refused the command: {message}"


@pytest.mark.parametrize("failure", [{"status": 503}, {"body": requests.ConnectionError("reset")}])
def test_actions_are_never_retried(mocked, mclient, failure):
    mocked.post(ACTION, **failure)
    with pytest.raises(Unavailable):
        mclient.pause(DEV)
    assert len(mocked.calls) == 1


# --- work reports (4.4.7-4.4.9) -----------------------------------------------------


def report(work_id: str, end_ms: int, result: int = 5) -> dict:
    return {
        "workId": work_id,
        "endWorkTime": end_ms,
        "workType": 1,
        "workResult": result,
        "workProgress": 50.5,
        "workArea": 10,
        "workTimeUsed": 60,
    }


def report_page(records, pages, page=1) -> dict:
    return envelope(
        {"records": records, "total": 9, "pageNumber": page, "pageSize": 50, "pages": pages}
    )


def test_work_report_sample(mocked, mclient):
    body = copy.deepcopy(samples.REPORTS)
    body["data"]["pages"] = 1
    mocked.post(SEARCH, json=body)
    (run,) = mclient.list_runs(DEV)
    assert (run.remote_id, run.device_id, run.area_m2, run.duration_s, run.progress) == (
        "w-1",
        DEV,
        120.0,
        3600,
        100.0,
    )
    assert run.ended_at == datetime.fromtimestamp(1759168800, UTC)
    assert run.result is RunResult.COMPLETED and run.result_raw == "5" and run.mode == "scheduled"


def test_work_reports_page_through_and_sort_newest_first(mocked, session, store):
    client = make_mclient(session, store, now=lambda: NOW)
    mocked.post(SEARCH, json=report_page([report("a", 1000), report("b", 3000, 3)], pages=3))
    mocked.post(SEARCH, json=report_page([report("c", 2000, 4)], pages=3, page=2))
    mocked.post(SEARCH, json=report_page([], pages=3, page=3))
    runs = client.list_runs(DEV)
    assert [r.remote_id for r in runs] == ["b", "c", "a"]
    assert [r.result for r in runs] == [
        RunResult.STOPPED,
        RunResult.INTERRUPTED,
        RunResult.COMPLETED,
    ]
    assert [body_of(c) for c in mocked.calls] == [
        {"deviceId": DEV, "pageNumber": n, "pageSize": 50} for n in (1, 2, 3)
    ]


def test_work_reports_stop_at_the_last_page(mocked, mclient):
    mocked.post(SEARCH, json=report_page([report("a", 1)], pages=1))
    mclient.list_runs(DEV)
    assert len(mocked.calls) == 1


def test_40200_falls_back_through_the_body_variants_and_remembers(mocked, session, store):
    client = make_mclient(session, store, now=lambda: NOW)
    rejected = {"code": 40200, "msg": "Invalid request"}
    mocked.post(SEARCH, json=rejected)
    mocked.post(SEARCH, json=rejected)
    mocked.post(SEARCH, json=report_page([report("a", 1)], pages=1))
    client.list_runs(DEV)
    first, second, third = (body_of(c) for c in mocked.calls)
    assert first == {"deviceId": DEV, "pageNumber": 1, "pageSize": 50}
    now_ms = int(NOW.timestamp() * 1000)
    assert second == dict(first, endWorkTimeStart=now_ms - 30 * 86400000, endWorkTimeEnd=now_ms)
    assert third == dict(first, endWorkTimeStart=now_ms - 7 * 86400000, endWorkTimeEnd=now_ms)
    assert client.report_variants == {DEV: "range7"}
    client.list_runs(DEV)
    assert len(mocked.calls) == 4 and body_of(mocked.calls[3]) == third


def test_the_bare_variant_has_no_paging(mocked, session, store):
    client = make_mclient(session, store, report_variants={DEV: "bare"})
    mocked.post(SEARCH, json=report_page([report("a", 1)], pages=5))
    client.list_runs(DEV)
    assert [body_of(c) for c in mocked.calls] == [{"deviceId": DEV}]


def test_all_variants_rejected_is_an_error(mocked, mclient):
    mocked.post(SEARCH, json={"code": 40200, "msg": "Invalid request"})
    with pytest.raises(CloudError) as info:
        mclient.list_runs(DEV)
    assert len(mocked.calls) == 4
    assert info.value.user_message == "Mammotion refused to list the mowing history of this device."


def test_summary_sample(mocked, mclient):
    mocked.post(f"{OPEN_API}/v1/mower/work-reports/summary", json=samples.SUMMARY)
    totals = mclient.get_summary(DEV)
    assert (totals.time_saved_min, totals.carbon_g, totals.run_count, totals.area_m2) == (
        5400.0,
        2520.0,
        12,
        1440.0,
    )
    assert body_of(mocked.calls[0]) == {"deviceId": DEV}


def test_work_report_detail_sample(mocked, mclient):
    mocked.get(f"{OPEN_API}/v1/mower/{DEV}/work-reports/w-1", json=samples.REPORT_DETAIL)
    detail = mclient.get_run_detail(DEV, "w-1")
    assert detail.run.remote_id == "w-1"
    assert detail.run.started_at == datetime.fromtimestamp(1759165200, UTC)
    assert (detail.energy_wh, detail.time_saved_min, detail.carbon_g, detail.job_content) == (
        55.5,
        90.0,
        210.0,
        0,
    )
    assert [(e.code, e.label) for e in detail.events] == [(2, "manual start"), (12, "completed")]
    params = detail.work_params
    assert (params.job_content, params.knife_height, params.channel_mode, params.ultra_wave) == (
        8,
        55.0,
        0,
        10,
    )
    assert params.extra["visualHashs"] == ["a"] and params.extra["rideBoundaryDistance"] == 0.5
    assert detail.map_url.startswith("https://cdn.example.invalid/map/w-1.png")


# --- faults (4.4.10) ----------------------------------------------------------------


def test_faults_page_while_has_more(mocked, session, store):
    client = make_mclient(session, store, now=lambda: NOW)
    more = copy.deepcopy(samples.FAULTS)
    more["data"]["hasMore"] = True
    mocked.post(f"{OPEN_API}/v1/mower/error-codes/search", json=more)
    mocked.post(f"{OPEN_API}/v1/mower/error-codes/search", json=samples.FAULTS)
    faults = client.list_faults(DEV)
    assert len(faults) == 2
    fault = faults[0]
    assert (fault.code, fault.title, fault.level, fault.priority) == (1005, "Low battery", 2, 2)
    assert fault.occurred_at == datetime.fromtimestamp(1759222800, UTC)
    assert fault.remote_id == "1005-1759222800000"
    assert fault.attachments[0].url == "https://example.invalid/i.png"
    bodies = [body_of(c) for c in mocked.calls]
    assert bodies[0] == {
        "deviceId": DEV,
        "pageNumber": 1,
        "pageSize": 50,
        "startDate": "2026-04-01",
        "endDate": "2026-05-01",
    }
    assert bodies[1]["pageNumber"] == 2


def test_faults_with_explicit_dates(mocked, mclient):
    mocked.post(f"{OPEN_API}/v1/mower/error-codes/search", json=samples.FAULTS)
    mclient.list_faults(DEV, start=date(2026, 8, 1), end=date(2026, 8, 31))
    assert body_of(mocked.calls[0])["startDate"] == "2026-08-01"
    assert body_of(mocked.calls[0])["endDate"] == "2026-08-31"


# --- errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "error", "user_message"),
    [
        (
            {"json": {"code": 404, "msg": "device not found"}},
            NotFound,
            "Not found. Refresh the device list.",
        ),
        ({"status": 404}, NotFound, "Not found. Refresh the device list."),
        ({"status": 403}, NoPermission, "No permission for this device. Refresh the device list."),
        (
            {"json": {"code": 400, "msg": "deviceId is required"}},
            CloudError,
            "Mammotion: deviceId is required (code 400)",
        ),
        ({"json": {"code": 99999}}, CloudError, "Mammotion: code 99999"),
        ({"status": 418}, CloudError, "Mammotion answered HTTP 418."),
    ],
)
def test_envelope_and_http_errors(mocked, mclient, answer, error, user_message):
    mocked.get(f"{OPEN_API}/v1/mower/{DEV}", **answer)
    with pytest.raises(error) as info:
        mclient.get_status(DEV)
    assert info.value.user_message == user_message and not info.value.retryable


@pytest.mark.parametrize("status", [200, 401, 500])
def test_deactivated_on_any_endpoint_stops_without_renewal(mocked, mclient, status):
    mocked.get(f"{OPEN_API}/v1/mowers", status=status, json=samples.DEACTIVATED)
    with pytest.raises(AccountDeactivated) as info:
        mclient.list_devices()
    assert info.value.user_message.startswith("Mammotion deactivated this account.")
    assert not [c for c in mocked.calls if c.request.url == TOKEN_URL]


def test_429_and_5xx_are_transient(mocked, mclient):
    mocked.get(
        f"{OPEN_API}/v1/mowers",
        status=429,
        headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"},
    )
    mocked.get(f"{OPEN_API}/v1/mowers", status=504)
    with pytest.raises(RateLimited) as limited:
        mclient.list_devices()
    with pytest.raises(Unavailable) as down:
        mclient.list_devices()
    assert limited.value.retry_after == 0  # an HTTP date in the past
    assert down.value.http_status == 504 and down.value.retryable


@pytest.mark.parametrize(
    ("body", "transient"),
    [
        ("<html>oops</html>", True),
        ("", True),
        ('{"code":0,"data":[', True),
        ("[]", False),
        ('{"data":[]}', False),
    ],
)
def test_malformed_bodies(mocked, mclient, body, transient):
    mocked.get(f"{OPEN_API}/v1/mowers", body=body)
    with pytest.raises(BadResponse) as info:
        mclient.list_devices()
    assert info.value.transient is transient


def test_reads_retry_once_on_a_timeout_including_search_posts(mocked, mclient):
    mocked.post(SEARCH, body=requests.Timeout("slow"))
    mocked.post(SEARCH, json=report_page([], pages=0))
    assert mclient.list_runs(DEV) == []
    assert mclient.requests_made == 2


def test_request_ids_and_extra_fields_are_tolerated(mocked, mclient):
    body = dict(samples.MOWERS, requestId=176853488788872870010, extra={"x": 1})
    mocked.get(f"{OPEN_API}/v1/mowers", json=body)
    assert len(mclient.list_devices()) == 2


def test_timestamps_are_aware_utc(mocked, mclient):
    mocked.post(SEARCH, json=report_page([report("a", 1759168800000)], pages=1))
    (run,) = mclient.list_runs(DEV)
    assert run.ended_at.tzinfo is UTC and run.ended_at - datetime(
        2025, 9, 29, tzinfo=UTC
    ) < timedelta(days=1)


def test_responses_registry_is_strict(mocked, mclient):
    mocked.add(responses.GET, f"{OPEN_API}/v1/other", json={})
    with pytest.raises(Unavailable):
        mclient.list_devices()  # unregistered URL -> connection error -> Unavailable
