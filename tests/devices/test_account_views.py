"""Cloud-account pages: who may see and do what (S2), CSRF (S3), sudo mode (S6), and that
no secret ever reaches a page (S7)."""

# Fixtures are imported from test_linking_fixtures (no conftest of our own here).
# ruff: noqa: F811

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from devices import linking, linking_mammotion
from devices.models import AccountStatus, CloudAccount
from tests.conftest import PASSWORD
from tests.devices.test_linking_fixtures import (  # noqa: F401
    APP_EMAIL,
    APP_PASSWORD,
    CLIENT_ID,
    CLIENT_SECRET,
    PUSH_KEY,
    QID,
    QT_QID,
    SID,
    Q,
    T,
    cloud,
    sudo_login,
    sync_calls,
)

SUDO = reverse("accounts:sudo")
LINK_PAGES = [
    "devices:link",
    "devices:link_qihoo360",
    "devices:link_mammotion",
    "devices:link_mammotion_app",
    "devices:mammotion_signup",
    "devices:mammotion_signup_code",
    "devices:mammotion_signup_done",
]
GET_ONLY = {"devices:link", "devices:mammotion_signup_done"}
OWNER_ACCOUNT_PAGES = ["devices:account_relink", "devices:account_remove"]


@pytest.fixture
def account(cloud, home, alice, sync_calls):
    return linking.link_qihoo360_sid(
        household=home, user=alice, qid=QID, sid=SID, push_key=PUSH_KEY, label="Vacuums"
    ).account


def url(name, account=None):
    return reverse(name, args=[account.pk]) if account else reverse(name)


