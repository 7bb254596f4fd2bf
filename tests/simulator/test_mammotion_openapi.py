"""Mammotion Open API reads in the simulator: docs/cloud-apis.md §4.4, §5.4.4."""

import zlib
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from simulator.mammotion_testing import START, Harness

LUBA, YUKA, RTK, MINI = "Luba-VS5K8D2M1", "Yuka-MV27A3F9K2", "RTKX9Q2L7P4", "Luba-MN4H7C1K9"


@pytest.fixture
def cloud():
    return Harness()


@pytest.fixture
def token(cloud):
    return cloud.open_token()


def search(cloud, token, **body):
    return cloud.api("POST", "/v1/mower/work-reports/search", token, json=body)


def faults(cloud, token, lang=None, **body):
    headers = {"Accept-Language": lang} if lang else None
    return cloud.api("POST", "/v1/mower/error-codes/search", token, json=body, headers=headers)


def test_bad_bearer_is_http_401(cloud):
    for token in (None, "abc.def.ghi"):
        response = cloud.request("GET", "/v1/mowers", token=token)
        assert response.status == 401 and response.body == {"code": 401, "msg": "Unauthorized"}


def test_mowers_list_and_envelope(cloud, token):
    body = cloud.api("GET", "/v1/mowers", token)
    assert body["code"] == 0 and body["msg"] == "Request success"
    assert body["msgTitle"] and isinstance(body["requestId"], str) and len(body["requestId"]) == 21
    by_name = {d["name"]: d for d in body["data"]}
    assert set(by_name) == {LUBA, YUKA, RTK, MINI}
    assert by_name[YUKA]["nickname"] == "Front Lawn" and by_name[YUKA]["model"] == "YUKA mini"
    assert by_name[LUBA]["model"] == "LUBA 2 AWD 3000X"
    assert by_name[RTK]["model"] == "RtkRefStationV1"
    assert by_name[MINI]["online"] == 0 and by_name[LUBA]["online"] == 1
    assert all(len(d["id"]) == 22 for d in body["data"])


def test_empty_credentials_see_no_devices(cloud, token):
    empty = cloud.open_token("sim-client-empty", "sim-secret-empty")
    assert cloud.api("GET", "/v1/mowers", empty)["data"] == []
    body = cloud.api("GET", f"/v1/mower/{cloud.device_id(LUBA)}", empty)
    assert body["code"] == 404 and body["msg"] == "device not found"


def test_success_code_200_and_numeric_request_id(cloud, token):
    cloud.cloud.set_knobs({"success_code": 200, "request_id_as_number": True})
    body = cloud.api("GET", "/v1/mowers", token)
    assert body["code"] == 200 and body["msg"] == "Success"
    assert isinstance(body["requestId"], int)


def test_seeded_details(cloud, token):
    luba = cloud.detail(token, cloud.device_id(LUBA))
    assert luba["status"] == "Standby" and luba["chargeStatus"] == 1
    assert luba["batteryLevel"] == 100 and luba["version"] == "1.30.29.8"
    assert luba["network"]["usedNetwork"] == "1" and luba["network"]["wifiAvailable"] is True
    yuka = cloud.detail(token, cloud.device_id(YUKA))
    assert yuka["status"] == "Working" and yuka["batteryLevel"] == 63
    assert yuka["network"]["usedNetwork"] == "2" and yuka["network"]["cellularAvailable"] is True
    mini = cloud.detail(token, cloud.device_id(MINI))
    assert mini["status"] == "Offline" and mini["online"] == 0


def test_detail_as_list_knob(cloud, token):
    cloud.cloud.set_knobs({"detail_as_list": True})
    data = cloud.detail(token, cloud.device_id(LUBA))
    assert isinstance(data, list) and data[0]["name"] == LUBA


def test_extra_statuses_knob(cloud, token):
    cloud.cloud.set_knobs({"extra_statuses": True})
    luba, yuka = cloud.device_id(LUBA), cloud.device_id(YUKA)
    assert cloud.detail(token, luba)["status"] == "StandBy"
    assert cloud.detail(token, yuka)["status"] == "Mowing"
    cloud.action(token, yuka, "PAUSE")
    assert cloud.detail(token, yuka)["status"] == "TaskPaused"
    cloud.control("POST", f"devices/{luba}", json={"batteryLevel": 50, "chargeStatus": 2})
    assert cloud.detail(token, luba)["status"] == "Charging"


