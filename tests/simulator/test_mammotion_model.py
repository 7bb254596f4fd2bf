"""Mammotion simulator model as a whole: seed, determinism, reset, knobs, controls, scale."""

import json
import time

import pytest

from simulator.interface import Clock, SimRequest
from simulator.mammotion import MammotionCloud
from simulator.mammotion_testing import START, Harness

LUBA, YUKA = "Luba-VS5K8D2M1", "Yuka-MV27A3F9K2"


def everything(cloud: Harness) -> dict:
    """All seeded read data of sim-client-1 (history, faults, details) as one object."""
    token = cloud.open_token()
    out = {"mowers": cloud.api("GET", "/v1/mowers", token)["data"]}
    for device in out["mowers"]:
        body = {"deviceId": device["id"], "pageSize": 100}
        pages = []
        for page in range(1, 5):
            found = cloud.api(
                "POST", "/v1/mower/work-reports/search", token, json=body | {"pageNumber": page}
            )["data"]["records"]
            pages += found
        first = pages[0]["workId"] if pages else None
        detail = (
            cloud.api("GET", f"/v1/mower/{device['id']}/work-reports/{first}", token)["data"]
            if first
            else None
        )
        if detail:
            detail.pop("mapFilePath")  # signed with a per-instance key
        faults = cloud.api("POST", "/v1/mower/error-codes/search", token, json=body)["data"]
        out[device["id"]] = {"reports": pages, "detail": detail, "faults": faults}
    return out


def test_construction_is_fast_and_history_is_lazy():
    began = time.perf_counter()
    cloud = Harness()
    assert time.perf_counter() - began < 0.5
    assert all(m.seeded is None for m in cloud.world.devices.values())


def test_identical_seed_gives_identical_data():
    assert everything(Harness(seed=7)) == everything(Harness(seed=7))


def test_other_seed_gives_other_ids_and_history():
    one, two = Harness(seed=1), Harness(seed=2)
    assert one.device_id(LUBA) != two.device_id(LUBA)
    assert everything(one) != everything(two)


def test_history_ends_at_the_clock_start():
    cloud = Harness(start=START + 5 * 86400)
    data = everything(cloud)
    ends = [r["endWorkTime"] for m in data["mowers"] for r in data[m["id"]]["reports"]]
    assert ends and max(ends) < (START + 5 * 86400) * 1000
    assert max(ends) > (START + 3 * 86400) * 1000


def test_reset_restores_the_seed():
    cloud = Harness()
    token = cloud.open_token()
    luba = cloud.device_id(LUBA)
    cloud.action(token, luba, "CMD_START")
    cloud.cloud.set_knobs({"success_code": 200})
    cloud.control("POST", "accounts/owner@example.com/deactivate")
    cloud.cloud.reset()
    assert cloud.cloud.set_knobs({})["success_code"] == 0
    assert cloud.request("GET", "/v1/mowers", token=token).status == 401  # tokens are gone
    token = cloud.open_token()
    assert cloud.detail(token, luba)["status"] == "Standby"
    assert cloud.login("owner@example.com", "Mower-Pass1").body["code"] == 0


def test_set_knobs_validates_and_returns_all_knobs():
    cloud = Harness()
    knobs = cloud.cloud.set_knobs({"reject_report_forms": "range,paging", "extra_statuses": "1"})
    assert knobs["reject_report_forms"] == ["range", "paging"] and knobs["extra_statuses"] is True
    assert set(knobs) >= {
        "success_code",
        "detail_as_list",
        "extra_statuses",
        "request_id_as_number",
        "token_ttl",
        "oauth_check",
        "legacy_login",
        "single_session",
        "reject_report_forms",
        "strict_actions",
    }
    for bad in ({"success_code": 1}, {"oauth_check": "maybe"}, {"reject_report_forms": ["x"]}):
        with pytest.raises(ValueError):
            cloud.cloud.set_knobs(bad)
    with pytest.raises(ValueError):
        cloud.cloud.set_knobs({"detail_as_list": True, "token_ttl": 0})
    assert cloud.cloud.set_knobs({})["detail_as_list"] is False  # all or nothing
    assert "push_encrypt" not in cloud.cloud.set_knobs({"push_encrypt": 0})


