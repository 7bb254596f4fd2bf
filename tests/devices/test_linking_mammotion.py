"""Linking Mammotion against the simulator over HTTP: Open API credentials, the app
account, and the dedicated-account sign-up, with every error the vendor can answer."""

# Fixtures are imported from test_linking_fixtures (no conftest of our own here).
# ruff: noqa: F811

import pytest

from devices import linking, linking_mammotion
from devices.cloud import client_for
from devices.linking import EMPTY_MAMMOTION_LIST, LinkError
from devices.machines import DeviceKind
from devices.models import AccountStatus, LinkMethod, Vendor
from tests.devices.test_linking_fixtures import (  # noqa: F401
    APP_EMAIL,
    APP_PASSWORD,
    CLIENT_ID,
    CLIENT_SECRET,
    EMPTY_CLIENT_ID,
    EMPTY_CLIENT_SECRET,
    cloud,
    nothing_stored,
    sync_calls,
)


def link_api(home, alice, **overrides):
    args = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **overrides}
    return linking.link_mammotion_open_api(household=home, user=alice, **args)


def link_app(home, alice, **overrides):
    args = {"email": APP_EMAIL, "password": APP_PASSWORD, **overrides}
    return linking_mammotion.link_mammotion_app(household=home, user=alice, **args)


def failure(call, *args, **kwargs) -> LinkError:
    with pytest.raises(LinkError) as caught:
        call(*args, **kwargs)
    assert nothing_stored()
    return caught.value


# --- Open API client credentials -------------------------------------------------------


def test_client_credentials_link_and_discover_the_mowers_and_the_station(
    cloud, home, alice, sync_calls
):
    result = link_api(home, alice)

    account = result.account
    assert (account.vendor, account.method) == (Vendor.MAMMOTION, LinkMethod.MAMMOTION_OPEN_API)
    assert (account.identity, account.label) == (CLIENT_ID, "Mammotion API (sim-client-1)")
    kinds = sorted(account.devices.values_list("kind", flat=True))
    assert kinds == [DeviceKind.MOWER] * 3 + [DeviceKind.STATION]
    assert result.notes == () and sync_calls == [(account.pk, "link")]
    secrets = account.credentials()
    assert (secrets["client_id"], secrets["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
    assert secrets["tokens"]["access_token"]
    # The token from linking is reused: the next client needs no second token request.
    assert len(client_for(account).list_devices()) == 4
    assert len(cloud.requests("mammotion", "/oauth2/token")) == 1


def test_an_empty_mower_list_is_linked_and_explained(cloud, home, alice, sync_calls):
    result = link_api(home, alice, client_id=EMPTY_CLIENT_ID, client_secret=EMPTY_CLIENT_SECRET)
    assert result.discovery.present == 0 and result.notes == (EMPTY_MAMMOTION_LIST,)
    assert "released in 2025" in EMPTY_MAMMOTION_LIST and "shared" in EMPTY_MAMMOTION_LIST
    assert result.summary().endswith("No machines found in this account.")


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param({"client_secret": "not-the-secret"}, id="wrong-secret"),
        pytest.param({"client_id": "sim-client-unknown"}, id="unknown-client"),
    ],
)
def test_an_invalid_client_is_rejected(cloud, home, alice, setup, sync_calls):
    error = failure(link_api, home, alice, **setup)
    assert "Mammotion rejected this client ID or client secret (invalid client)" in error.message
    assert sync_calls == []


def test_disabled_credentials_are_an_invalid_client(cloud, home, alice):
    cloud.control("POST", f"mammotion/credentials/{CLIENT_ID}/disable")
    assert "(invalid client)" in failure(link_api, home, alice).message


def test_credentials_of_a_deactivated_account_say_so(cloud, home, alice):
    cloud.control("POST", f"mammotion/accounts/{APP_EMAIL}/deactivate")
    assert "Mammotion deactivated this account" in failure(link_api, home, alice).message


