"""``MammotionAccountClient`` (surface A, cloud-apis.md 4.3) against the simulator.

5.5 scenario 7: login success and each failure by ``msg``, lockout, ``oauth_check`` ok and
404, single-session revocation, the full "dedicated second account" flow through the
simulator's mailbox, the 40207 cooldown, and the retired legacy login.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devices.clouds import (
    AccountDeactivated,
    AuthExpired,
    CloudError,
    InvalidCredentials,
    LoginUnavailable,
    RateLimited,
    RegistrationError,
    TokenCheck,
)
from devices.clouds.mammotion_account import PASSWORD_RULE

from .conftest import OWNER_EMAIL, OWNER_PASSWORD, account_client, logged, raises_with

LOGIN = "/user-server/v1/user/oauth/token"
CHECK = "/user-server/v1/user/oauth/check"
CODE = "/user-server/v1/email/register/code"
REGISTER = "/user-server/v1/email/register"
NEW_EMAIL = "dashboard@example.com"
NEW_PASSWORD = "Dash-board7"
SIGNED_OUT = "Mammotion signed this session out (maybe another sign-in). Link the account again."
UNAVAILABLE = "Mammotion app-account login is currently unavailable."


def mailbox_code(sim, email: str) -> str:
    return sim.control("GET", f"mammotion/mailbox?email={email}")["latestCode"]


def test_login_success_returns_tokens_and_region(sim, http):
    client = account_client(sim, http)
    login = client.login(OWNER_EMAIL, OWNER_PASSWORD)
    assert login.access_token and login.refresh_token and login.token_type == "bearer"
    assert (login.user.email, login.user.area_code, login.user.domain_abbreviation) == (
        OWNER_EMAIL,
        "SWE",
        "SE",
    )
    assert login.user.user_id.isdigit() and login.scope == "read"
    expected = datetime.now(UTC) + timedelta(seconds=1295999)
    assert abs((login.expires_at - expected).total_seconds()) < 60
    (entry,) = logged(sim, LOGIN)
    # 4.3.1: everything in the query string, an empty body.
    assert entry["method"] == "POST" and entry["body"] is None
    query = entry["query"]
    assert query["username"] == OWNER_EMAIL and query["grant_type"] == "password"
    assert query["client_id"] == "MADKALUBAS" and query["password"] == "Mowe…"
    assert client.check_token(login.access_token) is TokenCheck.VERIFIED


@pytest.mark.parametrize(
    ("email", "password", "error_type", "user_message"),
    [
        (OWNER_EMAIL, "Wrong-Pass1", InvalidCredentials, "Wrong email or password."),
        ("nobody@example.com", OWNER_PASSWORD, InvalidCredentials, "No such Mammotion account."),
    ],
)
def test_login_failures_by_msg(sim, http, email, password, error_type, user_message):
    error = raises_with(error_type, lambda: account_client(sim, http).login(email, password))
    assert error.user_message == user_message and error.vendor_code == 500
    assert len(logged(sim, LOGIN)) == 1  # a login is never retried


@pytest.mark.parametrize(
    ("msg", "error_type", "user_message"),
    [
        ("Access denied", CloudError, "Login refused by Mammotion."),
        ("Something unheard of", CloudError, "Mammotion login failed: Something unheard of"),
        (
            "Your account activity is abnormal and has been deactivated",
            AccountDeactivated,
            "Mammotion deactivated this account. Contact Mammotion support, then link it again.",
        ),
    ],
)
def test_other_login_failure_texts(sim, http, msg, error_type, user_message):
    sim.add_fault(vendor="mammotion", path=LOGIN, code=500, msg=msg)
    error = raises_with(error_type, lambda: account_client(sim, http).login(OWNER_EMAIL, "x"))
    assert error.user_message == user_message


def test_login_of_a_deactivated_account(sim, http):
    sim.control("POST", f"mammotion/accounts/{OWNER_EMAIL}/deactivate")
    client = account_client(sim, http)
    error = raises_with(AccountDeactivated, lambda: client.login(OWNER_EMAIL, OWNER_PASSWORD))
    assert error.reason == "deactivated"
    assert "Contact Mammotion support" in error.user_message


def test_repeated_failures_lock_the_account_for_five_minutes(sim, http):
    client = account_client(sim, http)
    for _ in range(4):
        raises_with(InvalidCredentials, lambda: client.login(OWNER_EMAIL, "Wrong-Pass1"))
    locked = raises_with(RateLimited, lambda: client.login(OWNER_EMAIL, "Wrong-Pass1"))
    assert locked.retry_after == 300 and locked.retryable
    assert locked.user_message == "Locked for 5 minutes after repeated failures. Try again later."
    # Even the right password is refused while locked.
    raises_with(RateLimited, lambda: client.login(OWNER_EMAIL, OWNER_PASSWORD))
    sim.advance(301)
    assert client.login(OWNER_EMAIL, OWNER_PASSWORD).access_token
    assert len(logged(sim, LOGIN)) == 7


def test_oauth_check_404_means_not_verifiable(sim, http):
    client = account_client(sim, http)
    login = client.login(OWNER_EMAIL, OWNER_PASSWORD)
    sim.knobs(oauth_check="404")
    assert client.check_token(login.access_token) is TokenCheck.NOT_VERIFIABLE
    sim.knobs(oauth_check="ok")
    assert client.check_token(login.access_token) is TokenCheck.VERIFIED
    (first, second) = logged(sim, CHECK)
    assert (first["status"], second["status"]) == (404, 200)
    assert first["headers"]["authorization"].startswith("Bearer ")


def test_a_second_login_signs_the_first_session_out(sim, http):
    client = account_client(sim, http)
    first = client.login(OWNER_EMAIL, OWNER_PASSWORD)
    second = client.login(OWNER_EMAIL, OWNER_PASSWORD)
    error = raises_with(AuthExpired, lambda: client.check_token(first.access_token))
    assert error.http_status == 401 and error.user_message == SIGNED_OUT
    assert client.check_token(second.access_token) is TokenCheck.VERIFIED


def test_without_single_session_both_tokens_stay_valid(sim, http):
    sim.knobs(single_session=False)
    client = account_client(sim, http)
    first = client.login(OWNER_EMAIL, OWNER_PASSWORD)
    client.login(OWNER_EMAIL, OWNER_PASSWORD)
    assert client.check_token(first.access_token) is TokenCheck.VERIFIED


def test_a_body_code_401_on_the_check_is_auth_expired(sim, http):
    client = account_client(sim, http)
    login = client.login(OWNER_EMAIL, OWNER_PASSWORD)
    sim.add_fault(vendor="mammotion", path=CHECK, code=401, msg="Unauthorized")
    error = raises_with(AuthExpired, lambda: client.check_token(login.access_token))
    assert error.user_message == SIGNED_OUT


def test_the_check_on_a_deactivated_account(sim, http):
    client = account_client(sim, http)
    login = client.login(OWNER_EMAIL, OWNER_PASSWORD)
    sim.control("POST", f"mammotion/accounts/{OWNER_EMAIL}/deactivate")
    raises_with(AccountDeactivated, lambda: client.check_token(login.access_token))


@pytest.mark.parametrize(
    "fault",
    [
        {"http_status": 404},
        {"http_status": 503},
        {"malformed": "html"},
        {"malformed": "empty"},
        {"malformed": "array"},
    ],
)
def test_a_refusing_legacy_login_is_login_unavailable(sim, http, fault):
    sim.add_fault(vendor="mammotion", path=LOGIN, **fault)
    client = account_client(sim, http)
    error = raises_with(LoginUnavailable, lambda: client.login(OWNER_EMAIL, OWNER_PASSWORD))
    assert error.user_message == UNAVAILABLE and error.retryable
    assert len(logged(sim, LOGIN)) == 1


def test_legacy_login_retired(sim, http):
    sim.knobs(legacy_login="404")
    client = account_client(sim, http)
    error = raises_with(LoginUnavailable, lambda: client.login(OWNER_EMAIL, OWNER_PASSWORD))
    assert error.http_status == 404 and error.user_message == UNAVAILABLE
    # Surface B is unaffected (D-MAM-1): the regions still load, for example.
    assert len(client.list_areas()) == 12


# --- the dedicated second account (4.3.6) ----------------------------------------------


def test_full_second_account_flow_through_the_mailbox(sim, http):
    sim.set_speed(0)
    client = account_client(sim, http)
    owner = client.login(OWNER_EMAIL, OWNER_PASSWORD)  # the main account, linked earlier

    areas = client.list_areas()
    assert len(areas) == 12
    assert [area.name for area in areas] == sorted(area.name for area in areas)
    sweden = next(area for area in areas if area.iso_code == "SWE")
    assert (sweden.name, sweden.domain_abbreviation) == ("Sweden", "SE")

    client.request_registration_code(NEW_EMAIL)
    code = mailbox_code(sim, NEW_EMAIL)
    assert code is not None and len(code) == 6 and code.isdigit()

    account = client.register(
        area_code=sweden.iso_code,
        email=NEW_EMAIL,
        full_name="Dashboard",
        password=NEW_PASSWORD,
        verification_code=code,
    )
    assert (account.email, account.area_code, account.domain_abbreviation) == (
        NEW_EMAIL,
        "SWE",
        "SE",
    )
    assert account.user_id and account.user_id != owner.user.user_id
    (entry,) = logged(sim, REGISTER)
    assert entry["headers"]["content-type"] == "application/json"
    assert entry["body"]["verificationCode"] == code and entry["body"]["fullName"] == "Dashboard"

    # Step 6: the new account logs in and verifies; the main session is not disturbed.
    dedicated = client.login(NEW_EMAIL, NEW_PASSWORD)
    assert dedicated.user.email == NEW_EMAIL
    assert client.check_token(dedicated.access_token) is TokenCheck.VERIFIED
    assert client.check_token(owner.access_token) is TokenCheck.VERIFIED


def test_registration_codes_have_a_60_second_cooldown(sim, http):
    sim.set_speed(0)
    client = account_client(sim, http)
    client.request_registration_code(NEW_EMAIL)
    error = raises_with(RateLimited, lambda: client.request_registration_code(NEW_EMAIL))
    assert error.vendor_code == 40207 and error.retry_after == 60
    assert error.user_message == (
        "Mammotion sends codes at most once a minute. Wait a minute, then ask for a new code."
    )
    sim.advance(61)
    client.request_registration_code(NEW_EMAIL)
    mails = sim.control("GET", f"mammotion/mailbox?email={NEW_EMAIL}")["messages"]
    assert len(mails) == 2
    assert len(logged(sim, CODE)) == 3


def register_with(client, sim, **overrides):
    fields = {
        "area_code": "SWE",
        "email": NEW_EMAIL,
        "full_name": "Dashboard",
        "password": NEW_PASSWORD,
        "verification_code": mailbox_code(sim, overrides.get("email", NEW_EMAIL)) or "000000",
    }
    return client.register(**{**fields, **overrides})


@pytest.mark.parametrize(
    ("overrides", "field", "user_message"),
    [
        ({"area_code": "XYZ"}, "areaCode", "Choose a country or region from the list."),
        (
            {"verification_code": "wrong"},
            "verificationCode",
            "The verification code is wrong or expired. Ask for a new one.",
        ),
        (
            {"email": OWNER_EMAIL},
            "email",
            "This email address already has a Mammotion account.",
        ),
    ],
)
def test_registration_errors_name_the_field(sim, http, overrides, field, user_message):
    client = account_client(sim, http)
    client.request_registration_code(overrides.get("email", NEW_EMAIL))
    if overrides.get("verification_code") == "wrong":  # any six digits but the mailed ones
        mailed = int(mailbox_code(sim, NEW_EMAIL))
        overrides = {"verification_code": f"{(mailed + 1) % 10**6:06d}"}
    error = raises_with(RegistrationError, lambda: register_with(client, sim, **overrides))
    assert error.field == field and error.user_message == user_message
    assert len(logged(sim, REGISTER)) == 1


def test_an_expired_code_is_a_verification_code_error(sim, http):
    sim.set_speed(0)
    client = account_client(sim, http)
    client.request_registration_code(NEW_EMAIL)
    code = mailbox_code(sim, NEW_EMAIL)
    sim.advance(601)  # codes are valid for 10 minutes (5.4.2)
    error = raises_with(
        RegistrationError, lambda: register_with(client, sim, verification_code=code)
    )
    assert error.field == "verificationCode" and error.vendor_code == 40200


def test_password_rule_is_checked_locally_and_by_the_server(sim, http):
    client = account_client(sim, http)
    client.request_registration_code(NEW_EMAIL)
    error = raises_with(RegistrationError, lambda: register_with(client, sim, password="short1"))
    assert error.field == "password" and error.user_message == PASSWORD_RULE
    assert logged(sim, REGISTER) == []  # never sent
    sim.add_fault(vendor="mammotion", path=REGISTER, code=40302, msg="The password needs 8-16")
    error = raises_with(RegistrationError, lambda: register_with(client, sim))
    assert error.field == "password" and error.vendor_code == 40302
    assert error.user_message == PASSWORD_RULE
