"""Sudo mode: owners re-enter their password before dangerous actions."""

import time_machine
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from accounts.sudo import SESSION_KEY, in_sudo_mode, sudo_required
from tests.accounts.conftest import put_in_sudo_mode
from tests.conftest import PASSWORD

SUDO = "/accounts/confirm-password/"


def remove_url(member):
    membership = member.memberships.get()
    return reverse("accounts:member_remove", args=[membership.household_id, membership.pk])


def confirm(client, password=PASSWORD, next_url=""):
    return client.post(SUDO, {"password": password, "next": next_url})


def test_removing_a_member_without_sudo_asks_for_the_password_and_says_why(alice, bob, login):
    client = login(alice)
    response = client.get(remove_url(bob))
    assert response.status_code == 302
    assert response["Location"] == f"{SUDO}?next={remove_url(bob).replace('/', '%2F')}"
    page = client.get(response["Location"]).content.decode()
    assert "Confirm it" in page
    assert "removing members are sensitive" in page
    assert "15 minutes" in page


def test_a_removal_posted_without_sudo_changes_nothing(alice, bob, login):
    response = login(alice).post(remove_url(bob))
    assert response["Location"].startswith(SUDO + "?next=")
    assert Membership.objects.filter(user=bob).exists()


def test_after_confirming_the_removal_is_allowed(alice, bob, login):
    client = login(alice)
    response = confirm(client, next_url=remove_url(bob))
    assert response["Location"] == remove_url(bob)
    assert client.get(remove_url(bob)).status_code == 200
    assert client.post(remove_url(bob)).status_code == 302
    assert not Membership.objects.filter(user=bob).exists()


def test_a_wrong_password_is_an_error_next_to_the_field(alice, login):
    client = login(alice)
    response = confirm(client, password="not-it")
    assert response.status_code == 200
    assert 'id="id_password_error"' in response.content.decode()
    assert SESSION_KEY not in client.session


def test_after_fifteen_minutes_sudo_asks_again(alice, bob, login):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = login(alice)
        confirm(client)
        traveller.shift(14 * 60)
        assert client.get(remove_url(bob)).status_code == 200
        traveller.shift(61)
        assert client.get(remove_url(bob))["Location"].startswith(SUDO)


def test_next_must_stay_on_this_site(alice, login):
    response = confirm(login(alice), next_url="https://evil.example/")
    assert response["Location"] == reverse("accounts:household")


def test_post_without_sudo_returns_to_the_page_with_the_form(alice, bob, login):
    household_page = "http://testserver/accounts/household/"
    response = login(alice).post(remove_url(bob), HTTP_REFERER=household_page)
    assert response["Location"] == f"{SUDO}?next=http%3A%2F%2Ftestserver%2Faccounts%2Fhousehold%2F"
    foreign = login(alice).post(remove_url(bob), HTTP_REFERER="https://evil.example/x")
    assert foreign["Location"] == f"{SUDO}?next=%2Faccounts%2Fhousehold%2F"


def test_sudo_mode_belongs_to_the_person_who_confirmed(alice, bob, rf):
    request = rf.get("/")
    request.user = bob
    request.session = {SESSION_KEY: {"user": alice.pk, "at": timezone.now().timestamp()}}
    assert not in_sudo_mode(request)
    request.user = alice
    assert in_sudo_mode(request)


def test_sudo_ends_with_the_session(alice, login):
    client = login(alice)
    put_in_sudo_mode(client, alice)
    client.post("/accounts/logout/")
    client.force_login(alice)
    assert SESSION_KEY not in client.session


def test_htmx_requests_are_redirected_with_hx_redirect(alice, rf):
    view = sudo_required(lambda request: HttpResponse("done"))
    request = rf.post("/x/", HTTP_HX_REQUEST="true")
    request.htmx = True
    request.user = alice
    request.session = {}
    response = view(request)
    assert response["HX-Redirect"].startswith(SUDO + "?next=")


def test_sudo_page_locks_out_password_guessing_too(alice, settings):
    client = Client()
    client.force_login(alice)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = confirm(client, password="guess")
    assert response.status_code == 429
