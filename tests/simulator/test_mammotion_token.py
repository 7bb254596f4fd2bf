"""Mammotion token host in the simulator: docs/cloud-apis.md §4.4.1, §5.4.3."""

import base64
import json

import pytest

from simulator.mammotion_testing import Harness


@pytest.fixture
def cloud():
    return Harness()


def grant(cloud, **fields):
    base = {"client_id": "sim-client-1", "client_secret": "sim-secret-1"}
    return cloud.token_response(**(base | fields))


def mowers(cloud, token):
    return cloud.request("GET", "/v1/mowers", token=token)


def test_client_credentials_grant(cloud):
    response = grant(cloud, grant_type="client_credentials")
    assert response.status == 200
    body = response.body
    assert body["code"] == 0 and body["msg"] == "Request success"
    data = body["data"]
    assert data["token_type"] == "Bearer" and data["expires_in"] == 3600
    header, payload, signature = data["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["client_id"] == "sim-client-1" and signature
    assert data["refresh_token"] and "." not in data["refresh_token"]
    assert mowers(cloud, data["access_token"]).status == 200


def test_token_ttl_knob_and_expiry(cloud):
    cloud.cloud.set_knobs({"token_ttl": 120})
    data = grant(cloud, grant_type="client_credentials").body["data"]
    assert data["expires_in"] == 120
    cloud.advance(119)
    assert mowers(cloud, data["access_token"]).status == 200
    cloud.advance(2)
    response = mowers(cloud, data["access_token"])
    assert response.status == 401 and response.body == {"code": 401, "msg": "Unauthorized"}


def test_refresh_rotates_and_reuse_is_40102(cloud):
    first = grant(cloud, grant_type="client_credentials").body["data"]
    refreshed = grant(cloud, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert refreshed.body["code"] == 0
    second = refreshed.body["data"]
    assert second["refresh_token"] != first["refresh_token"]
    assert mowers(cloud, second["access_token"]).status == 200
    reuse = grant(cloud, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reuse.status == 200
    assert reuse.body["code"] == 40102 and reuse.body["msg"] == "Refresh token has expired"
    again = grant(cloud, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert again.body["code"] == 0


def test_refresh_token_of_another_client_is_refused(cloud):
    other = cloud.token_response(
        client_id="sim-client-empty",
        client_secret="sim-secret-empty",
        grant_type="client_credentials",
    ).body["data"]
    response = grant(cloud, grant_type="refresh_token", refresh_token=other["refresh_token"])
    assert response.body["code"] == 40102


def test_reject_next_refresh_control(cloud):
    first = grant(cloud, grant_type="client_credentials").body["data"]
    assert cloud.control("POST", "refresh/reject-next").status == 200
    response = grant(cloud, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert response.body["code"] == 40102
    # Falling back to client credentials always works (§4.4.1), and only one refresh failed.
    fresh = grant(cloud, grant_type="client_credentials").body["data"]
    ok = grant(cloud, grant_type="refresh_token", refresh_token=fresh["refresh_token"])
    assert ok.body["code"] == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"client_id": "nobody", "client_secret": "x", "grant_type": "client_credentials"},
        {"client_id": "sim-client-1", "client_secret": "x", "grant_type": "client_credentials"},
    ],
)
def test_invalid_client_is_http_401_40101(cloud, fields):
    response = cloud.token_response(**fields)
    assert response.status == 401
    assert response.body == {"code": 40101, "msg": "invalid client"}


@pytest.mark.parametrize("missing", ["client_id", "client_secret", "grant_type"])
def test_missing_field_is_code_400(cloud, missing):
    fields = {
        "client_id": "sim-client-1",
        "client_secret": "sim-secret-1",
        "grant_type": "client_credentials",
    }
    del fields[missing]
    body = cloud.token_response(**fields).body
    assert body["code"] == 400 and body["msg"] == f"{missing} is required"


def test_missing_refresh_token_and_unknown_grant(cloud):
    assert grant(cloud, grant_type="refresh_token").body["msg"] == "refresh_token is required"
    assert grant(cloud, grant_type="password").body["code"] == 400


def test_disabled_credentials_are_an_invalid_client(cloud):
    token = cloud.open_token()
    assert cloud.control("POST", "credentials/sim-client-1/disable").status == 200
    assert grant(cloud, grant_type="client_credentials").status == 401
    assert mowers(cloud, token).status == 401
    cloud.control("POST", "credentials/sim-client-1/enable")
    assert grant(cloud, grant_type="client_credentials").status == 200


def test_tokens_expire_control_optionally_per_client(cloud):
    mine = cloud.open_token()
    other = cloud.open_token("sim-client-empty", "sim-secret-empty")
    body = cloud.control("POST", "tokens/expire", json={"client_id": "sim-client-empty"}).body
    assert body["expired"] == 1
    assert mowers(cloud, mine).status == 200 and mowers(cloud, other).status == 401
    cloud.control("POST", "tokens/expire")
    assert mowers(cloud, mine).status == 401


def test_success_code_200_applies_to_the_token_host(cloud):
    cloud.cloud.set_knobs({"success_code": 200})
    body = grant(cloud, grant_type="client_credentials").body
    assert body["code"] == 200 and body["msg"] == "Success"


def test_deactivated_account_blocks_its_credentials(cloud):
    cloud.control("POST", "accounts/owner@example.com/deactivate")
    body = grant(cloud, grant_type="client_credentials").body
    assert body["code"] == 500 and "deactivated" in body["msg"]
