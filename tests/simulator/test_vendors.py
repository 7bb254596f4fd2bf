"""Routing between vendor models through the core, with a stand-in second vendor."""

import sys
import types

import pytest

from simulator import core
from simulator.interface import SimResponse
from simulator.qihoo360 import Qihoo360Cloud
from simulator.server import start_server
from tests.simulator.helpers import session


class FakeMower:
    """Just enough of the VendorCloud contract to show what the core does."""

    name = "mammotion"
    control_prefix = "mammotion"

    def __init__(self, clock, seed, origin, record_violation):
        self.clock, self.origin, self.record_violation = clock, origin, record_violation
        self.ticks = 0
        self.knobs = {"success_code": 0}

    def owns(self, path):
        return path.startswith(("/user-server/", "/oauth2/", "/v1/"))

    def handle(self, req):
        if req.path.endswith("/work-params"):
            self.record_violation(self.name, "work-params called")
        if req.path == "/v1/boom":
            raise RuntimeError("bug in the model")
        code = self.knobs["success_code"]
        return SimResponse(
            body={"code": code, "msg": "Request success", "data": {"ticks": self.ticks}}
        )

    def control(self, req, subpath):
        if subpath.startswith("files/"):
            return SimResponse(body=b"\x89PNG fake", content_type="image/png")
        return SimResponse(body={"subpath": subpath, "method": req.method})

    def tick(self):
        self.ticks += 1

    def state(self):
        return {"ticks": self.ticks}

    def set_knobs(self, knobs):
        self.knobs.update({k: v for k, v in knobs.items() if k in self.knobs})
        return dict(self.knobs)

    def reset(self):
        self.knobs = {"success_code": 0}

    def match_keys(self, req):
        body = req.json() or {}
        return {"deviceId": body["deviceId"]} if "deviceId" in body else {}


@pytest.fixture(scope="module")
def two_vendors():
    handle = start_server(vendor_classes=[Qihoo360Cloud, FakeMower])
    yield handle
    handle.stop()


@pytest.fixture
def both(two_vendors):
    from simulator.pytest_plugin import SimClient

    client = SimClient(two_vendors.url)
    client.reset()
    return client


def test_each_vendor_gets_its_own_paths(both):
    http = session()
    assert http.get(both.url + "/v1/mowers").json()["code"] == 0
    assert http.post(both.url + "/common/dev/GetList").json()["errno"] == 102
    assert [e["vendor"] for e in both.requests()] == ["mammotion", "qihoo360"]


def test_tick_runs_before_every_vendor_call(both):
    http = session()
    first = http.get(both.url + "/v1/mowers").json()["data"]["ticks"]
    second = http.get(both.url + "/v1/mowers").json()["data"]["ticks"]
    assert second > first


def test_control_calls_are_delegated_by_prefix(both):
    assert both.control("POST", "mammotion/tokens/expire") == {
        "subpath": "tokens/expire",
        "method": "POST",
    }


def test_vendor_files_are_vendor_traffic_but_never_faulted(both):
    both.add_fault(vendor="mammotion", path="*", http_status=500, count=-1)
    response = session().get(both.url + "/_sim/mammotion/files/map/w1.png?expires=1&sig=ab")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    (entry,) = both.requests(vendor="mammotion")
    assert entry["path"] == "/_sim/mammotion/files/map/w1.png"
    assert entry["query"] == {"expires": "1", "sig": "ab"}


def test_fault_matcher_by_device_id(both):
    both.add_fault(vendor="mammotion", deviceId="dev-2", code=404, msg="device not found", count=-1)
    http = session()
    assert http.post(both.url + "/v1/mower/action", json={"deviceId": "dev-1"}).json()["code"] == 0
    assert http.post(both.url + "/v1/mower/action", json={"deviceId": "dev-2"}).json() == {
        "code": 404,
        "msg": "device not found",
        "data": None,
    }


def test_violations_of_any_vendor_are_collected(both):
    session().get(both.url + "/v1/mower/abc/work-params")
    (violation,) = both.violations()
    assert violation == {
        "vendor": "mammotion",
        "description": "work-params called",
        "method": "GET",
        "path": "/v1/mower/abc/work-params",
        "time": violation["time"],
    }


def test_knobs_reach_the_vendor_that_has_them(both):
    knobs = both.knobs(success_code=200, push_batch=True)
    assert knobs["mammotion"] == {"success_code": 200}
    assert knobs["qihoo360"]["push_batch"] is True
    assert session().get(both.url + "/v1/mowers").json()["code"] == 200


def test_a_crashing_model_answers_500_and_keeps_serving(both):
    http = session()
    response = http.get(both.url + "/v1/boom")
    assert response.status_code == 500
    assert "bug in the model" in response.json()["detail"]
    assert http.get(both.url + "/v1/mowers").status_code == 200


def test_missing_vendor_modules_are_skipped(monkeypatch):
    monkeypatch.setitem(core.VENDOR_MODULES, "ghost", ("simulator.ghost_vendor", "Ghost"))
    classes = core.load_vendor_classes(["qihoo360", "ghost"])
    assert classes == [Qihoo360Cloud]


def test_a_vendor_module_that_fails_to_import_is_not_hidden(monkeypatch):
    broken = types.ModuleType("simulator.broken_vendor")
    monkeypatch.setitem(sys.modules, "simulator.broken_vendor", broken)
    monkeypatch.setitem(core.VENDOR_MODULES, "broken", ("simulator.broken_vendor", "Missing"))
    with pytest.raises(AttributeError):
        core.load_vendor_classes(["broken"])