@pytest.mark.parametrize(
    ("path", "fault", "expected"),
    [
        ("/oauth2/token", {"http_status": 429}, "Mammotion is limiting requests"),
        ("/oauth2/token", {"http_status": 503}, "Mammotion cloud is having trouble (HTTP 503)"),
        ("/v1/mowers", {"delay": 2, "count": 2}, "did not answer within 1 seconds"),
        ("/v1/mowers", {"drop": True, "count": 2}, "Could not connect to the Mammotion cloud"),
        ("/v1/mowers", {"malformed": "truncated", "count": 2}, "cannot read"),
        ("/v1/mowers", {"code": 12345, "msg": "Something odd"}, "Mammotion: Something odd"),
    ],
)
def test_open_api_failures_are_explained_and_store_nothing(
    cloud, home, alice, path, fault, expected
):
    cloud.add_fault(vendor="mammotion", path=path, **fault)
    assert expected in failure(link_api, home, alice).message


def test_relink_may_use_new_client_credentials_and_keeps_the_mowers(cloud, home, alice, sync_calls):
    account = link_api(home, alice).account
    mowers = set(account.devices.values_list("pk", flat=True))
    created = cloud.control(
        "POST",
        "mammotion/credentials",
        {
            "email": APP_EMAIL,
            "deviceIds": list(account.devices.values_list("remote_id", flat=True)),
        },
    )
    result = link_api(
        home,
        alice,
        client_id=created["client_id"],
        client_secret=created["client_secret"],
        account=account,
    )
    assert result.account.pk == account.pk and result.account.identity == created["client_id"]
    assert set(result.account.devices.values_list("pk", flat=True)) == mowers


# --- the app account (4.3.1, 4.3.5) ----------------------------------------------------


def test_the_app_account_is_verified_and_stores_the_token_not_the_password(
    cloud, home, alice, sync_calls
):
    linking_mammotion.mammotion_regions()  # the page loads the area list first
    result = link_app(home, alice, region_code="SWE")

    account = result.account
    assert account.method == LinkMethod.MAMMOTION_APP
    assert (account.identity, account.label, account.region) == (
        APP_EMAIL,
        APP_EMAIL,
        "Sweden (SE)",
    )
    secrets = account.credentials()
    assert set(secrets) == {"access_token", "refresh_token", "expires_at", "user_id"}
    assert APP_PASSWORD not in str(secrets)
    assert result.notes == ("Mammotion confirmed the sign-in.",)
    assert result.discovery is None and not account.devices.exists()
    assert sync_calls == []  # an app account has no machines to sync


def test_an_unverifiable_token_is_fine(cloud, home, alice):
    cloud.knobs(oauth_check="404")
    result = link_app(home, alice)
    assert "could not be double-checked. That is not an error." in result.notes[0]
    assert result.account.status == AccountStatus.OK


def test_a_region_that_differs_from_mammotions_record_is_pointed_out(cloud, home, alice):
    linking_mammotion.mammotion_regions()
    result = link_app(home, alice, region_code="DEU")
    assert result.account.region == "Sweden (SE)"
    assert "registered in Sweden (SE), not Germany" in result.notes[-1]


@pytest.mark.parametrize(
    ("overrides", "expected", "field"),
    [
        ({"password": "Wrong-Pass1"}, "Wrong email or password.", "password"),
        ({"email": "nobody@example.com"}, "No such Mammotion account.", "password"),
    ],
)
def test_wrong_app_credentials_are_field_errors(cloud, home, alice, overrides, expected, field):
    error = failure(link_app, home, alice, **overrides)
    assert (error.message, error.field) == (expected, field)


def test_an_account_locked_after_failures_says_to_wait(cloud, home, alice):
    for _ in range(5):
        failure(link_app, home, alice, password="Wrong-Pass1")
    error = failure(link_app, home, alice)
    assert error.message == "Locked for 5 minutes after repeated failures. Try again later."


def test_a_deactivated_app_account_says_so(cloud, home, alice):
    cloud.control("POST", f"mammotion/accounts/{APP_EMAIL}/deactivate")
    assert "Mammotion deactivated this account" in failure(link_app, home, alice).message