def test_plan_lists_tasks(cloud, token):
    plan = cloud.api("GET", f"/v1/mower/{cloud.device_id(LUBA)}/plan", token)["data"]
    assert [t["taskName"] for t in plan] == ["Front lawn", "Back lawn", "Edges only"]
    assert all(t["taskId"] for t in plan)
    assert cloud.api("GET", f"/v1/mower/{cloud.device_id(RTK)}/plan", token)["data"] == []


def test_unknown_device_and_missing_fields(cloud, token):
    assert cloud.api("GET", "/v1/mower/nope/plan", token)["code"] == 404
    body = search(cloud, token)
    assert body["code"] == 400 and body["msg"] == "deviceId is required"
    body = search(cloud, token, deviceId="nope")
    assert (body["code"], body["msg"]) == (404, "device not found")


def test_report_paging_is_one_based_and_sorted(cloud, token):
    luba = cloud.device_id(LUBA)
    first = search(cloud, token, deviceId=luba)["data"]
    assert first["pageNumber"] == 1 and first["pageSize"] == 10
    total = first["total"]
    assert total > 150  # 180 days, mostly in season
    assert first["pages"] == -(-total // 10)
    seen = []
    for page in range(1, first["pages"] + 2):
        records = search(cloud, token, deviceId=luba, pageNumber=page, pageSize=25)["data"]
        seen += records["records"]
    assert len(seen) == total and len({r["workId"] for r in seen}) == total
    ends = [r["endWorkTime"] for r in seen]
    assert ends == sorted(ends, reverse=True)
    assert max(ends) < START * 1000 and min(ends) > (START - 181 * 86400) * 1000
    item = seen[0]
    assert set(item) == {
        "workId",
        "endWorkTime",
        "workType",
        "workResult",
        "workProgress",
        "workArea",
        "workTimeUsed",
    }
    assert isinstance(item["workArea"], float) and isinstance(item["workTimeUsed"], int)
    assert search(cloud, token, deviceId=luba, pageSize=500)["data"]["pageSize"] == 100


def test_report_filters(cloud, token):
    luba = cloud.device_id(LUBA)
    all_items = search(cloud, token, deviceId=luba, pageSize=100)["data"]
    since = (START - 30 * 86400) * 1000
    recent = search(cloud, token, deviceId=luba, endWorkTimeStart=since, pageSize=100)["data"]
    assert 0 < recent["total"] < all_items["total"]
    assert all(r["endWorkTime"] >= since for r in recent["records"])
    done = search(cloud, token, deviceId=luba, workResult=5, workType=2, pageSize=100)["data"]
    assert done["total"] > 0
    assert all(r["workResult"] == 5 and r["workType"] == 2 for r in done["records"])
    until = search(cloud, token, deviceId=luba, endWorkTimeEnd=since)["data"]["total"]
    assert until + recent["total"] == all_items["total"]


@pytest.mark.parametrize(
    ("rejected", "body_keys", "code"),
    [
        (["range"], {"endWorkTimeStart": 1}, 40200),
        (["range"], {"pageNumber": 1}, 0),
        (["filters"], {"workResult": 5}, 40200),
        (["paging"], {"pageNumber": 1, "pageSize": 10}, 40200),
        (["paging"], {}, 0),
    ],
)
def test_reject_report_forms_knob(cloud, token, rejected, body_keys, code):
    cloud.cloud.set_knobs({"reject_report_forms": rejected})
    body = search(cloud, token, deviceId=cloud.device_id(LUBA), **body_keys)
    assert body["code"] == code


def test_summary_matches_the_reports(cloud, token):
    luba = cloud.device_id(LUBA)
    summary = cloud.api("POST", "/v1/mower/work-reports/summary", token, json={"deviceId": luba})
    data = summary["data"]
    total = search(cloud, token, deviceId=luba)["data"]["total"]
    assert data["workCount"] == total
    area = 0.0
    for page in range(1, -(-total // 100) + 1):
        records = search(cloud, token, deviceId=luba, pageNumber=page, pageSize=100)
        area += sum(r["workArea"] for r in records["data"]["records"])
    assert data["totalWorkArea"] == pytest.approx(area, abs=0.5)
    assert data["saveTime"] > 0 and data["carbonReduction"] > 0


def test_report_detail_and_signed_map(cloud, token):
    luba = cloud.device_id(LUBA)
    work_id = search(cloud, token, deviceId=luba)["data"]["records"][0]["workId"]
    detail = cloud.api("GET", f"/v1/mower/{luba}/work-reports/{work_id}", token)["data"]
    for key in ("saveTime", "carbonReduction", "energyConsume", "startWorkTime", "jobContent"):
        assert key in detail
    assert detail["startWorkTime"] < detail["endWorkTime"]
    assert detail["workProcess"][0]["eventCode"] in (1, 2, 4)
    assert {"knifeHeight", "channelMode", "ultraWave", "visualHashs"} <= set(detail["workParam"])
    url = detail["mapFilePath"]
    parts = urlsplit(url)
    assert url.startswith(f"http://sim.test/_sim/mammotion/files/map/{work_id}.png?")
    assert set(parse_qs(parts.query)) == {"expires", "sig"}
    png = cloud.fetch(url)
    assert png.status == 200 and png.content_type == "image/png"
    assert png.body.startswith(b"\x89PNG\r\n\x1a\n")
    assert zlib.crc32(png.body[12:29]) == int.from_bytes(png.body[29:33], "big")  # IHDR CRC
    tampered = cloud.fetch(url.replace("sig=", "sig=0"))
    assert tampered.status == 403
    cloud.advance(15 * 60 + 1)
    expired = cloud.fetch(url)
    assert expired.status == 403 and b"AccessDenied" in expired.body.encode()


def test_unknown_work_report_is_404(cloud, token):
    body = cloud.api("GET", f"/v1/mower/{cloud.device_id(LUBA)}/work-reports/123", token)
    assert body["code"] == 404 and body["msg"] == "work report not found"


def test_fault_paging_and_language(cloud, token):
    luba = cloud.device_id(LUBA)
    first = faults(cloud, token, deviceId=luba, pageSize=4)["data"]
    assert 9 <= first["total"] <= 11 and first["hasMore"] is True
    assert len(first["records"]) == 4
    pages, page = [], 1
    while True:
        data = faults(cloud, token, deviceId=luba, pageSize=4, pageNumber=page)["data"]
        pages += data["records"]
        if not data["hasMore"]:
            break
        page += 1
    assert len(pages) == first["total"]
    assert {r["faultLevel"] for r in pages} == {1, 2, 3}
    record = pages[0]
    assert record["createTime"] >= record["gmtCreate"]
    german = faults(cloud, token, "de-DE,de;q=0.9", deviceId=luba)["data"]["records"][0]
    english = faults(cloud, token, "en-US", deviceId=luba)["data"]["records"][0]
    assert german["code"] == english["code"] and german["implication"] != english["implication"]
    assert faults(cloud, token, deviceId=luba)["data"]["records"][0] == english


def test_fault_filters_by_date_and_code(cloud, token):
    luba = cloud.device_id(LUBA)
    records = faults(cloud, token, deviceId=luba, pageSize=100)["data"]["records"]
    target = records[0]
    day = datetime.fromtimestamp(target["gmtCreate"] / 1000, UTC).date().isoformat()
    same_day = faults(cloud, token, deviceId=luba, startDate=day, endDate=day)["data"]
    assert target["code"] in [r["code"] for r in same_day["records"]]
    assert all(
        datetime.fromtimestamp(r["gmtCreate"] / 1000, UTC).date().isoformat() == day
        for r in same_day["records"]
    )
    keyword = str(target["code"])[1:3]
    by_code = faults(cloud, token, deviceId=luba, errorCode=keyword, pageSize=100)["data"]
    assert by_code["total"] >= 1 and all(keyword in str(r["code"]) for r in by_code["records"])
    bad = faults(cloud, token, deviceId=luba, startDate="yesterday")
    assert bad["code"] == 400 and bad["msg"] == "startDate is invalid"


def test_work_params_answers_zeros_and_records_a_violation(cloud, token):
    luba = cloud.device_id(LUBA)
    data = cloud.api("GET", f"/v1/mower/{luba}/work-params", token)["data"]
    assert data["commandResult"] is True and data["knifeHeight"] == 0
    assert len(cloud.violations) == 1 and cloud.violations[0][0] == "mammotion"
    assert "work-params" in cloud.violations[0][1]


def test_deactivated_account_blocks_open_api_calls(cloud, token):
    cloud.control("POST", "accounts/owner@example.com/deactivate")
    body = cloud.api("GET", "/v1/mowers", token)
    assert body["code"] == 500
    assert body["msg"] == "Your account activity is abnormal and has been deactivated"
