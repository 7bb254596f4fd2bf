"""Mammotion surface A: user-server API (cloud-apis.md 4.3)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from devices.clouds import (
    AccountDeactivated,
    AuthExpired,
    CloudError,
    InvalidCredentials,
    LoginUnavailable,
    MammotionAccountClient,
    RateLimited,
    RegistrationError,
    TokenCheck,
    Unavailable,
    password_problem,
)

from . import samples
from .conftest import TIMEOUT, USER_API

LOGIN = f"{USER_API}/user/oauth/token"
PASSWORD = "Mower-Pass1"


@pytest.fixture
def account(session) -> MammotionAccountClient:
    return MammotionAccountClient(session, timeout=TIMEOUT, retry_pause=0)


def query_of(call) -> dict[str, str]:
    return {
        k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query, strict_parsing=True).items()
    }


# --- login (4.3.1) --------------------------------------------------------------------


def test_login_puts_everything_in_the_query_string_with_an_empty_body(mocked, account):
    mocked.post(LOGIN, json=samples.APP_LOGIN)
    account.login("owner+x@example.com", "p&ss=w rd")
    call = mocked.calls[0]
    assert urlsplit(call.request.url).path == "/user-server/v1/user/oauth/token"
    assert query_of(call) == {
        "username": "owner+x@example.com",
        "password": "p&ss=w rd",
        "client_id": "MADKALUBAS",
        "client_secret": "GshzGRZJjuMUgd2sYHM7",
        "grant_type": "password",
    }
    assert call.request.method == "POST"
    assert not call.request.body
    assert call.request.req_kwargs["timeout"] == TIMEOUT


def test_login_success_returns_tokens_expiry_and_region(mocked, account):
    mocked.post(LOGIN, json=samples.APP_LOGIN)
    before = datetime.now(UTC)
    login = account.login("owner@example.com", PASSWORD)
    assert login.access_token == "app-access-token-0001"
    assert login.refresh_token == "app-refresh-token-0001"
    assert (
        before + timedelta(seconds=1295990) < login.expires_at < before + timedelta(seconds=1296010)
    )
    assert (login.user.area_code, login.user.domain_abbreviation) == ("SWE", "SE")
    assert (login.user.user_id, login.user.email) == ("user-0001", "owner@example.com")
    assert "app-access-token" not in repr(login)


@pytest.mark.parametrize(
    ("msg", "error", "user_message"),
    [
        ("Account or password mismatch", InvalidCredentials, "Wrong email or password."),
        ("user NOT exist", InvalidCredentials, "No such Mammotion account."),
        (
            "Too many password verification errors, please try again in 5 minutes",
            RateLimited,
            "Locked for 5 minutes after repeated failures. Try again later.",
        ),
        (
            "Your account activity is abnormal and has been deactivated",
            AccountDeactivated,
            "Mammotion deactivated this account. Contact Mammotion support, then link it again.",
        ),
        ("ACCESS DENIED", CloudError, "Login refused by Mammotion."),
        ("Something new", CloudError, "Mammotion login failed: Something new"),
    ],
)
def test_login_failure_texts_map_to_product_messages(mocked, account, msg, error, user_message):
    mocked.post(LOGIN, json={"code": 500, "msg": msg})
    with pytest.raises(error) as info:
        account.login("owner@example.com", PASSWORD)
    assert info.value.user_message == user_message
    if error is RateLimited:
        assert info.value.retry_after == 300
    if error is InvalidCredentials:
        assert info.value.reason == "invalid_credentials"


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 404, "body": "Not Found"},
        {"status": 500, "json": {"code": 500}},
        {"status": 502, "body": "<html>Bad gateway</html>"},
        {"status": 200, "body": "<html>maintenance</html>"},
        {"status": 200, "body": ""},
        {"status": 200, "json": [1, 2]},
        {"status": 200, "json": {"unexpected": True}},
        {"status": 200, "json": {"code": 12345}},
        {"status": 200, "json": {"code": 0, "data": {}}},
    ],
)
def test_a_retired_legacy_login_is_unavailable_not_a_crash(mocked, account, answer):
    mocked.post(LOGIN, **answer)
    with pytest.raises(LoginUnavailable) as info:
        account.login("owner@example.com", PASSWORD)
    assert info.value.user_message == "Mammotion app-account login is currently unavailable."
    assert isinstance(info.value, Unavailable)
    assert len(mocked.calls) == 1  # logins are never retried


def test_login_transport_error_never_reveals_the_password(mocked, account):
    mocked.post(
        LOGIN,
        body=requests.ConnectionError(f"Max retries exceeded with url: /x?password={PASSWORD}"),
    )
    with pytest.raises(Unavailable) as info:
        account.login("owner@example.com", PASSWORD)
    assert PASSWORD not in str(info.value) and PASSWORD not in info.value.user_message
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert len(mocked.calls) == 1


# --- token check (4.3.5) --------------------------------------------------------------


def test_token_check_verified(mocked, account):
    mocked.post(
        f"{USER_API}/user/oauth/check", json={"code": 0, "data": True, "msg": "Request success"}
    )
    assert account.check_token("app-access-token-0001") is TokenCheck.VERIFIED
    request = mocked.calls[0].request
    assert request.headers["Authorization"] == "Bearer app-access-token-0001"
    assert not request.body


@pytest.mark.parametrize(
    "answer", [{"status": 401, "json": samples.UNAUTHORIZED}, {"json": samples.UNAUTHORIZED}]
)
def test_token_check_401_means_relink(mocked, account, answer):
    mocked.post(f"{USER_API}/user/oauth/check", **answer)
    with pytest.raises(AuthExpired) as info:
        account.check_token("app-access-token-0001")
    assert "Link the account again" in info.value.user_message


def test_token_check_404_is_not_verifiable_not_an_error(mocked, account):
    mocked.post(f"{USER_API}/user/oauth/check", status=404)
    assert account.check_token("app-access-token-0001") is TokenCheck.NOT_VERIFIABLE


@pytest.mark.parametrize(
    "answer",
    [{"json": {"code": 0, "data": False}}, {"json": {"code": 7, "msg": "x"}}, {"status": 418}],
)
def test_token_check_other_answers_are_generic_errors(mocked, account, answer):
    mocked.post(f"{USER_API}/user/oauth/check", **answer)
    with pytest.raises(CloudError) as info:
        account.check_token("app-access-token-0001")
    assert not isinstance(info.value, AuthExpired)


def test_token_check_deactivated(mocked, account):
    mocked.post(f"{USER_API}/user/oauth/check", json=samples.DEACTIVATED)
    with pytest.raises(AccountDeactivated):
        account.check_token("t0k3n-abc")


# --- regions and sign-up (4.3.2-4.3.4) ------------------------------------------------


def test_areas_are_sorted_by_english_name(mocked, account):
    body = copy.deepcopy(samples.AREAS)
    body["data"].append({"areaEnName": "no iso code"})
    mocked.get(f"{USER_API}/area", json=body)
    areas = account.list_areas()
    assert [a.name for a in areas] == ["Germany", "Sweden", "United States of America"]
    assert (areas[1].iso_code, areas[1].domain_abbreviation, areas[1].code) == ("SWE", "SE", "46")
    assert mocked.calls[0].request.method == "GET"


def test_registration_code_request(mocked, account):
    mocked.post(
        f"{USER_API}/email/register/code", json={"code": 0, "data": True, "msg": "Request success"}
    )
    account.request_registration_code("dash@example.com")
    assert query_of(mocked.calls[0]) == {"email": "dash@example.com"}
    assert not mocked.calls[0].request.body


def test_registration_code_too_often_is_a_cooldown(mocked, account):
    mocked.post(
        f"{USER_API}/email/register/code", json={"code": 40207, "msg": "Emails are sent too often"}
    )
    with pytest.raises(RateLimited) as info:
        account.request_registration_code("dash@example.com")
    assert info.value.retry_after == 60
    assert info.value.user_message.startswith("Mammotion sends codes at most once a minute.")


def test_register_sends_the_json_body(mocked, account):
    created = {
        "areaCode": "SWE",
        "createTime": "1",
        "domainAbbreviation": "SE",
        "email": "dash@example.com",
        "id": "9",
        "registerTime": "1",
        "userId": "u-9",
    }
    mocked.post(
        f"{USER_API}/email/register", json={"code": 0, "msg": "Request success", "data": created}
    )
    result = account.register(
        area_code="SWE",
        email="dash@example.com",
        full_name="Dashboard",
        password="Dash-board9",
        verification_code=" 123456 ",
    )
    request = mocked.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "areaCode": "SWE",
        "email": "dash@example.com",
        "fullName": "Dashboard",
        "password": "Dash-board9",
        "verificationCode": "123456",
    }
    assert (result.user_id, result.area_code) == ("u-9", "SWE")


@pytest.mark.parametrize(
    ("body", "field", "user_message"),
    [
        (
            {"code": 500, "msg": "Area information does not exist."},
            "areaCode",
            "Choose a country or region from the list.",
        ),
        (
            {"code": 500, "msg": "The email has been registered"},
            "email",
            "This email address already has a Mammotion account.",
        ),
        (
            {
                "code": 40302,
                "msg": "The password needs 8-16 digits, including at least any two types of letters, numbers and special characters.",
            },
            "password",
            "The password needs 8 to 16 characters with at least two of: letters, digits, other characters.",
        ),
        (
            {"code": 40200, "msg": "The verification code is invalid or expired, please reacquire"},
            "verificationCode",
            "The verification code is wrong or expired. Ask for a new one.",
        ),
    ],
)
def test_registration_errors_name_the_field(mocked, account, body, field, user_message):
    mocked.post(f"{USER_API}/email/register", json=body)
    with pytest.raises(RegistrationError) as info:
        account.register(
            area_code="XXX",
            email="d@example.com",
            full_name="D",
            password="Dash-board9",
            verification_code="1",
        )
    assert info.value.field == field
    assert info.value.user_message == user_message


def test_registration_checks_the_password_rule_before_sending(mocked, account):
    with pytest.raises(RegistrationError) as info:
        account.register(
            area_code="SWE",
            email="d@example.com",
            full_name="D",
            password="short",
            verification_code="1",
        )
    assert info.value.field == "password"
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("abcdefgh", False),
        ("12345678", False),
        ("abcd1234", True),
        ("abcd-efg", True),
        ("1234-567", True),
        ("Ab1!", False),
        ("abcdefghijklmno1", True),
        ("abcdefghijklmnop1", False),
        ("--------", False),
        # Only ASCII letters count as letters; ä/ö count as "other" (the server's
        # 40302 stays the final word if it disagrees).
        ("pässwörd", True),
        ("ääääåååå", False),
    ],
)
def test_local_password_rule(password, ok):
    assert (password_problem(password) is None) is ok
