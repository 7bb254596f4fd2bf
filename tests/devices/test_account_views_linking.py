"""Linking through the pages: the 360 page's two ways (and a pasted Cookie header), the
Mammotion pages, re-link pages, and the dedicated-account sign-up wizard."""

# Fixtures are imported from test_linking_fixtures (no conftest of our own here).
# ruff: noqa: F811

import json

import pytest
from django.urls import reverse

from devices.forms import parse_cookie_header
from devices.models import CloudAccount, LinkMethod
from tests.devices.test_linking_fixtures import (  # noqa: F401
    APP_EMAIL,
    APP_PASSWORD,
    CLIENT_ID,
    CLIENT_SECRET,
    EMPTY_CLIENT_ID,
    EMPTY_CLIENT_SECRET,
    PUSH_KEY,
    QID,
    QT_QID,
    SID,
    Q,
    T,
    cloud,
    nothing_stored,
    sudo_login,
    sync_calls,
)

LINK_360 = reverse("devices:link_qihoo360")
LINK_API = reverse("devices:link_mammotion")
LINK_APP = reverse("devices:link_mammotion_app")
SIGNUP = reverse("devices:mammotion_signup")
SIGNUP_CODE = reverse("devices:mammotion_signup_code")
SIGNUP_DONE = reverse("devices:mammotion_signup_done")


@pytest.fixture
def owner(cloud, alice, sudo_login, sync_calls):
    return sudo_login(alice)


def page_of(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- the Cookie header -----------------------------------------------------------------


def test_a_browser_cookie_header_gives_q_t_and_nothing_else():
    header = (
        "Cookie: __guid=15.1; Q=u%3D360H2000000002%26qid%3D2000000002; T=s%3Dabc%26t%3D1; test=1"
    )
    assert parse_cookie_header(header) == {
        "q": "u%3D360H2000000002%26qid%3D2000000002",
        "t": "s%3Dabc%26t%3D1",
    }


def test_an_app_cookie_header_drops_the_placeholder_q_and_t():
    header = f"q=u=&t=1;t=&v=2.0&a=1; qid={QID}; sid={SID}"
    assert parse_cookie_header(header) == {"qid": QID, "sid": SID}


def test_a_full_method_2_header_keeps_every_part():
    header = f"q={Q};t={T};qid={QT_QID};sid=abc\n"
    assert parse_cookie_header(header) == {"q": Q, "t": T, "qid": QT_QID, "sid": "abc"}


# --- the 360 page ----------------------------------------------------------------------


def test_linking_by_qid_and_sid_lands_on_the_account_page(owner):
    response = owner.post(
        LINK_360,
        {"way": "sid", "sid-qid": QID, "sid-sid": SID, "sid-push_key": PUSH_KEY},
        follow=True,
    )
    account = CloudAccount.objects.get()
    assert response.redirect_chain[-1][0] == reverse("devices:account", args=[account.pk])
    assert "Linked 360 Smart (QID 1234123412). Found 4 machines." in messages_of(response)
    assert "Living room" in page_of(response)


def test_a_pasted_browser_header_links_by_cookies_and_finds_the_qid_itself(owner):
    encoded_q = Q.replace("=", "%3D").replace("&", "%26")
    header = f"Cookie: __guid=1.2; Q={encoded_q}; T={T}; test_cookie_enable=null"
    owner.post(LINK_360, {"way": "cookies", "cookies-cookie_header": header})
    account = CloudAccount.objects.get()
    assert (account.method, account.identity) == (LinkMethod.QIHOO360_QT, QT_QID)


def test_a_pasted_app_header_with_a_sid_links_the_sid_way(owner):
    header = f"q=u=&t=1;t=&v=2.0&a=1; qid={QID}; sid={SID}"
    owner.post(LINK_360, {"way": "cookies", "cookies-cookie_header": header})
    account = CloudAccount.objects.get()
    assert (account.method, account.identity) == (LinkMethod.QIHOO360_SID, QID)


def test_q_and_t_fields_link_with_the_qid_from_the_q_cookie(owner):
    owner.post(LINK_360, {"way": "cookies", "cookies-q": Q, "cookies-t": T})
    assert CloudAccount.objects.get().identity == QT_QID


def test_a_qid_that_differs_from_the_q_cookie_is_a_warning_to_confirm(owner):
    data = {"way": "cookies", "cookies-qid": QID, "cookies-q": Q, "cookies-t": T}
    page = page_of(owner.post(LINK_360, data))
    assert "The Q cookie belongs to QID 2000000002, not 1234123412." in page
    assert "Use the QID I entered anyway" in page and Q not in page
    assert nothing_stored()
    # Confirmed: the dashboard tries; 360 itself rejects the mismatched cookies.
    page = page_of(owner.post(LINK_360, {**data, "cookies-confirm_qid": "on"}))
    assert "errno 103" in page and nothing_stored()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, "Paste the Q and T cookies, or a whole Cookie header."),
        ({"cookies-q": Q}, "Both cookies are needed: Q and T."),
        ({"cookies-q": f"{Q}; T={T}", "cookies-t": T}, "This looks like several cookies"),
        ({"cookies-cookie_header": "foo=bar; baz=1"}, "No Q, T, QID or SID cookie found"),
        ({"cookies-q": "u=nothing", "cookies-t": T}, "Enter your QID: it was not in the cookies."),
    ],
)
def test_incomplete_cookie_forms_say_what_is_missing(owner, data, expected):
    page = page_of(owner.post(LINK_360, {"way": "cookies", **data}))
    assert expected in page and nothing_stored()


