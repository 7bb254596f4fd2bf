"""Owners change roles and remove members; members leave; never the last owner."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import Membership, Role
from tests.accounts.conftest import messages_of


def role_url(user):
    m = user.memberships.get()
    return reverse("accounts:member_role", args=[m.household_id, m.pk])


def remove_url(user):
    m = user.memberships.get()
    return reverse("accounts:member_remove", args=[m.household_id, m.pk])


def leave_url(user):
    return reverse("accounts:household_leave", args=[user.memberships.get().household_id])


def role_of(user):
    return user.memberships.get().role


def test_owner_changes_a_members_role(alice, bob, login):
    response = login(alice).post(role_url(bob), {"role": Role.OPERATOR}, follow=True)
    assert role_of(bob) == Role.OPERATOR
    assert "bob is now an operator." in messages_of(response)


def test_viewer_cannot_change_roles(alice, bob, login):
    assert login(bob).post(role_url(bob), {"role": Role.OWNER}).status_code == 403
    assert role_of(bob) == Role.VIEWER


def test_operator_cannot_change_roles(alice, oscar, bob, login):
    assert login(oscar).post(role_url(bob), {"role": Role.OWNER}).status_code == 403


def test_an_unknown_role_changes_nothing(alice, bob, login):
    response = login(alice).post(role_url(bob), {"role": "admin"}, follow=True)
    assert role_of(bob) == Role.VIEWER
    assert "Choose owner, operator or viewer." in messages_of(response)


def test_last_owner_cannot_demote_themselves(alice, bob, login):
    response = login(alice).post(role_url(alice), {"role": Role.VIEWER}, follow=True)
    assert role_of(alice) == Role.OWNER
    assert (
        "You are the last owner of Home, so you cannot change your role. Make another member an owner first."
    ) in messages_of(response)


def test_an_owner_can_step_down_when_another_owner_remains(alice, bob, login):
    client = login(alice)
    client.post(role_url(bob), {"role": Role.OWNER})
    client.post(role_url(alice), {"role": Role.OPERATOR})
    assert role_of(alice) == Role.OPERATOR
    assert role_of(bob) == Role.OWNER


def test_two_owners_cannot_demote_each_other_to_none(alice, bob):
    services.change_role(membership=bob.memberships.get(), role=Role.OWNER)
    alice_m, bob_m = alice.memberships.get(), bob.memberships.get()
    services.change_role(membership=alice_m, role=Role.VIEWER)
    with pytest.raises(services.LastOwner):
        services.change_role(membership=bob_m, role=Role.VIEWER)
    assert Membership.objects.filter(role=Role.OWNER).count() == 1


def test_owner_removes_a_member_who_then_loses_access(alice, bob, sudo_login, login):
    bobs_client = login(bob)
    response = sudo_login(alice).post(remove_url(bob), follow=True)
    assert "bob no longer has access to Home." in messages_of(response)
    assert not Membership.objects.filter(user=bob).exists()
    assert "not in a household" in bobs_client.get("/accounts/household/").content.decode()


def test_last_owner_cannot_remove_themselves(alice, bob, sudo_login):
    response = sudo_login(alice).post(remove_url(alice), follow=True)
    assert Membership.objects.filter(user=alice).exists()
    assert (
        "You are the last owner of Home, so you cannot remove yourself. Make another member an owner first."
    ) in messages_of(response)


def test_remove_asks_for_confirmation_first(alice, bob, sudo_login):
    html = sudo_login(alice).get(remove_url(bob)).content.decode()
    assert "Remove bob?" in html
    assert Membership.objects.filter(user=bob).exists()


def test_viewer_cannot_remove_members(alice, oscar, bob, sudo_login):
    assert sudo_login(bob).post(remove_url(oscar)).status_code == 403
    assert Membership.objects.filter(user=oscar).exists()


def test_a_member_of_another_household_cannot_be_removed_through_this_one(alice, carol, sudo_login):
    home_id = alice.memberships.get().household_id
    carols = carol.memberships.get()
    url = reverse("accounts:member_remove", args=[home_id, carols.pk])
    assert sudo_login(alice).post(url).status_code == 404
    assert Membership.objects.filter(pk=carols.pk).exists()


def test_a_member_leaves_the_household(alice, bob, login):
    client = login(bob)
    assert "Leave Home?" in client.get(leave_url(bob)).content.decode()
    response = client.post(leave_url(bob), follow=True)
    assert "You have left Home." in messages_of(response)
    assert not Membership.objects.filter(user=bob).exists()


def test_last_owner_cannot_leave(alice, bob, login):
    response = login(alice).post(leave_url(alice), follow=True)
    assert Membership.objects.filter(user=alice).exists()
    assert (
        "You are the last owner of Home, so you cannot leave. Make another member an owner first."
    ) in messages_of(response)


def test_an_owner_can_leave_when_another_owner_remains(alice, bob, login):
    services.change_role(membership=bob.memberships.get(), role=Role.OWNER)
    login(alice).post(leave_url(alice))
    assert not Membership.objects.filter(user=alice).exists()


def test_changing_your_own_role_is_reported_to_you_as_you(alice, bob, login):
    services.change_role(membership=bob.memberships.get(), role=Role.OWNER)
    response = login(alice).post(role_url(alice), {"role": Role.OPERATOR}, follow=True)
    assert "You are now an operator." in messages_of(response)


def test_the_last_owner_is_told_why_they_cannot_leave_instead_of_a_leave_button(alice, bob, login):
    html = login(alice).get(leave_url(alice)).content.decode()
    assert "You can't leave Home yet" in html
    assert 'method="post"' not in html.split("<main", 1)[1]


def test_a_lone_owner_is_told_to_invite_someone_first(alice, login):
    html = login(alice).get(leave_url(alice)).content.decode()
    assert "Invite someone, make them an owner, and then you can leave." in html
