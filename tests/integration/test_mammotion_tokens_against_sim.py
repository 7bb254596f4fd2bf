"""Open API tokens of ``MammotionClient`` (cloud-apis.md 4.4.1, 4.7) against the simulator.

5.5 scenario 8: expiry renewal, refresh-token rotation, 40102 -> client credentials,
invalid client, 401 -> one retry, and one token request for two concurrent workers.
The client's clock mirrors the simulator's frozen clock (``SimTime``).
"""

from __future__ import annotations

import threading

import pytest

from devices.clouds import AuthExpired, InMemoryTokenStore, InvalidCredentials, RateLimited

from .conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    grants,
    logged,
    mammotion_client,
    new_session,
    raises_with,
)

MOWERS = "/v1/mowers"
TOKEN = "/oauth2/token"
KEEPS_REJECTING = "Mammotion keeps rejecting this API client. Link the account again."
BAD_CLIENT = "Mammotion rejected the API client id or secret. Paste them again."


@pytest.fixture
def store() -> InMemoryTokenStore:
    return InMemoryTokenStore()


@pytest.fixture
def client(sim, http, store, sim_time):
    return mammotion_client(sim, http, store, now=sim_time.now)


def test_first_call_gets_a_client_credentials_token(sim, client, store):
    assert len(client.list_devices()) == 4
    assert grants(sim) == ["client_credentials"]
    (entry,) = logged(sim, TOKEN)
    assert entry["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert entry["body"]["client_id"] == CLIENT_ID and entry["body"]["client_secret"] == "sim-…"
    tokens = store.load()
    assert tokens.access_token.count(".") == 2 and tokens.refresh_token
    assert store.saves == 1
    (api,) = logged(sim, MOWERS)
    assert api["headers"]["authorization"] == f"Bearer {tokens.access_token[:4]}…"
    # A second call reuses the token.
    client.list_devices()
    assert grants(sim) == ["client_credentials"]


def test_a_token_near_expiry_is_renewed_with_the_rotating_refresh_token(
    sim, http, client, store, sim_time
):
    sim.knobs(token_ttl=600)
    client.list_devices()
    first = store.load()
    sim_time.advance(400)  # 200 s left: less than the 5 minutes of 4.7
    client.list_devices()

    assert grants(sim) == ["client_credentials", "refresh_token"]
    second = store.load()
    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token  # rotated and persisted
    assert store.saves == 2
    assert [entry["status"] for entry in logged(sim, MOWERS)] == [200, 200]

    # The old refresh token is dead now (rotation, 4.4.1).
    reused = http.post(
        sim.url + TOKEN,
        data={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": first.refresh_token,
        },
        timeout=5,
    ).json()
    assert (reused["code"], reused["msg"]) == (40102, "Refresh token has expired")


def test_an_expired_token_is_renewed_before_the_call(sim, client, store, sim_time):
    sim.knobs(token_ttl=600)
    client.list_devices()
    sim_time.advance(700)  # already expired on both clocks
    client.list_devices()
    assert grants(sim) == ["client_credentials", "refresh_token"]
    assert [entry["status"] for entry in logged(sim, MOWERS)] == [200, 200]


def test_no_more_than_one_token_request_per_30_seconds(sim, client, sim_time):
    sim.knobs(token_ttl=200)  # always inside the 5-minute renewal window
    client.list_devices()
    sim_time.advance(10)
    client.list_devices()  # wants renewal, but the current token is still valid
    assert grants(sim) == ["client_credentials"]
    sim_time.advance(25)
    client.list_devices()
    assert grants(sim) == ["client_credentials", "refresh_token"]


def test_an_expired_token_inside_the_30_seconds_is_rate_limited(sim, client, sim_time):
    sim.knobs(token_ttl=5)
    client.list_devices()
    sim_time.advance(10)
    error = raises_with(RateLimited, client.list_devices)
    assert 0 < error.retry_after <= 30
    assert error.user_message == "Mammotion sign-in is being renewed. Try again in a minute."
    assert grants(sim) == ["client_credentials"] and len(logged(sim, MOWERS)) == 1


def test_server_side_expiry_is_a_401_then_one_renewal_and_one_retry(sim, client, store):
    client.list_devices()
    used = store.load().access_token
    sim.control("POST", "mammotion/tokens/expire", {"client_id": CLIENT_ID})
    assert len(client.list_devices()) == 4
    assert [entry["status"] for entry in logged(sim, MOWERS)] == [200, 401, 200]
    assert grants(sim) == ["client_credentials", "refresh_token"]  # right after the 401
    assert store.load().access_token != used


def test_a_rejected_refresh_falls_back_to_client_credentials(sim, client, store, sim_time):
    sim.knobs(token_ttl=600)
    client.list_devices()
    old_refresh = store.load().refresh_token
    sim.control("POST", "mammotion/refresh/reject-next")
    sim_time.advance(400)
    assert len(client.list_devices()) == 4
    assert grants(sim) == ["client_credentials", "refresh_token", "client_credentials"]
    statuses = [entry["status"] for entry in logged(sim, TOKEN)]
    assert statuses == [200, 200, 200]  # 40102 comes as HTTP 200 with a body code
    assert store.load().refresh_token != old_refresh


def test_disabled_credentials_are_invalid_credentials(sim, client, store):
    client.list_devices()
    sim.control("POST", f"mammotion/credentials/{CLIENT_ID}/disable")
    error = raises_with(InvalidCredentials, client.list_devices)
    assert error.reason == "invalid_credentials" and error.user_message == BAD_CLIENT
    assert error.http_status == 401 and not error.retryable
    assert [entry["status"] for entry in logged(sim, MOWERS)] == [200, 401]
    assert [entry["status"] for entry in logged(sim, TOKEN)] == [200, 401]


def test_a_wrong_secret_is_invalid_credentials_before_any_api_call(sim, http, sim_time):
    client = mammotion_client(sim, http, client_secret="not-the-secret", now=sim_time.now)
    error = raises_with(InvalidCredentials, client.list_devices)
    assert error.user_message == BAD_CLIENT
    assert logged(sim, MOWERS) == [] and len(logged(sim, TOKEN)) == 1


@pytest.mark.parametrize("fault", [{"http_status": 401}, {"code": 401, "msg": "Unauthorized"}])
def test_a_single_401_is_retried_once_with_a_new_token(sim, client, fault):
    client.list_devices()
    sim.add_fault(vendor="mammotion", path=MOWERS, **fault)
    assert len(client.list_devices()) == 4
    assert len(logged(sim, MOWERS)) == 3
    assert grants(sim) == ["client_credentials", "refresh_token"]


@pytest.mark.parametrize("fault", [{"http_status": 401}, {"code": 401, "msg": "Unauthorized"}])
def test_a_second_401_is_auth_expired_without_a_loop(sim, client, fault):
    sim.add_fault(vendor="mammotion", path=MOWERS, count=-1, **fault)
    error = raises_with(AuthExpired, client.list_devices)
    assert error.user_message == KEEPS_REJECTING and not error.retryable
    assert len(logged(sim, MOWERS)) == 2
    assert grants(sim) == ["client_credentials", "refresh_token"]


def run_in_threads(calls, count: int = 2):
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def worker(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not errors, errors
    return results


def test_two_workers_with_an_expiring_token_make_one_token_request(sim, store, sim_time):
    sim.knobs(token_ttl=600)
    with new_session() as first_http, new_session() as second_http:
        workers = [
            mammotion_client(sim, first_http, store, now=sim_time.now),
            mammotion_client(sim, second_http, store, now=sim_time.now),
        ]
        workers[0].list_devices()
        sim_time.advance(400)
        results = run_in_threads([w.list_devices for w in workers])
    assert [len(devices) for devices in results] == [4, 4]
    assert grants(sim) == ["client_credentials", "refresh_token"]
    assert store.saves == 2


def test_two_workers_hit_by_a_401_make_one_token_request(sim, store, sim_time):
    with new_session() as first_http, new_session() as second_http:
        workers = [
            mammotion_client(sim, first_http, store, now=sim_time.now),
            mammotion_client(sim, second_http, store, now=sim_time.now),
        ]
        workers[0].list_devices()
        sim.control("POST", "mammotion/tokens/expire")
        results = run_in_threads([w.list_devices for w in workers])
    assert [len(devices) for devices in results] == [4, 4]
    assert grants(sim) == ["client_credentials", "refresh_token"]
