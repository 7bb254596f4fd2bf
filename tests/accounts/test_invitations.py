"""Inviting by email, withdrawing, and accepting as a new or an existing person."""

import re
import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import SESSION_KEY
from accounts.models import Invitation, Membership, Role, User, hash_token
from tests.accounts.conftest import messages_of
from tests.conftest import PASSWORD

STRONG = "a-long-robot-password-42"
HOUSEHOLD_URL = "/accounts/household/"


def invite_url(home):
    return reverse("accounts:invite", args=[home.pk])


def accept_url(token):
    return reverse("accounts:invitation_accept", args=[token])


def token_from(body: str) -> str:
    return re.search(r"/accounts/invitations/([\w-]+)/", body).group(1)


def sign_up(client, token, username="dave", **overrides):
    data = {"username": username, "email": "", "password1": STRONG, "password2": STRONG}
    return client.post(accept_url(token), data | overrides)


# --- inviting ------------------------------------------------------------------------------


@override_settings(SITE_URL="https://robots.example.org")
def test_owner_invites_by_email_and_the_email_holds_the_link(alice, home, login):
    response = login(alice).post(
        invite_url(home), {"email": "erin@example.com", "role": "operator"}
    )
    assert response.status_code == 200
    [message] = mail.outbox
    assert message.to == ["erin@example.com"]
    assert "Home" in message.subject
    token = token_from(message.body)
    link = f"https://robots.example.org/accounts/invitations/{token}/"
    assert link in message.body
    assert link in response.content.decode()  # shown once to the owner, to share another way
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "erin@example.com",
        Role.OPERATOR,
        alice,
    )
    assert invitation.expires_at == pytest.approx(
        timezone.now() + timedelta(days=7), abs=timedelta(minutes=1)
    )


def test_only_the_token_hash_is_stored(alice, home, login):
    login(alice).post(invite_url(home), {"email": "erin@example.com", "role": "viewer"})
    token = token_from(mail.outbox[0].body)
    row = Invitation.objects.values().get()
    assert row["token_hash"] == hash_token(token)
    assert all(token not in str(value) for value in row.values())


def test_a_second_pending_invitation_for_the_same_address_is_refused(alice, home, login):
    client = login(alice)
    client.post(invite_url(home), {"email": "erin@example.com", "role": "viewer"})
    response = client.post(invite_url(home), {"email": "ERIN@example.com", "role": "viewer"})
    assert 'id="id_email_error"' in response.content.decode()
    assert Invitation.objects.count() == 1


def test_a_mail_server_outage_keeps_the_invitation_and_shows_the_link(
    alice, home, login, monkeypatch
):
    def broken(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("down")

    monkeypatch.setattr("accounts.emails.send_mail", broken)
    response = login(alice).post(invite_url(home), {"email": "erin@example.com", "role": "viewer"})
    html = response.content.decode()
    assert "could not be sent" in html
    assert "/accounts/invitations/" in html
    assert Invitation.objects.pending().count() == 1


def test_viewer_cannot_invite(alice, bob, home, login):
    response = login(bob).post(invite_url(home), {"email": "erin@example.com", "role": "owner"})
    assert response.status_code == 403
    assert mail.outbox == []


def test_operator_cannot_invite(alice, oscar, home, login):
    response = login(oscar).post(invite_url(home), {"email": "erin@example.com", "role": "owner"})
    assert response.status_code == 403


# --- withdrawing ---------------------------------------------------------------------------


def revoke_url(invitation):
    return reverse("accounts:invitation_revoke", args=[invitation.household_id, invitation.pk])


def test_owner_withdraws_a_pending_invitation_which_then_stops_working(alice, invitation, login):
    invite, token = invitation
    response = login(alice).post(revoke_url(invite), follow=True)
    assert "The invitation for dave@example.com is withdrawn." in messages_of(response)
    invite.refresh_from_db()
    assert invite.status == "revoked"
    page = Client().get(accept_url(token))
    assert page.status_code == 410
    assert "withdrawn" in page.content.decode()


def test_an_accepted_invitation_cannot_be_withdrawn(alice, bob, invitation, login):
    invite, token = invitation
    Client().get(accept_url(token))
    sign_up(Client(), token)
    response = login(alice).post(revoke_url(invite), follow=True)
    assert "no longer pending" in messages_of(response)[0]
    invite.refresh_from_db()
    assert invite.status == "accepted"


def test_an_invitation_of_another_household_cannot_be_withdrawn(alice, carol, login):
    flat = carol.memberships.get().household
    theirs, _ = Invitation.issue(
        household=flat, email="x@example.com", role="viewer", invited_by=carol
    )
    url = reverse(
        "accounts:invitation_revoke", args=[alice.memberships.get().household_id, theirs.pk]
    )
    assert login(alice).post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "pending"


# --- accepting -----------------------------------------------------------------------------


def test_anonymous_person_sees_whom_they_join_and_a_labelled_sign_up_form(invitation):
    _, token = invitation
    html = Client().get(accept_url(token)).content.decode()
    assert "Join Home" in html
    assert "alice invited you to join as an operator" in html
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password1">Password</label>' in html
    assert 'value="dave@example.com"' in html


def test_accepting_as_a_new_person_creates_the_account_and_joins(invitation):
    invite, token = invitation
    client = Client()
    response = sign_up(client, token)
    assert response["Location"] == reverse("dashboard:overview")
    dave = User.objects.get(username="dave")
    assert dave.check_password(STRONG)
    membership = Membership.objects.get(user=dave)
    assert (membership.household, membership.role) == (invite.household, Role.OPERATOR)
    assert client.session[SESSION_KEY] == invite.household_id
    invite.refresh_from_db()
    assert invite.accepted_by == dave and invite.status == "accepted"


def test_sign_up_errors_sit_next_to_the_fields_and_keep_the_invitation(alice, invitation):
    invite, token = invitation
    response = sign_up(Client(), token, username="alice", password2="different-9x")
    html = response.content.decode()
    assert 'id="id_username_error"' in html
    assert 'id="id_password2_error"' in html
    invite.refresh_from_db()
    assert invite.status == "pending"


def test_accepting_as_a_signed_in_person_joins_their_existing_account(carol, invitation, login):
    invite, token = invitation
    client = login(carol)
    page = client.get(accept_url(token)).content.decode()
    assert "You are signed in as carol." in page
    response = client.post(accept_url(token), follow=True)
    assert "Welcome to Home. You joined as an operator." in messages_of(response)
    assert Membership.objects.get(user=carol, household=invite.household).role == Role.OPERATOR
    assert client.session[SESSION_KEY] == invite.household_id
    assert Membership.objects.filter(user=carol).count() == 2


def test_an_existing_member_is_told_and_the_invitation_stays_unused(bob, invitation, login):
    invite, token = invitation
    client = login(bob)
    assert "already a member" in client.get(accept_url(token)).content.decode()
    client.post(accept_url(token))
    invite.refresh_from_db()
    assert invite.status == "pending"
    assert bob.memberships.get().role == Role.VIEWER


def test_an_invitation_works_only_once(carol, invitation, login):
    _, token = invitation
    sign_up(Client(), token)
    reused = login(carol).post(accept_url(token))
    assert reused.status_code == 410
    assert "already been used" in reused.content.decode()
    assert not Membership.objects.filter(user=carol, household__name="Home").exists()
    second_sign_up = sign_up(Client(), token, username="eve")
    assert second_sign_up.status_code == 410
    assert not User.objects.filter(username="eve").exists()


def test_an_invitation_expires_after_seven_days(invitation):
    _, token = invitation
    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23)):
        assert Client().get(accept_url(token)).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=7, seconds=1)):
        response = sign_up(Client(), token)
        assert response.status_code == 410
        assert "This invitation has expired" in response.content.decode()
    assert not User.objects.filter(username="dave").exists()


