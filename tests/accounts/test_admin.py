"""Django admin for staff: people, households, memberships, invitations."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User


@pytest.fixture
def staff(login, db):
    admin = User.objects.create_superuser("root", "root@example.com", "x-admin-pass-1")
    return login(admin)


@pytest.mark.parametrize("model", ["user", "household", "membership", "invitation"])
def test_staff_can_list_and_search_each_model(model, staff, alice, bob, invitation):
    url = reverse(f"admin:accounts_{model}_changelist")
    assert staff.get(url).status_code == 200
    assert staff.get(url, {"q": "home"}).status_code == 200


def test_staff_can_open_a_household_with_its_members_and_invitations(
    staff, home, alice, invitation
):
    html = staff.get(reverse("admin:accounts_household_change", args=[home.pk])).content.decode()
    assert "alice" in html
    assert "dave@example.com" in html


def test_staff_can_open_a_user_with_memberships(staff, alice):
    response = staff.get(reverse("admin:accounts_user_change", args=[alice.pk]))
    assert response.status_code == 200
    assert "Home" in response.content.decode()


def test_the_invitation_token_hash_is_never_shown(staff, invitation):
    invite, token = invitation
    pages = [
        staff.get(reverse("admin:accounts_invitation_changelist")),
        staff.get(reverse("admin:accounts_invitation_change", args=[invite.pk])),
        staff.get(reverse("admin:accounts_household_change", args=[invite.household_id])),
    ]
    for page in pages:
        html = page.content.decode()
        assert invite.token_hash not in html
        assert token not in html
        assert "token" not in html.lower() or "csrfmiddlewaretoken" in html.lower()


def test_invitations_are_not_added_in_the_admin(staff):
    assert staff.get(reverse("admin:accounts_invitation_add")).status_code == 403


def test_staff_can_withdraw_invitations_in_bulk(staff, invitation):
    invite, _ = invitation
    staff.post(
        reverse("admin:accounts_invitation_changelist"),
        {"action": "revoke", "_selected_action": [invite.pk]},
    )
    invite.refresh_from_db()
    assert invite.status == "revoked"


def test_members_who_are_not_staff_are_kept_out(alice, login):
    response = login(alice).get(reverse("admin:index"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_anonymous_is_sent_to_a_login_page(db):
    response = Client().get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 302