def test_match_keys():
    cloud = Harness()
    token = cloud.open_token()
    luba = cloud.device_id(LUBA)
    keys = cloud.cloud.match_keys
    bearer = {"authorization": f"Bearer {token}"}
    body = json.dumps({"deviceId": luba, "action": "STOP"}).encode()
    action = SimRequest("POST", "/v1/mower/action", headers=bearer, body=body)
    assert keys(action) == {"deviceId": luba, "account": "sim-client-1"}
    detail = SimRequest("GET", f"/v1/mower/{luba}/work-reports/1", headers=bearer)
    assert keys(detail) == {"deviceId": luba, "account": "sim-client-1"}
    assert keys(SimRequest("GET", "/v1/mowers", headers=bearer)) == {"account": "sim-client-1"}
    login = SimRequest("POST", "/user-server/v1/user/oauth/token", query={"username": "A@x.io"})
    assert keys(login) == {"account": "a@x.io"}
    grant = SimRequest("POST", "/oauth2/token", body=b"client_id=sim-client-1&grant_type=x")
    assert keys(grant) == {"account": "sim-client-1"}


def test_state_is_json_serialisable_and_describes_devices():
    cloud = Harness()
    state = json.loads(json.dumps(cloud.cloud.state()))
    names = {d["name"]: d for d in state["devices"].values()}
    assert names[YUKA]["status"] == "Working" and names[YUKA]["job"]["taskName"] == "Whole garden"
    assert state["credentials"]["sim-client-1"]["account"] == "owner@example.com"


def test_owns_only_mammotion_paths():
    cloud = Harness().cloud
    assert cloud.owns("/user-server/v1/area") and cloud.owns("/oauth2/token")
    assert cloud.owns("/v1/mowers")
    assert not cloud.owns("/clean/cmd/send") and not cloud.owns("/common/dev/GetList")


def test_devices_control_lists_ids():
    cloud = Harness()
    devices = cloud.control("GET", "devices").body["devices"]
    assert {d["name"] for d in devices} >= {LUBA, YUKA}
    assert cloud.control("POST", "nothing/here").status == 404


def test_credentials_control_links_shared_mowers_to_a_second_account():
    cloud = Harness()
    luba = cloud.device_id(LUBA)
    body = {"email": "owner@example.com", "deviceIds": [luba], "client_id": "mine"}
    created = cloud.control("POST", "credentials", json=body).body
    token = cloud.open_token(created["client_id"], created["client_secret"])
    assert [d["id"] for d in cloud.api("GET", "/v1/mowers", token)["data"]] == [luba]


def test_generate_adds_credentials_with_lazy_history_quickly():
    cloud = Harness()
    began = time.perf_counter()
    body = {"credentials": 200, "mowers": 5, "reports": 50}
    created = cloud.control("POST", "generate", json=body).body["credentials"]
    assert time.perf_counter() - began < 1.0
    assert len(created) == 200 and created[0]["client_id"] == "sim-client-gen-0"
    last = created[-1]
    token = cloud.open_token(last["client_id"], last["client_secret"])
    device = last["deviceIds"][0]
    body = {"deviceId": device, "pageSize": 100}
    found = cloud.api("POST", "/v1/mower/work-reports/search", token, json=body)["data"]
    assert found["total"] == 50
    more = cloud.control("POST", "generate", json={"credentials": 1}).body["credentials"]
    assert more[0]["client_id"] == "sim-client-gen-200"


def test_tick_cost_does_not_grow_with_idle_generated_mowers():
    cloud = Harness()
    cloud.control("POST", "generate", json={"credentials": 500, "mowers": 4, "reports": 10})
    began = time.perf_counter()
    for _ in range(1000):
        cloud.cloud.tick()
    assert time.perf_counter() - began < 0.2


def test_constructor_matches_the_core_contract():
    cloud = MammotionCloud(Clock(start=START, speed=0), 3, lambda: "http://x", lambda v, d: None)
    assert cloud.name == "mammotion" and cloud.control_prefix == "mammotion"