def test_a_qid_must_be_digits(owner):
    page = page_of(owner.post(LINK_360, {"way": "sid", "sid-qid": "abc", "sid-sid": SID}))
    assert "A QID is the account number: digits only." in page and nothing_stored()


def test_the_360_page_has_both_ways_with_the_documented_labels_and_help(owner):
    page = page_of(owner.get(LINK_360))
    for text in [">QID<", ">SID<", ">Push key<", ">Q cookie<", ">T cookie<", ">Cookie header<"]:
        assert text in page
    assert "adb logcat" in page and "MyPushMessageListener" in page and "i.360.cn" in page
    assert page.count('name="csrfmiddlewaretoken"') >= 2


# --- re-link pages ---------------------------------------------------------------------


def test_the_relink_page_updates_the_credentials_and_keeps_the_account(owner, cloud):
    owner.post(LINK_360, {"way": "sid", "sid-qid": QID, "sid-sid": SID})
    account = CloudAccount.objects.get()
    relink = reverse("devices:account_relink", args=[account.pk])
    page = page_of(owner.get(relink))
    assert f'value="{QID}"' in page and "enter them again" in page and SID not in page
    fresh = cloud.control("POST", f"360/accounts/{QID}/new-sid")["sid"]
    response = owner.post(relink, {"way": "sid", "sid-qid": QID, "sid-sid": fresh}, follow=True)
    assert any(m.startswith("Re-linked") for m in messages_of(response))
    assert CloudAccount.objects.get().credentials() == {"sid": fresh}