# --- the role matrix ---------------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in(account):
    for name in ["devices:accounts", *LINK_PAGES]:
        assert Client().get(url(name))["Location"].startswith(reverse("accounts:login"))
    for name in ["devices:account", *OWNER_ACCOUNT_PAGES]:
        assert Client().get(url(name, account))["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("who", ["bob", "oscar", "alice"])
def test_every_member_sees_the_list_and_the_account_page(account, who, request, login):
    client = login(request.getfixturevalue(who))
    assert "Vacuums" in client.get(url("devices:accounts")).content.decode()
    page = client.get(url("devices:account", account))
    assert page.status_code == 200 and "Living room" in page.content.decode()


def test_an_outsider_gets_404_for_every_account_url(account, carol, login):
    client = login(carol)
    assert "Vacuums" not in client.get(url("devices:accounts")).content.decode()
    for name in ["devices:account", *OWNER_ACCOUNT_PAGES]:
        assert client.get(url(name, account)).status_code == 404
    for name in ["devices:account_sync", *OWNER_ACCOUNT_PAGES]:
        assert client.post(url(name, account)).status_code == 404


@pytest.mark.parametrize("who", ["bob", "oscar"])
def test_viewers_and_operators_may_not_link_relink_or_remove(account, who, request, sudo_login):
    client = sudo_login(request.getfixturevalue(who))  # even in sudo mode
    for name in LINK_PAGES:
        assert client.get(url(name)).status_code == 403, name
        assert client.post(url(name)).status_code == (405 if name in GET_ONLY else 403), name
    for name in OWNER_ACCOUNT_PAGES:
        assert client.get(url(name, account)).status_code == 403
        assert client.post(url(name, account), {"delete_history": "on"}).status_code == 403
    assert CloudAccount.objects.get().credentials() == {"sid": SID, "push_key": PUSH_KEY}


def test_low_roles_get_403_before_any_password_prompt(account, bob, login):
    assert login(bob).get(url("devices:link_qihoo360")).status_code == 403


def test_people_without_a_household_get_404_on_link_pages(db, login):
    loner = User.objects.create_user("lone", "", PASSWORD)
    assert login(loner).get(url("devices:link")).status_code == 404
    assert login(loner).get(url("devices:accounts")).status_code == 404


def test_a_viewer_cannot_sync_now(account, bob, login, sync_calls):
    assert login(bob).post(url("devices:account_sync", account)).status_code == 403
    assert sync_calls == [(account.pk, "link")]


@pytest.mark.parametrize("who", ["oscar", "alice"])
def test_operators_and_owners_can_sync_now(account, who, request, login, sync_calls):
    response = login(request.getfixturevalue(who)).post(url("devices:account_sync", account))
    assert response["Location"] == url("devices:account", account)
    assert sync_calls[-1] == (account.pk, "manual")


def test_sync_now_is_post_only(account, alice, login):
    assert login(alice).get(url("devices:account_sync", account)).status_code == 405


def test_every_post_needs_a_csrf_token(account, alice, sudo_login):
    client = sudo_login(alice, enforce_csrf_checks=True)
    for name in LINK_PAGES:
        assert client.post(url(name)).status_code == 403
    for name in ["devices:account_sync", *OWNER_ACCOUNT_PAGES]:
        assert client.post(url(name, account)).status_code == 403
    assert CloudAccount.objects.get().credentials_token


# --- sudo mode (S6) ----------------------------------------------------------------------


def test_owners_confirm_their_password_before_linking(cloud, alice, login):
    client = login(alice)
    response = client.get(url("devices:link_qihoo360"))
    assert response["Location"].startswith(SUDO + "?next=")
    client.post(SUDO, {"password": PASSWORD, "next": url("devices:link_qihoo360")})
    assert client.get(url("devices:link_qihoo360")).status_code == 200


def test_a_link_posted_without_sudo_stores_nothing(cloud, alice, login):
    response = login(alice).post(
        url("devices:link_qihoo360"), {"way": "sid", "sid-qid": QID, "sid-sid": SID}
    )
    assert response["Location"].startswith(SUDO)
    assert not CloudAccount.objects.exists()


@pytest.mark.parametrize("name", OWNER_ACCOUNT_PAGES)
def test_relink_and_remove_need_sudo_too(account, alice, login, name):
    client = login(alice)
    assert client.get(url(name, account))["Location"].startswith(SUDO)
    assert client.post(url(name, account), {"delete_history": "on"})["Location"].startswith(SUDO)
    assert CloudAccount.objects.filter(pk=account.pk).exists()


def test_owners_in_sudo_mode_open_every_link_page(cloud, alice, sudo_login):
    client = sudo_login(alice)
    for name in LINK_PAGES[:5]:
        assert client.get(url(name)).status_code == 200, name
    # The later sign-up steps need the earlier ones first.
    assert client.get(url("devices:mammotion_signup_code"))["Location"] == url(
        "devices:mammotion_signup"
    )
    assert client.get(url("devices:mammotion_signup_done"))["Location"] == url(
        "devices:mammotion_signup"
    )


# --- what the account page shows to whom -------------------------------------------------


def test_owner_only_buttons_are_hidden_from_others(account, alice, oscar, bob, login):
    relink, remove, sync = (
        url("devices:account_relink", account),
        url("devices:account_remove", account),
        url("devices:account_sync", account),
    )
    owner = login(alice).get(url("devices:account", account)).content.decode()
    operator = login(oscar).get(url("devices:account", account)).content.decode()
    viewer = login(bob).get(url("devices:account", account)).content.decode()
    assert relink in owner and remove in owner and sync in owner
    assert sync in operator and relink not in operator and remove not in operator
    assert sync not in viewer and relink not in viewer and remove not in viewer
    assert "Link a cloud account" not in login(bob).get(url("devices:accounts")).content.decode()


def test_the_account_page_shows_status_identity_and_gone_machines(account, bob, login):
    account.set_status(AccountStatus.REAUTH_REQUIRED, "The 360 session (SID) has expired.")
    account.devices.filter(name="Garage").update(gone_at="2026-01-02T10:00:00Z")
    page = login(bob).get(url("devices:account", account)).content.decode()
    assert "Needs re-link" in page and "The 360 session (SID) has expired." in page
    assert "Ask an owner of Home to re-link it" in page
    assert QID in page and "QID and SID" in page
    assert "no longer in this account since 2 Jan 2026" in page
    assert reverse("devices:device", args=[account.devices.get(name="Office").pk]) in page


def test_the_list_puts_accounts_needing_attention_first(cloud, home, alice, login, sync_calls):
    for label, client_id in [("A mowers", "sim-client-1"), ("B empty", "sim-client-empty")]:
        secret = "sim-secret-1" if client_id == "sim-client-1" else "sim-secret-empty"
        linking.link_mammotion_open_api(
            household=home, user=alice, client_id=client_id, client_secret=secret, label=label
        )
    CloudAccount.objects.get(label="B empty").set_status(AccountStatus.ERROR, "HTTP 503")
    page = login(alice).get(url("devices:accounts")).content.decode()
    assert page.index("B empty") < page.index("A mowers")
    assert "HTTP 503" in page and "4 machines" in page


def test_an_app_account_page_explains_where_mowers_come_from(cloud, home, alice, login):
    account = linking_mammotion.link_mammotion_app(
        household=home, user=alice, email=APP_EMAIL, password=APP_PASSWORD
    ).account
    page = login(alice).get(url("devices:account", account)).content.decode()
    assert "verifies your Mammotion app account and shows its region" in page
    assert "Open API" in page and "Sync now" not in page
    assert "SWE" in page or "Sweden" in page


# --- removing through the pages ----------------------------------------------------------


def test_remove_keeps_the_history_unless_asked(account, alice, sudo_login):
    client = sudo_login(alice)
    page = client.get(url("devices:account_remove", account)).content.decode()
    assert "Delete history too" in page and "stays in History and Faults" in page
    response = client.post(url("devices:account_remove", account), follow=True)
    assert "Its credentials are erased" in response.content.decode()
    assert linking.is_removed(CloudAccount.objects.get())
    listing = client.get(url("devices:accounts")).content.decode()
    assert "Removed accounts" in listing and "Vacuums" in listing
    detail = client.get(url("devices:account", account)).content.decode()
    assert "the credentials are erased" in detail and "Sync now" not in detail


def test_remove_with_history_deletes_the_account(account, alice, sudo_login):
    client = sudo_login(alice)
    response = client.post(url("devices:account_remove", account), {"delete_history": "on"})
    assert response["Location"] == url("devices:accounts")
    assert not CloudAccount.objects.exists()


# --- no secret on any page (S7) ----------------------------------------------------------


def test_no_secret_reaches_any_page_after_linking_every_kind(cloud, home, alice, sudo_login):
    client = sudo_login(alice)
    posts = [
        (
            "devices:link_qihoo360",
            {"way": "sid", "sid-qid": QID, "sid-sid": SID, "sid-push_key": PUSH_KEY},
        ),
        ("devices:link_qihoo360", {"way": "cookies", "cookies-q": Q, "cookies-t": T}),
        ("devices:link_mammotion", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
        (
            "devices:link_mammotion_app",
            {"email": APP_EMAIL, "password": APP_PASSWORD, "region": "SWE", "understood": "on"},
        ),
    ]
    pages = []
    for name, data in posts:
        response = client.post(url(name), data, follow=True)
        assert response.redirect_chain, response.content.decode()[:2000]
        pages.append(response.content.decode())
    assert CloudAccount.objects.count() == 4
    secrets = {SID, PUSH_KEY, Q, T, CLIENT_SECRET, APP_PASSWORD}
    for account in CloudAccount.objects.all():
        stored = account.credentials()
        secrets |= {
            str(v) for k, v in stored.items() if k not in ("client_id", "user_id", "expires_at")
        }
        secrets |= {str(v) for v in (stored.get("tokens") or {}).values()}
        for name in ["devices:account", *OWNER_ACCOUNT_PAGES]:
            pages.append(client.get(url(name, account)).content.decode())
    for name in ["devices:accounts", *LINK_PAGES[:5], "dashboard:overview"]:
        pages.append(client.get(url(name)).content.decode())
    secrets = {s for s in secrets if len(s) >= 8 and not s.startswith("{")}
    for html in pages:
        for secret in secrets:
            assert secret not in html


def test_secrets_are_not_shown_back_after_a_failed_link(cloud, alice, sudo_login):
    client = sudo_login(alice)
    wrong_sid = "f" * 32
    page = client.post(
        url("devices:link_qihoo360"), {"way": "sid", "sid-qid": QID, "sid-sid": wrong_sid}
    ).content.decode()
    assert "360 did not accept this SID" in page and wrong_sid not in page and QID in page
    page = client.post(
        url("devices:link_mammotion"), {"client_id": CLIENT_ID, "client_secret": "nope-secret-9"}
    ).content.decode()
    assert "invalid client" in page and "nope-secret-9" not in page and "Nothing was saved." in page
    page = client.post(
        url("devices:link_qihoo360"),
        {"way": "cookies", "cookies-cookie_header": f"Q={Q}; T=wrong-t-value; other=1"},
    ).content.decode()
    assert "errno 103" in page and "wrong-t-value" not in page and Q not in page
    assert not CloudAccount.objects.exists()


def test_no_sync_now_button_while_an_account_waits_for_a_relink(account, oscar, login):
    account.set_status(AccountStatus.REAUTH_REQUIRED, "The 360 session (SID) has expired.")
    page = login(oscar).get(url("devices:account", account)).content.decode()
    assert url("devices:account_sync", account) not in page
