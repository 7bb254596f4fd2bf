"""Fault injection (cloud-apis.md 5.2), exercised over real HTTP against the 360 model."""

import threading
import time

import pytest
import requests

from simulator.pytest_plugin import SimControlError
from tests.simulator.helpers import S5, S7

GET_LIST = "/common/dev/GetList"
RECORDS = "/clean/record/getList"


def test_errno_replaces_the_envelope(sim, api):
    sim.add_fault(vendor="qihoo360", path=GET_LIST, errno=102)
    assert api.call(GET_LIST) == {"errno": 102, "errmsg": "session expired"}
    assert api.call(GET_LIST)["errno"] == 0  # count defaults to 1


def test_errno_with_custom_errmsg(sim, api):
    sim.add_fault(vendor="qihoo360", path=GET_LIST, errno=9999, errmsg="busy")
    assert api.call(GET_LIST) == {"errno": 9999, "errmsg": "busy"}


def test_errno_as_string(sim, api):
    sim.add_fault(vendor="qihoo360", path=GET_LIST, errno_as_string=212)
    body = api.call(GET_LIST)
    assert body["errno"] == "212"
    assert body["errmsg"] == "device offline"


def test_error_code_comes_with_errno_zero(sim, api):
    sim.add_fault(vendor="qihoo360", path=GET_LIST, error_code=205)
    assert api.call(GET_LIST) == {"errno": 0, "errmsg": "Succeeded", "errorCode": 205, "data": {}}


def test_code_is_the_mammotion_envelope(sim, api):
    sim.add_fault(vendor="qihoo360", path=GET_LIST, code=40200, msg="rejected")
    response = api.post(GET_LIST)
    assert response.status_code == 200
    assert response.json() == {"code": 40200, "msg": "rejected", "data": None}


def test_429_carries_retry_after(sim, api):
    sim.add_fault(vendor="qihoo360", path=GET_LIST, http_status=429, retry_after=30)
    response = api.post(GET_LIST)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert response.json() == {"status": 429, "error": "Too Many Requests"}


@pytest.mark.parametrize("status", [500, 502, 503, 504, 401, 403, 404])
def test_http_status(sim, api, status):
    sim.add_fault(vendor="qihoo360", path=GET_LIST, http_status=status)
    assert api.post(GET_LIST).status_code == status
    assert api.post(GET_LIST).status_code == 200


def test_http_status_with_a_custom_body(sim, api):
    sim.add_fault(vendor="qihoo360", path=GET_LIST, http_status=503, body="<h1>down</h1>")
    response = api.post(GET_LIST)
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text == "<h1>down</h1>"
    sim.add_fault(vendor="qihoo360", path=GET_LIST, http_status=500, body={"oops": 1})
    assert api.post(GET_LIST).json() == {"oops": 1}


def test_delay_then_normal_answer(sim, api):
    sim.add_fault(vendor="qihoo360", path=GET_LIST, delay=0.3)
    started = time.monotonic()
    body = api.call(GET_LIST)
    assert time.monotonic() - started >= 0.3
    assert body["errno"] == 0 and body["data"]["list"]


def test_delay_past_the_client_timeout(sim, api):
    sim.add_fault(vendor="qihoo360", path=GET_LIST, delay=1.5)
    with pytest.raises(requests.Timeout):
        api.post(GET_LIST, timeout=0.3)
    # The server stays healthy for the next caller.
    assert api.call(GET_LIST)["errno"] == 0


def test_reset_cuts_a_pending_delay_short(sim, api):
    sim.add_fault(vendor="qihoo360", path=GET_LIST, delay=30)
    errors = []

    def slow_call():
        try:
            api.post(GET_LIST, timeout=10)
        except requests.ConnectionError as exc:
            errors.append(exc)

    worker = threading.Thread(target=slow_call)
    started = time.monotonic()
    worker.start()
    time.sleep(0.2)
    sim.reset()
    worker.join(5)
    assert time.monotonic() - started < 5
    assert errors, "the delayed request is dropped, not answered into the next test"


def test_drop_closes_without_a_response(sim, api):
    sim.add_fault(vendor="qihoo360", path=GET_LIST, drop=True)
    with pytest.raises(requests.ConnectionError):
        api.post(GET_LIST)
    assert api.call(GET_LIST)["errno"] == 0
    assert sim.requests(path=GET_LIST)[0]["status"] == "dropped"


@pytest.mark.parametrize(
    ("variant", "content_type", "check"),
    [
        ("truncated", "application/json", lambda text: text.startswith('{"errno":0')),
        ("html", "text/html", lambda text: "<html>" in text),
        ("empty", "application/json", lambda text: text == ""),
        ("array", "application/json", lambda text: text == "[]"),
    ],
)
def test_malformed_variants(sim, api, variant, content_type, check):
    sim.add_fault(vendor="qihoo360", path=GET_LIST, malformed=variant)
    response = api.post(GET_LIST)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(content_type)
    assert check(response.text)
    if variant != "array":
        with pytest.raises(ValueError):
            response.json()
    else:
        assert response.json() == []