@pytest.mark.parametrize("token", ["wrong-token", "x" * 43])
def test_a_wrong_token_says_the_link_is_not_valid(alice, invitation, token):
    response = Client().get(accept_url(token))
    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()


def test_signing_in_from_the_invitation_comes_back_to_it(alice, invitation):
    _, token = invitation
    html = Client().get(accept_url(token)).content.decode()
    assert f"?next={accept_url(token).replace('/', '%2F')}" in html
    login_page = reverse("accounts:login") + "?next=" + accept_url(token)
    response = Client().post(login_page, {"username": "alice", "password": PASSWORD})
    assert response["Location"] == accept_url(token)


# --- the page that shows the link ------------------------------------------------------------

CONSOLE_MAIL = "django.core.mail.backends.console.EmailBackend"


@pytest.mark.parametrize(
    ("site_url", "host", "warned"),
    [
        ("http://127.0.0.1:8000", "localhost:8000", True),
        ("http://127.0.0.1:8000", "127.0.0.1:9000", True),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", False),
        ("https://localhost", "localhost", False),  # behind a TLS proxy: scheme may differ
        ("https://localhost:443", "LOCALHOST", False),
    ],
)
def test_the_link_page_warns_when_site_url_is_not_the_address_in_use(
    alice, home, login, settings, site_url, host, warned
):
    settings.SITE_URL = site_url
    data = {"email": "erin@example.com", "role": "viewer"}
    html = login(alice).post(invite_url(home), data, HTTP_HOST=host).content.decode()
    assert site_url + "/accounts/invitations/" in html
    assert (f"isn't the address you are using now ({host})" in html) is warned


def test_the_link_page_offers_a_copy_button_that_works_without_javascript(alice, home, login):
    html = (
        login(alice)
        .post(invite_url(home), {"email": "erin@example.com", "role": "viewer"})
        .content.decode()
    )
    assert '<p class="share-link" id="invitation-link">http' in html
    assert 'data-copy="invitation-link"' in html and " hidden>Copy link</button>" in html
    assert 'src="/static/js/copy.js" defer></script>' in html


@override_settings(EMAIL_BACKEND=CONSOLE_MAIL)
def test_without_a_mail_server_the_owner_is_told_to_share_the_link(alice, home, login, capsys):
    client = login(alice)
    assert (
        "you&#x27;ll get a link to pass on yourself" in client.get(HOUSEHOLD_URL).content.decode()
    )
    html = client.post(
        invite_url(home), {"email": "erin@example.com", "role": "viewer"}
    ).content.decode()
    assert "<h1>Invitation created</h1>" in html
    assert "This server has no email set up, so nothing was sent." in html
    assert "We emailed" not in html
