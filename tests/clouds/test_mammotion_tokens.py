"""Mammotion Open API token lifecycle (cloud-apis.md 4.4.1 and 4.7)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import responses

from devices.clouds import (
    AccountDeactivated,
    AuthExpired,
    InMemoryTokenStore,
    InvalidCredentials,
    RateLimited,
    TokenSet,
    Unavailable,
)

from . import samples
from .conftest import CLIENT_ID, CLIENT_SECRET, OPEN_API, TOKEN_URL, make_mclient

MOWERS = f"{OPEN_API}/v1/mowers"


class Clock:
    def __init__(self):
        self.moment = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def tokens(
    clock: Clock,
    *,
    left_s: float,
    age_s: float = 3000,
    access="access-old-0001",
    refresh="refresh-old-0001",
) -> TokenSet:
    return TokenSet(
        access_token=access,
        refresh_token=refresh,
        expires_at=clock() + timedelta(seconds=left_s),
        obtained_at=clock() - timedelta(seconds=age_s),
    )


def token_body(n: int) -> dict:
    return {
        "code": 0,
        "msg": "Request success",
        "data": {
            "access_token": f"access-new-{n:04d}",
            "refresh_token": f"refresh-new-{n:04d}",
            "token_type": "Bearer",
            "expires_in": 3600,
        },
    }


def form_of(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body.decode(), strict_parsing=True).items()}


def token_calls(mocked) -> list:
    return [c for c in mocked.calls if c.request.url == TOKEN_URL]


def api_calls(mocked) -> list:
    return [c for c in mocked.calls if c.request.url.startswith(OPEN_API)]


def bearer(call) -> str:
    return call.request.headers["Authorization"].removeprefix("Bearer ")


def test_first_call_obtains_a_client_credentials_token(mocked, session, clock):
    store = InMemoryTokenStore()
    mocked.post(TOKEN_URL, json=token_body(1))
    mocked.get(MOWERS, json=samples.MOWERS)
    make_mclient(session, store, now=clock).list_devices()
    (call,) = token_calls(mocked)
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form_of(call) == {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": "client_credentials",
    }
    saved = store.load()
    assert saved.access_token == "access-new-0001" and saved.refresh_token == "refresh-new-0001"
    assert saved.expires_at == clock() + timedelta(seconds=3600) and saved.obtained_at == clock()
    assert bearer(api_calls(mocked)[0]) == "access-new-0001"


def test_a_fresh_token_is_used_without_a_token_request(mocked, session, clock):
    store = InMemoryTokenStore(tokens(clock, left_s=301))
    mocked.get(MOWERS, json=samples.MOWERS)
    client = make_mclient(session, store, now=clock)
    client.list_devices()
    assert token_calls(mocked) == [] and bearer(mocked.calls[0]) == "access-old-0001"
    assert client.requests_made == 1


def test_an_expiring_token_is_refreshed_and_the_rotated_token_persisted(mocked, session, clock):
    store = InMemoryTokenStore(tokens(clock, left_s=299))
    mocked.post(TOKEN_URL, json=token_body(2))
    mocked.get(MOWERS, json=samples.MOWERS)
    make_mclient(session, store, now=clock).list_devices()
    (call,) = token_calls(mocked)
    assert form_of(call) == {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": "refresh-old-0001",
    }
    assert store.load().refresh_token == "refresh-new-0002" and store.saves == 1
    assert bearer(api_calls(mocked)[0]) == "access-new-0002"


@pytest.mark.parametrize(
    "refresh_answer",
    [
        {"json": {"code": 40102, "msg": "Refresh token has expired"}},
        {"json": {"code": 400, "msg": "refresh_token is invalid"}},
        {"status": 400, "json": {"error": "invalid_grant"}},
        {"json": {"code": 401, "msg": "Unauthorized"}},
        {"json": [1]},
    ],
)
def test_a_refused_refresh_falls_back_to_client_credentials(mocked, session, clock, refresh_answer):
    store = InMemoryTokenStore(tokens(clock, left_s=-10))
    mocked.post(TOKEN_URL, **refresh_answer)
    mocked.post(TOKEN_URL, json=token_body(3))
    mocked.get(MOWERS, json=samples.MOWERS)
    make_mclient(session, store, now=clock).list_devices()
    grants = [form_of(c)["grant_type"] for c in token_calls(mocked)]
    assert grants == ["refresh_token", "client_credentials"]
    assert store.load().access_token == "access-new-0003"


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 401, "json": {"code": 40101, "msg": "invalid client"}},
        {"status": 403, "body": "Forbidden"},
        {"json": {"code": 40101, "msg": "invalid client"}},
        {"json": {"code": 1, "msg": "invalid_client"}},
    ],
)
def test_invalid_client_is_invalid_credentials_without_fallback(mocked, session, clock, answer):
    store = InMemoryTokenStore(tokens(clock, left_s=-10))
    mocked.post(TOKEN_URL, **answer)
    with pytest.raises(InvalidCredentials) as info:
        make_mclient(session, store, now=clock).list_devices()
    assert info.value.reason == "invalid_credentials" and isinstance(info.value, AuthExpired)
    assert (
        info.value.user_message
        == "Mammotion rejected the API client id or secret. Paste them again."
    )
    assert len(token_calls(mocked)) == 1 and api_calls(mocked) == []
    assert CLIENT_SECRET not in str(info.value)


def test_a_deactivated_account_at_the_token_endpoint(mocked, session, clock):
    mocked.post(TOKEN_URL, json=samples.DEACTIVATED)
    with pytest.raises(AccountDeactivated) as info:
        make_mclient(session, InMemoryTokenStore(), now=clock).list_devices()
    assert info.value.reason == "deactivated"


def test_a_transient_failure_keeps_using_a_still_valid_token(mocked, session, clock):
    store = InMemoryTokenStore(tokens(clock, left_s=200))
    mocked.post(TOKEN_URL, status=503)
    mocked.get(MOWERS, json=samples.MOWERS)
    make_mclient(session, store, now=clock).list_devices()
    assert len(token_calls(mocked)) == 1  # no fallback on a transient failure
    assert bearer(api_calls(mocked)[0]) == "access-old-0001"


def test_a_transient_failure_with_an_expired_token_is_unavailable(mocked, session, clock):
    store = InMemoryTokenStore(tokens(clock, left_s=-1))
    mocked.post(TOKEN_URL, status=503, headers={"Retry-After": "20"})
    with pytest.raises(Unavailable) as info:
        make_mclient(session, store, now=clock).list_devices()
    assert info.value.retry_after == 20 and len(mocked.calls) == 1


def test_at_most_one_token_request_per_30_seconds(mocked, session, clock):
    store = InMemoryTokenStore(tokens(clock, left_s=-1))
    mocked.post(TOKEN_URL, status=502)
    client = make_mclient(session, store, now=clock)
    with pytest.raises(Unavailable):
        client.list_devices()
    clock.advance(29)
    with pytest.raises(RateLimited) as info:
        client.list_devices()
    assert len(mocked.calls) == 1 and info.value.retry_after == pytest.approx(1)
    clock.advance(2)
    mocked.replace(responses.POST, TOKEN_URL, json=token_body(4))
    mocked.get(MOWERS, json=samples.MOWERS)
    client.list_devices()
    assert len(token_calls(mocked)) == 2


def test_a_token_obtained_moments_ago_is_not_renewed_again(mocked, session, clock):
    # A server granting short tokens must not turn every call into a token request.
    store = InMemoryTokenStore(tokens(clock, left_s=120, age_s=5))
    mocked.get(MOWERS, json=samples.MOWERS)
    make_mclient(session, store, now=clock).list_devices()
    assert token_calls(mocked) == []


@pytest.mark.parametrize(
    "unauthorized", [{"status": 401, "json": samples.UNAUTHORIZED}, {"json": samples.UNAUTHORIZED}]
)
def test_a_401_renews_and_retries_once(mocked, session, clock, unauthorized):
    store = InMemoryTokenStore(tokens(clock, left_s=3000, age_s=5))
    mocked.get(MOWERS, **unauthorized)
    mocked.get(MOWERS, json=samples.MOWERS)
    mocked.post(TOKEN_URL, json=token_body(5))
    devices = make_mclient(session, store, now=clock).list_devices()
    assert len(devices) == 2
    assert [bearer(c) for c in api_calls(mocked)] == ["access-old-0001", "access-new-0005"]
    assert len(token_calls(mocked)) == 1  # allowed although the token is 5 s old
    assert store.load().refresh_token == "refresh-new-0005"


def test_an_api_that_always_answers_401_gets_one_retry_then_auth_expired(mocked, session, clock):
    store = InMemoryTokenStore(tokens(clock, left_s=3000))
    mocked.get(MOWERS, status=401, json=samples.UNAUTHORIZED)
    mocked.post(TOKEN_URL, json=token_body(6))
    with pytest.raises(AuthExpired) as info:
        make_mclient(session, store, now=clock).list_devices()
    assert len(api_calls(mocked)) == 2 and len(token_calls(mocked)) == 1
    assert (
        info.value.user_message
        == "Mammotion keeps rejecting this API client. Link the account again."
    )
    assert info.value.retryable is False


def test_a_401_after_another_worker_renewed_uses_the_stored_token(mocked, session, clock):
    store = InMemoryTokenStore(tokens(clock, left_s=3000))
    client = make_mclient(session, store, now=clock)

    def renewed_elsewhere(request):
        store.save(tokens(clock, left_s=3600, age_s=1, access="access-other-worker", refresh="r2"))
        return (401, {}, '{"code":401,"msg":"Unauthorized"}')

    mocked.add_callback(responses.GET, MOWERS, callback=renewed_elsewhere)
    mocked.get(MOWERS, json=samples.MOWERS)
    client.list_devices()
    assert token_calls(mocked) == []
    assert bearer(api_calls(mocked)[1]) == "access-other-worker"


def test_a_refresh_answer_without_refresh_token_leads_to_client_credentials_next(
    mocked, session, clock
):
    store = InMemoryTokenStore(tokens(clock, left_s=-1))
    mocked.post(
        TOKEN_URL, json={"access_token": "flat-access", "expires_in": 3600}
    )  # bare OAuth body
    mocked.get(MOWERS, json=samples.MOWERS)
    client = make_mclient(session, store, now=clock)
    client.list_devices()
    assert store.load().access_token == "flat-access" and store.load().refresh_token is None
    clock.advance(3600)
    mocked.replace(responses.POST, TOKEN_URL, json=token_body(7))
    client.list_devices()
    assert form_of(token_calls(mocked)[-1])["grant_type"] == "client_credentials"


def test_token_set_repr_hides_secrets(clock):
    text = repr(tokens(clock, left_s=10))
    assert "access-old" not in text and "refresh-old" not in text


def test_two_workers_with_an_expiring_token_make_exactly_one_token_request(mocked, session):
    """R6: both succeed, one token request, the stored refresh token is the newest."""
    now = datetime.now(UTC)
    store = InMemoryTokenStore(
        TokenSet(
            access_token="access-old-0001",
            refresh_token="refresh-old-0001",
            expires_at=now + timedelta(minutes=2),
            obtained_at=now - timedelta(minutes=58),
        )
    )
    counter = {"n": 0}
    lock = threading.Lock()

    def grant(request):
        with lock:
            counter["n"] += 1
            n = counter["n"]
        time.sleep(0.2)  # keep the other worker waiting on the store's lock
        import json

        return (200, {}, json.dumps(token_body(10 + n)))

    mocked.add_callback(responses.POST, TOKEN_URL, callback=grant)
    mocked.get(MOWERS, json=samples.MOWERS)
    clients = [make_mclient(session_i, store) for session_i in (session, type(session)())]
    start = threading.Barrier(2)
    results, errors = [], []

    def work(client):
        start.wait()
        try:
            results.append(client.list_devices())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert errors == [] and len(results) == 2
    assert counter["n"] == 1 and len(token_calls(mocked)) == 1
    assert store.load().refresh_token == "refresh-new-0011"
    assert {bearer(c) for c in api_calls(mocked)} == {"access-new-0011"}