def test_shape_replaces_data_of_the_real_answer(sim, api):
    sim.add_fault(vendor="qihoo360", path=GET_LIST, shape=[{"sn": "x"}])
    assert api.call(GET_LIST) == {"errno": 0, "errmsg": "Succeeded", "data": [{"sn": "x"}]}
    sim.add_fault(vendor="qihoo360", path=GET_LIST, shape=None)
    assert api.call(GET_LIST)["data"] is None


def test_count_limits_the_rule(sim, api):
    sim.add_fault(vendor="qihoo360", path=GET_LIST, http_status=503, count=2)
    statuses = [api.post(GET_LIST).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert sim.faults() == []


def test_minus_one_lasts_until_removed(sim, api):
    rule_id = sim.add_fault(vendor="qihoo360", path=GET_LIST, http_status=500, count=-1)
    assert [api.post(GET_LIST).status_code for _ in range(5)] == [500] * 5
    (rule,) = sim.faults()
    assert rule["hits"] == 5 and rule["remaining"] == -1
    sim.remove_fault(rule_id)
    assert api.post(GET_LIST).status_code == 200


def test_clear_removes_all_rules(sim, api):
    sim.add_fault(vendor="qihoo360", http_status=500, count=-1)
    sim.add_fault(vendor="qihoo360", errno=102, count=-1)
    assert sim.clear_faults() == 2
    assert api.post(GET_LIST).status_code == 200


def test_matcher_by_sn(sim, api):
    sim.add_fault(vendor="qihoo360", path=RECORDS, sn=S5, errno=212, count=-1)
    assert api.call(RECORDS, sn=S7)["errno"] == 0
    assert api.call(RECORDS, sn=S5)["errno"] == 212


def test_matcher_by_account_method_and_glob(sim, api, guest_api):
    sim.add_fault(vendor="qihoo360", method="POST", path="/clean/record/*", account="2000000002",
                  errno=102, count=-1)  # fmt: skip
    assert api.call(RECORDS, sn=S7)["errno"] == 0
    assert guest_api.call(RECORDS, sn="360TY000100000100")["errno"] == 102
    assert guest_api.call(GET_LIST)["errno"] == 0  # path does not match
    sim.add_fault(vendor="qihoo360", method="GET", path="/clean/*.json", http_status=500)
    assert api.post("/clean/errorInfo_us.json").status_code == 200  # method does not match
    assert api.http.get(sim.url + "/clean/errorInfo_us.json").status_code == 500


def test_other_vendor_rules_do_not_match(sim, api):
    sim.add_fault(vendor="mammotion", path="*", http_status=500, count=-1)
    assert api.post(GET_LIST).status_code == 200


def test_rules_without_vendor_match_every_vendor(sim, api):
    sim.add_fault(http_status=502)
    assert api.post(GET_LIST).status_code == 502


def test_delay_rules_combine_with_one_error(sim, api):
    sim.add_fault(vendor="qihoo360", delay=0.2, count=-1)
    sim.add_fault(vendor="qihoo360", errno=102)
    started = time.monotonic()
    assert api.call(GET_LIST)["errno"] == 102
    assert api.call(GET_LIST)["errno"] == 0
    assert time.monotonic() - started >= 0.4


def test_faults_never_touch_the_control_api(sim):
    sim.add_fault(path="*", http_status=500, count=-1)
    sim.add_fault(path="/_sim/*", drop=True, count=-1)
    assert sim.control("GET", "state")["seed"] == 1
    assert len(sim.faults()) == 2


def test_faulted_requests_are_logged_with_the_rule(sim, api):
    rule_id = sim.add_fault(vendor="qihoo360", path=GET_LIST, http_status=503)
    api.post(GET_LIST)
    (entry,) = sim.requests(path=GET_LIST)
    assert entry["status"] == 503 and entry["faults"] == [rule_id]


def test_a_replaced_answer_does_not_run_the_command(frozen, api):
    frozen.add_fault(vendor="qihoo360", path="/clean/cmd/send", http_status=503)
    assert api.post("/clean/cmd/send", sn=S7, infoType="21005", data="").status_code == 503
    state = frozen.control("GET", f"360/devices/{S7}")
    assert state["status"]["mode"] == "charge"


@pytest.mark.parametrize(
    "rule",
    [
        {"http_status": 500, "errno": 1},  # two actions
        {"vendor": "qihoo360"},  # no action
        {"errno": "x"},
        {"http_status": 99},
        {"delay": -1},
        {"malformed": "yaml"},
        {"errno": 1, "count": 0},
        {"errno": 1, "count": -2},
        {"errno": 1, "vendor": "dyson"},
        {"errno": 1, "colour": "red"},
    ],
)
def test_bad_rules_are_refused(sim, rule):
    with pytest.raises(SimControlError) as caught:
        sim.add_fault(**rule)
    assert caught.value.status == 400
    assert sim.faults() == []
