"""The common control API, the request log and the HTTP front end (cloud-apis.md 5.1, 5.2)."""

import http.client
import json
import time
from urllib.parse import urlsplit

import pytest

from simulator.pytest_plugin import SimControlError
from tests.simulator.helpers import OWNER_SID, S7, session

GET_LIST = "/common/dev/GetList"


def test_unknown_paths_are_404_json(sim):
    response = session().get(sim.url + "/nowhere")
    assert response.status_code == 404
    assert response.json() == {"error": "not found", "path": "/nowhere"}
    with pytest.raises(SimControlError) as caught:
        sim.control("GET", "nothing-here")
    assert caught.value.status == 404


def test_wrong_method_on_a_control_endpoint(sim):
    with pytest.raises(SimControlError) as caught:
        sim.control("GET", "reset")
    assert caught.value.status == 405


def test_health_lists_the_vendors(sim):
    body = sim.control("GET", "health")
    assert body["ok"] is True
    assert body["vendors"]["qihoo360"] == "/_sim/360/"


def test_state_dumps_everything(sim, api):
    sim.add_fault(vendor="qihoo360", errno=102, count=-1)
    state = sim.state()
    assert state["seed"] == 1
    assert state["clock"]["speed"] == 1.0
    assert state["faults"][0]["errno"] == 102
    devices = state["vendors"]["qihoo360"]["devices"]
    assert devices[S7]["status"]["mode"] == "charge"
    assert {acc["qid"] for acc in state["vendors"]["qihoo360"]["accounts"]} == {
        "1234123412",
        "2000000002",
    }


def test_request_log_shortens_secrets(sim, api):
    api.post(GET_LIST, password="hunter2hunter2", token="abcdefgh", title="Kitchen")
    session().post(
        sim.url + "/clean/record/statis",
        json={"client_secret": "GshzGRZJjuMUgd2sYHM7", "nested": {"access_token": "eyJhbGciOi"}},
        headers={"Authorization": "Bearer 0123456789abcdef"},
    )
    first, second = sim.requests()
    assert first["method"] == "POST" and first["path"] == GET_LIST and first["status"] == 200
    cookie = first["headers"]["cookie"]
    assert OWNER_SID not in cookie and "sid=4a20…" in cookie and "qid=1234123412" in cookie
    assert first["body"]["password"] == "hunt…" and first["body"]["token"] == "abcd…"
    assert first["body"]["title"] == "Kitchen"
    assert second["headers"]["authorization"] == "Bearer 0123…"
    assert second["body"] == {"client_secret": "Gshz…", "nested": {"access_token": "eyJh…"}}
    assert "GshzGRZJ" not in json.dumps(sim.requests())


def test_request_log_filters(sim, api):
    api.post(GET_LIST)
    api.post("/clean/record/statis", sn=S7)
    api.post("/clean/record/getList", sn=S7)
    assert [e["path"] for e in sim.requests(path="/clean/record/*")] == [
        "/clean/record/statis",
        "/clean/record/getList",
    ]
    assert [e["path"] for e in sim.requests(path=GET_LIST)] == [GET_LIST]
    assert [e["path"] for e in sim.requests(limit=1)] == ["/clean/record/getList"]
    assert len(sim.requests(vendor="qihoo360")) == 3
    assert sim.requests(vendor="mammotion") == []
    # The test's own control calls are kept apart, under the pseudo-vendor "sim".
    sim.state()
    assert [e["path"] for e in sim.requests(vendor="sim")] == ["/_sim/state"]
    assert all(not e["path"].startswith("/_sim/") for e in sim.requests())


def test_violations_start_empty_and_reset_clears_them(sim, api):
    assert sim.violations() == []
    api.post("/clean/bind/unbind", sn=S7)
    (violation,) = sim.violations()
    assert violation["vendor"] == "qihoo360" and violation["path"] == "/clean/bind/unbind"
    sim.reset()
    assert sim.violations() == []


def test_clock_advance_and_speed(sim):
    before = sim.now()
    after = sim.advance(3600)["now"]
    assert 3600 <= after - before < 3605
    frozen = sim.set_speed(0)
    assert frozen["speed"] == 0
    assert sim.now() == pytest.approx(frozen["now"], abs=1e-3)
    with pytest.raises(SimControlError):
        sim.control("POST", "clock", {"advance": -5})
    with pytest.raises(SimControlError):
        sim.control("POST", "clock", {})


def test_reset_rewinds_the_clock_and_speed(sim):
    start = sim.now()
    sim.advance(86400)
    sim.set_speed(10)
    clock = sim.reset()["clock"]
    assert clock["speed"] == 1.0
    assert clock["now"] - start < 60


def test_knobs_flat_and_by_vendor(sim):
    knobs = sim.knobs()
    assert knobs["qihoo360"]["push_encrypt"] == 1
    assert sim.knobs(push_batch=True)["qihoo360"]["push_batch"] is True
    body = sim.control("POST", "knobs", {"qihoo360": {"push_encrypt": 0}})
    assert body["knobs"]["qihoo360"]["push_encrypt"] == 0
    with pytest.raises(SimControlError) as caught:
        sim.knobs(no_such_knob=1)
    assert caught.value.status == 400
    sim.reset()
    assert sim.knobs()["qihoo360"]["push_batch"] is False


def test_keep_alive_serves_many_requests_on_one_connection(sim):
    parts = urlsplit(sim.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    for _ in range(3):
        connection.request("GET", "/_sim/health")
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200
        assert int(response.headers["Content-Length"]) == len(body)
        assert response.headers.get("Connection", "").lower() != "close"
    connection.request("HEAD", "/clean/modelalias.json")
    head = connection.getresponse()
    assert head.status == 200 and head.read() == b""
    assert int(head.headers["Content-Length"]) > 0
    connection.close()


def test_chunked_bodies_are_read(sim):
    parts = urlsplit(sim.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    body = iter([b'{"advance":', b" 60}"])
    connection.request("POST", "/_sim/clock", body=body, encode_chunked=True,
                       headers={"Content-Type": "application/json"})  # fmt: skip
    response = connection.getresponse()
    assert response.status == 200, response.read()
    connection.close()


def test_a_bad_control_body_is_a_400(sim):
    response = session().post(sim.url + "/_sim/faults", data=b"[1,2]")
    assert response.status_code == 400
    assert "JSON object" in response.json()["error"]


def test_keep_alive_requests_are_not_delayed(sim, api):
    """Regression: headers and body written separately cost ~40 ms per request
    (Nagle's algorithm against delayed ACKs)."""
    started = time.monotonic()
    for _ in range(50):
        api.post("/clean/record/statis", sn=S7)
    assert time.monotonic() - started < 1.5


def test_logs_and_violations_can_be_cleared(sim, api):
    api.post("/clean/record/delByIds", sn=S7, ids="1")
    assert sim.requests() and sim.violations()
    sim.control("DELETE", "requests")
    sim.control("DELETE", "violations")
    assert sim.requests() == [] and sim.violations() == []