def test_a_retired_app_login_points_to_the_open_api(cloud, home, alice):
    cloud.knobs(legacy_login="404")
    error = failure(link_app, home, alice)
    assert "app-account login is currently unavailable" in error.message
    assert "link Open API client credentials instead" in error.message


def test_a_session_signed_out_at_once_is_not_stored(cloud, home, alice):
    cloud.add_fault(vendor="mammotion", path="/user-server/v1/user/oauth/check", http_status=401)
    assert "signed the new session out straight away" in failure(link_app, home, alice).message


def test_the_app_login_being_unreachable_is_explained(cloud, home, alice):
    cloud.add_fault(vendor="mammotion", path="/user-server/v1/user/oauth/token", drop=True)
    assert "Could not connect to the Mammotion cloud" in failure(link_app, home, alice).message


# --- regions and the dedicated-account sign-up (4.3.2-4.3.6) ---------------------------


def test_regions_are_the_live_list_sorted_and_cached(cloud):
    names = [area.name for area in linking_mammotion.mammotion_regions()]
    assert names == sorted(names) and "Sweden" in names and len(names) >= 12
    linking_mammotion.mammotion_regions()
    assert len(cloud.requests("mammotion", "/user-server/v1/area")) == 1


def mailbox_code(sim, email: str) -> str:
    return sim.control("GET", f"mammotion/mailbox?email={email}")["latestCode"]


def test_the_signup_creates_an_account_that_can_sign_in(cloud):
    email = "dashboard@example.com"
    linking_mammotion.send_signup_code(email=email)
    result = linking_mammotion.create_signup_account(
        area_code="SWE",
        email=email,
        full_name="Dashboard",
        password="Dash-Board9",
        verification_code=mailbox_code(cloud, email),
    )
    assert result.confirmed and "Signing in with the new account worked" in result.note
    assert len(cloud.requests("mammotion", "/user-server/v1/user/oauth/token")) == 1


def test_a_second_code_within_a_minute_is_refused_by_the_dashboard(cloud):
    linking_mammotion.send_signup_code(email="dash@example.com")
    assert 55 <= linking_mammotion.code_cooldown_left("dash@example.com") <= 60
    with pytest.raises(LinkError) as caught:
        linking_mammotion.send_signup_code(email="DASH@example.com ")
    assert "Ask again in" in caught.value.message
    assert len(cloud.requests("mammotion", "/user-server/v1/email/register/code")) == 1


def test_mammotions_own_too_often_answer_is_explained(cloud):
    cloud.add_fault(vendor="mammotion", path="/user-server/v1/email/register/code", code=40207)
    with pytest.raises(LinkError) as caught:
        linking_mammotion.send_signup_code(email="dash@example.com")
    assert "at most once a minute" in caught.value.message
    assert linking_mammotion.code_cooldown_left("dash@example.com") == 0  # nothing was sent


@pytest.mark.parametrize(
    ("fault", "password", "code", "field", "expected"),
    [
        (None, "Dash-Board9", "000000", "verification_code", "wrong or expired"),
        (None, "onlyletters", None, "password", "8 to 16 characters"),
        ({"code": 40302}, "Dash-Board9", None, "password", "8 to 16 characters"),
        ({"code": 40200}, "Dash-Board9", None, "verification_code", "wrong or expired"),
        (
            {"code": 500, "msg": "Area information does not exist."},
            "Dash-Board9",
            None,
            None,
            "region",
        ),
        (
            {"code": 500, "msg": "The email has been registered"},
            "Dash-Board9",
            None,
            None,
            "already",
        ),
    ],
)
def test_signup_failures_point_at_the_field(cloud, fault, password, code, field, expected):
    email = "dashboard@example.com"
    linking_mammotion.send_signup_code(email=email)
    if fault:
        cloud.add_fault(vendor="mammotion", path="/user-server/v1/email/register", **fault)
    with pytest.raises(LinkError) as caught:
        linking_mammotion.create_signup_account(
            area_code="SWE",
            email=email,
            full_name="Dashboard",
            password=password,
            verification_code=code or mailbox_code(cloud, email),
        )
    assert caught.value.field == field and expected in caught.value.message