def test_mammotion_accounts_relink_with_their_own_form(owner, home, alice):
    owner.post(LINK_API, {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    owner.post(
        LINK_APP,
        {"email": APP_EMAIL, "password": APP_PASSWORD, "understood": "on", "region": ""},
    )
    api = CloudAccount.objects.get(method=LinkMethod.MAMMOTION_OPEN_API)
    app = CloudAccount.objects.get(method=LinkMethod.MAMMOTION_APP)
    api_page = page_of(owner.get(reverse("devices:account_relink", args=[api.pk])))
    app_page = page_of(owner.get(reverse("devices:account_relink", args=[app.pk])))
    assert ">Client secret<" in api_page and ">Password<" not in api_page
    assert ">Password<" in app_page and "may sign your phone app out" in app_page


# --- the Mammotion pages ---------------------------------------------------------------


def test_an_empty_mower_list_is_explained_after_linking(owner):
    response = owner.post(
        LINK_API, {"client_id": EMPTY_CLIENT_ID, "client_secret": EMPTY_CLIENT_SECRET}, follow=True
    )
    assert any("released in 2025" in m for m in messages_of(response))
    assert "released in 2025" in page_of(response)  # and on the account page itself


def test_the_mammotion_page_gives_the_open_api_steps_and_the_other_ways(owner):
    page = page_of(owner.get(LINK_API))
    assert ">Client ID<" in page and ">Client secret<" in page
    assert "developer.mammotion.com" in page and "share each mower" in page
    assert SIGNUP in page and LINK_APP in page


def test_the_app_page_warns_first_and_offers_the_live_regions(owner):
    page = page_of(owner.get(LINK_APP))
    warning = "Signing in here may sign your phone app out of this account."
    assert page.index(warning) < page.index('name="email"')
    assert '<option value="SWE">Sweden</option>' in page


def test_the_app_form_needs_the_warning_acknowledged(owner):
    page = page_of(owner.post(LINK_APP, {"email": APP_EMAIL, "password": APP_PASSWORD}))
    assert "This field is required." in page and nothing_stored()


def test_the_app_page_works_without_the_region_list(owner, cloud):
    cloud.add_fault(vendor="mammotion", path="/user-server/v1/area", http_status=503, count=-1)
    page = page_of(owner.get(LINK_APP))
    assert "The list of regions could not be loaded" in page and 'name="email"' in page


def test_a_wrong_app_password_is_shown_at_the_password_field(owner):
    data = {"email": APP_EMAIL, "password": "Wrong-Pass1", "understood": "on"}
    page = page_of(owner.post(LINK_APP, data))
    assert 'id="id_password_error"' in page and "Wrong email or password." in page
    assert "Wrong-Pass1" not in page and nothing_stored()


# --- the sign-up wizard ----------------------------------------------------------------


def test_the_wizard_creates_an_account_and_ends_with_the_manual_steps(owner, cloud):
    email = "dashboard@example.com"
    response = owner.post(SIGNUP, {"region": "SWE", "email": email, "full_name": "Dashboard"})
    assert response["Location"] == SIGNUP_CODE
    page = page_of(owner.get(SIGNUP_CODE))
    assert email in page and "Sweden" in page and "ask for a new code in 60 seconds" in page

    # A wrong code and a weak password are field errors; nothing is remembered of them.
    page = page_of(
        owner.post(
            SIGNUP_CODE,
            {"verification_code": "000000", "password": "Dash-Board9", "password2": "Dash-Board9"},
        )
    )
    assert 'id="id_verification_code_error"' in page and "wrong or expired" in page
    page = page_of(
        owner.post(
            SIGNUP_CODE, {"verification_code": "123456", "password": "short", "password2": "short"}
        )
    )
    assert 'id="id_password_error"' in page and "8 to 16 characters" in page

    code = cloud.control("GET", f"mammotion/mailbox?email={email}")["latestCode"]
    response = owner.post(
        SIGNUP_CODE,
        {"verification_code": code, "password": "Dash-Board9", "password2": "Dash-Board9"},
    )
    assert response["Location"] == SIGNUP_DONE
    assert "Dash-Board9" not in json.dumps(dict(owner.session))
    page = page_of(owner.get(SIGNUP_DONE))
    assert email in page and "Signing in with the new account worked" in page
    assert "developer.mammotion.com" in page and LINK_API in page
    assert nothing_stored()  # the wizard links nothing by itself


def test_asking_for_a_new_code_at_once_is_refused_with_the_wait(owner):
    owner.post(SIGNUP, {"region": "SWE", "email": "dash@example.com", "full_name": "Dashboard"})
    response = owner.post(SIGNUP_CODE, {"action": "resend"}, follow=True)
    assert any("Ask again in" in m for m in messages_of(response))


def test_the_wizard_explains_mammotions_too_often_answer(owner, cloud):
    cloud.add_fault(vendor="mammotion", path="/user-server/v1/email/register/code", code=40207)
    page = page_of(
        owner.post(SIGNUP, {"region": "SWE", "email": "d@example.com", "full_name": "D"})
    )
    assert "at most once a minute" in page


def test_going_back_to_step_one_with_the_same_address_reuses_the_code(owner, cloud):
    data = {"region": "SWE", "email": "dash@example.com", "full_name": "Dashboard"}
    owner.post(SIGNUP, data)
    response = owner.post(SIGNUP, data, follow=True)
    assert response.redirect_chain[-1][0] == SIGNUP_CODE
    assert any("less than a minute ago: use that one" in m for m in messages_of(response))
    assert len(cloud.requests("mammotion", "/user-server/v1/email/register/code")) == 1
