"""The Mammotion model behind the real simulator server, over HTTP on 127.0.0.1."""

import pytest
import requests

# The `sim` fixture (simulator.pytest_plugin) comes from tests/simulator/conftest.py.

USER = "/user-server/v1"
LUBA, YUKA = "Luba-VS5K8D2M1", "Yuka-MV27A3F9K2"


@pytest.fixture
def http():
    session = requests.Session()
    session.trust_env = False  # loopback only: never through a proxy
    yield session
    session.close()


def device_ids(sim):
    devices = sim.control("GET", "mammotion/devices")["devices"]
    return {d["name"]: d["deviceId"] for d in devices}


def open_token(sim, http):
    form = {
        "client_id": "sim-client-1",
        "client_secret": "sim-secret-1",
        "grant_type": "client_credentials",
    }
    response = http.post(f"{sim.url}/oauth2/token", data=form, timeout=5)
    assert response.status_code == 200
    return response.json()["data"]["access_token"]


def call(sim, http, token, method, path, body=None):
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en-US"}
    response = http.request(method, sim.url + path, json=body, headers=headers, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def test_app_login_and_check_over_http(sim, http):
    query = {
        "username": "owner@example.com",
        "password": "Mower-Pass1",
        "client_id": "MADKALUBAS",
        "client_secret": "GshzGRZJjuMUgd2sYHM7",
        "grant_type": "password",
    }
    login = http.post(f"{sim.url}{USER}/user/oauth/token", params=query, timeout=5).json()
    token = login["data"]["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    check = http.post(f"{sim.url}{USER}/user/oauth/check", headers=headers, timeout=5)
    assert check.json() == {"code": 0, "data": True, "msg": "Request success"}
    sim.knobs(oauth_check="404")
    assert (
        http.post(f"{sim.url}{USER}/user/oauth/check", headers=headers, timeout=5).status_code
        == 404
    )


def test_registration_code_through_the_mailbox_control(sim, http):
    url = f"{sim.url}{USER}/email/register/code"
    assert http.post(url, params={"email": "d@example.com"}, timeout=5).json()["code"] == 0
    mailbox = sim.control("GET", "mammotion/mailbox?email=d%40example.com")
    assert len(mailbox["latestCode"]) == 6


def test_action_clock_and_report_over_http(sim, http):
    sim.knobs(token_ttl=86400)
    token = open_token(sim, http)
    luba = device_ids(sim)[LUBA]
    body = {"deviceId": luba, "action": "START", "params": {"taskName": "Edges only"}}
    result = call(sim, http, token, "POST", "/v1/mower/action", body)["data"]
    assert result == {"commandResult": True, "resultMessage": "Success"}
    sim.advance(3600)
    detail = call(sim, http, token, "GET", f"/v1/mower/{luba}")["data"]
    assert detail["status"] == "Returning"
    search = {"deviceId": luba, "pageNumber": 1, "pageSize": 1}
    newest = call(sim, http, token, "POST", "/v1/mower/work-reports/search", search)
    record = newest["data"]["records"][0]
    assert record["workResult"] == 5 and record["workArea"] == 150.0


def test_map_file_is_served_and_expires(sim, http):
    token = open_token(sim, http)
    luba = device_ids(sim)[LUBA]
    search = {"deviceId": luba}
    work_id = call(sim, http, token, "POST", "/v1/mower/work-reports/search", search)["data"][
        "records"
    ][0]["workId"]
    detail = call(sim, http, token, "GET", f"/v1/mower/{luba}/work-reports/{work_id}")["data"]
    url = detail["mapFilePath"]
    assert url.startswith(sim.url + "/_sim/mammotion/files/map/")
    image = http.get(url, timeout=5)
    assert image.status_code == 200 and image.headers["Content-Type"].startswith("image/png")
    assert image.content.startswith(b"\x89PNG")
    sim.advance(15 * 60 + 5)
    assert http.get(url, timeout=5).status_code == 403


def test_work_params_is_a_violation_and_faults_match_device_ids(sim, http):
    token = open_token(sim, http)
    ids = device_ids(sim)
    call(sim, http, token, "GET", f"/v1/mower/{ids[LUBA]}/work-params")
    assert [v["vendor"] for v in sim.violations()] == ["mammotion"]
    sim.add_fault(vendor="mammotion", path="/v1/mower/*", deviceId=ids[YUKA], code=500, count=-1)
    assert call(sim, http, token, "GET", f"/v1/mower/{ids[YUKA]}")["code"] == 500
    assert call(sim, http, token, "GET", f"/v1/mower/{ids[LUBA]}")["code"] == 0
    sim.add_fault(vendor="mammotion", path="/oauth2/token", account="sim-client-1", http_status=503)
    form = {"client_id": "sim-client-1", "client_secret": "x", "grant_type": "client_credentials"}
    assert http.post(f"{sim.url}/oauth2/token", data=form, timeout=5).status_code == 503


def test_knobs_and_state_through_the_common_api(sim, http):
    knobs = sim.knobs(success_code=200, detail_as_list=True)
    assert knobs["mammotion"]["success_code"] == 200
    token = open_token(sim, http)
    luba = device_ids(sim)[LUBA]
    body = call(sim, http, token, "GET", f"/v1/mower/{luba}")
    assert body["code"] == 200 and isinstance(body["data"], list)
    state = sim.state()["vendors"]["mammotion"]
    assert state["devices"][luba]["name"] == LUBA
    sim.reset()
    assert sim.knobs()["mammotion"]["success_code"] == 0
