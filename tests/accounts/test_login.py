"""Signing in and out, session safety and login throttling (django-axes)."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import reverse

from accounts.client_ip import client_ip
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"
HOUSEHOLD = "/accounts/household/"


def sign_in(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def test_login_page_has_labelled_fields(alice):
    html = Client().get(LOGIN).content.decode()
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert reverse("accounts:password_reset") in html


def test_right_password_signs_in_and_goes_to_the_overview(alice):
    client = Client()
    response = sign_in(client, "alice")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:overview")
    assert client.get(HOUSEHOLD).status_code == 200


def test_wrong_password_shows_a_calm_error(alice):
    response = sign_in(Client(), "alice", "not-it")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_next_is_followed_only_within_the_site(alice):
    inside = Client().post(
        LOGIN + "?next=/accounts/household/", {"username": "alice", "password": PASSWORD}
    )
    assert inside["Location"] == "/accounts/household/"
    outside = Client().post(
        LOGIN, {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert outside["Location"] == reverse("dashboard:overview")


def test_signed_in_people_skip_the_login_page(alice, login):
    response = login(alice).get(LOGIN)
    assert response["Location"] == reverse("dashboard:overview")


def test_session_key_changes_on_login(alice):
    client = Client()
    session = client.session
    session["probe"] = 1
    session.save()
    before = client.cookies["sessionid"].value
    sign_in(client, "alice")
    after = client.cookies["sessionid"].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()


def test_logout_is_post_only(alice, login):
    assert login(alice).get("/accounts/logout/").status_code == 405


def test_logout_kills_the_old_session(alice):
    client = Client()
    sign_in(client, "alice")
    old_key = client.cookies["sessionid"].value
    response = client.post("/accounts/logout/")
    assert response["Location"] == reverse("accounts:login")
    assert not Session.objects.filter(session_key=old_key).exists()
    # A copy of the old cookie is worthless too.
    stolen = Client()
    stolen.cookies["sessionid"] = old_key
    assert stolen.get(HOUSEHOLD)["Location"].startswith(LOGIN)


def test_deactivated_user_is_out_at_once(bob, login):
    client = login(bob)
    assert client.get(HOUSEHOLD).status_code == 200
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    assert client.get(HOUSEHOLD)["Location"].startswith(LOGIN)


def test_deactivated_user_cannot_sign_in(bob):
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    client = Client()
    assert sign_in(client, "bob").status_code == 200
    assert client.get(HOUSEHOLD)["Location"].startswith(LOGIN)


# --- throttling -------------------------------------------------------------------------


def fail_until_locked(client, username, settings, **extra):
    responses = [
        sign_in(client, username, "wrong-guess", **extra)
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    return responses[-1]


def test_too_many_wrong_passwords_lock_the_username_from_this_address(alice, settings):
    client = Client()
    locked = fail_until_locked(client, "alice", settings)
    assert locked.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in locked.templates]
    # Even the right password is refused now.
    assert sign_in(client, "alice").status_code == 429
    assert client.get(HOUSEHOLD)["Location"].startswith(LOGIN)


def test_lockout_page_says_when_to_try_again(alice, settings):
    html = fail_until_locked(Client(), "alice", settings).content.decode()
    assert "Let's take a short break" in html
    assert "try again in 15 minutes" in html


def test_fewer_wrong_passwords_do_not_lock(alice, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "alice", "wrong-guess")
    assert sign_in(client, "alice").status_code == 302


def test_another_username_from_the_same_address_is_not_locked(alice, bob, settings):
    fail_until_locked(Client(), "alice", settings)
    assert sign_in(Client(), "bob").status_code == 302


def test_spoofed_forwarded_for_is_ignored_without_trusted_proxies(alice, settings):
    assert settings.TRUSTED_PROXY_COUNT == 0
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), "alice", "wrong-guess", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    fresh_address = sign_in(Client(), "alice", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert fresh_address.status_code == 429


@override_settings(AXES_CLIENT_IP_CALLABLE="accounts.client_ip.client_ip", TRUSTED_PROXY_COUNT=1)
def test_behind_one_trusted_proxy_the_address_it_saw_is_locked(alice, settings):
    # The client may prepend anything; our proxy appends the address it really saw.
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), "alice", "wrong-guess", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 203.0.113.5")
    assert sign_in(Client(), "alice", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    assert sign_in(Client(), "alice", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "203.0.113.5", "127.0.0.1"),
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "203.0.113.5", "127.0.0.1"),
        (1, "", "127.0.0.1"),
        (1, "not-an-address", "127.0.0.1"),
    ],
)
def test_client_ip_trusts_exactly_the_configured_proxies(
    proxies, forwarded_for, expected, settings, rf
):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded_for)
    assert client_ip(request) == expected
