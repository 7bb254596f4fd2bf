"""The household page, household settings, new households and switching between them."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.middleware import SESSION_KEY
from accounts.models import Household, Membership, Role
from tests.conftest import make_member

HOUSEHOLD = "/accounts/household/"


def test_members_see_everyone_with_their_roles(alice, oscar, bob, login):
    html = login(bob).get(HOUSEHOLD).content.decode()
    for name in ["alice", "oscar", "bob"]:
        assert name in html
    assert "Owner" in html and "Operator" in html and "Viewer" in html


def test_owners_see_pending_invitations_and_controls(alice, bob, invitation, login):
    html = login(alice).get(HOUSEHOLD).content.decode()
    assert "dave@example.com" in html
    assert reverse("accounts:invite", args=[alice.memberships.get().household_id]) in html
    assert 'name="role"' in html


def test_viewers_see_no_invitations_and_no_controls(alice, bob, invitation, login):
    html = login(bob).get(HOUSEHOLD).content.decode()
    assert "dave@example.com" not in html
    assert "Invite someone" not in html
    assert "/role/" not in html and "/remove/" not in html


def test_outsiders_see_only_their_own_household(alice, bob, carol, login):
    html = login(carol).get(HOUSEHOLD).content.decode()
    assert "Carol&#x27;s flat" in html
    assert "alice" not in html and "bob" not in html


def test_someone_without_a_household_gets_a_helpful_empty_state(db, login):
    from accounts.models import User

    loner = User.objects.create_user("loner", password="x")
    response = login(loner).get(HOUSEHOLD)
    assert response.status_code == 200
    assert "not in a household" in response.content.decode()
    assert reverse("accounts:household_create") in response.content.decode()


def test_household_page_needs_the_same_queries_for_more_members(
    alice, home, login, django_assert_max_num_queries
):
    client = login(alice)
    client.get(HOUSEHOLD)
    for n in range(10):
        make_member(f"member{n}", home, Role.VIEWER)
    with django_assert_max_num_queries(12):
        client.get(HOUSEHOLD)


# --- settings -----------------------------------------------------------------------------


def test_owner_renames_the_household_and_sets_its_time_zone(alice, home, login):
    url = reverse("accounts:household_settings", args=[home.pk])
    response = login(alice).post(url, {"name": "Our place", "time_zone": "America/New_York"})
    assert response["Location"] == HOUSEHOLD
    home.refresh_from_db()
    assert (home.name, home.time_zone) == ("Our place", "America/New_York")


def test_unknown_time_zone_is_an_error_next_to_the_field(alice, home, login):
    url = reverse("accounts:household_settings", args=[home.pk])
    response = login(alice).post(url, {"name": "Home", "time_zone": "Mars/Olympus"})
    assert 'id="id_time_zone_error"' in response.content.decode()
    home.refresh_from_db()
    assert home.time_zone == "Europe/Berlin"


def test_viewer_cannot_rename_the_household(alice, bob, home, login):
    url = reverse("accounts:household_settings", args=[home.pk])
    assert login(bob).post(url, {"name": "Bob's", "time_zone": "UTC"}).status_code == 403
    home.refresh_from_db()
    assert home.name == "Home"


# --- creating and switching ----------------------------------------------------------------


def test_anyone_signed_in_can_start_a_household_and_owns_it(bob, login):
    client = login(bob)
    response = client.post(
        reverse("accounts:household_create"), {"name": "Bob's flat", "time_zone": "UTC"}
    )
    assert response["Location"] == HOUSEHOLD
    flat = Household.objects.get(name="Bob's flat")
    assert Membership.objects.get(user=bob, household=flat).role == Role.OWNER
    assert client.session[SESSION_KEY] == flat.pk
    assert Membership.objects.get(user=bob, household__name="Home").role == Role.VIEWER


@pytest.fixture
def bob_in_two(bob, carol):
    flat = carol.memberships.get().household
    Membership.objects.create(user=bob, household=flat, role=Role.OPERATOR)
    return flat


def test_switching_sets_the_current_household(bob, bob_in_two, login):
    client = login(bob)
    response = client.post(reverse("accounts:household_switch", args=[bob_in_two.pk]))
    assert response["Location"] == reverse("dashboard:overview")
    assert client.session[SESSION_KEY] == bob_in_two.pk
    assert "Carol&#x27;s flat" in client.get(HOUSEHOLD).content.decode()


def test_switching_follows_a_safe_next_only(bob, bob_in_two, login):
    url = reverse("accounts:household_switch", args=[bob_in_two.pk])
    assert login(bob).post(url, {"next": HOUSEHOLD})["Location"] == HOUSEHOLD
    evil = login(bob).post(url, {"next": "https://evil.example/"})
    assert evil["Location"] == reverse("dashboard:overview")


def test_nobody_can_switch_into_someone_elses_household(bob, carol, login):
    client = login(bob)
    client.get(HOUSEHOLD)
    home_id = client.session[SESSION_KEY]
    flat = carol.memberships.get().household
    response = client.post(reverse("accounts:household_switch", args=[flat.pk]))
    assert response.status_code == 404
    assert client.session[SESSION_KEY] == home_id


def test_a_forged_session_household_is_ignored(bob, carol, login):
    client = login(bob)
    session = client.session
    session[SESSION_KEY] = carol.memberships.get().household_id
    session.save()
    html = client.get(HOUSEHOLD).content.decode()
    assert "alice" not in html and "Carol" not in html
    assert ">Home<" in html


def test_the_nav_offers_a_switcher_only_with_several_households(bob, bob_in_two, alice, login):
    several = login(bob).get(HOUSEHOLD).content.decode()
    assert reverse("accounts:household_switch", args=[bob_in_two.pk]) in several
    single = login(alice).get(HOUSEHOLD).content.decode()
    assert "/switch/" not in single


def test_anonymous_cannot_switch(bob_in_two):
    response = Client().post(reverse("accounts:household_switch", args=[bob_in_two.pk]))
    assert response["Location"].startswith(reverse("accounts:login"))


# --- what the page offers and says ----------------------------------------------------------


def role_select(membership) -> str:
    return f'id="role-{membership.pk}"'


def test_the_only_owner_is_not_offered_what_would_fail(alice, bob, home, login):
    html = login(alice).get(HOUSEHOLD).content.decode()
    assert role_select(alice.memberships.get()) not in html
    assert role_select(bob.memberships.get()) in html
    assert "You are the only owner, so you can't change your own role or leave." in html
    assert reverse("accounts:household_leave", args=[home.pk]) not in html


def test_with_another_owner_you_may_change_your_role_and_leave(alice, bob, home, login):
    Membership.objects.filter(user=bob).update(role=Role.OWNER)
    html = login(alice).get(HOUSEHOLD).content.decode()
    assert role_select(alice.memberships.get()) in html
    assert reverse("accounts:household_leave", args=[home.pk]) in html
    assert "only owner" not in html


def test_the_role_reads_with_the_right_article(alice, oscar, bob, login):
    assert "You are an owner here." in login(alice).get(HOUSEHOLD).content.decode()
    assert "You are an operator here." in login(oscar).get(HOUSEHOLD).content.decode()
    assert "You are a viewer here." in login(bob).get(HOUSEHOLD).content.decode()


def test_viewers_and_operators_are_told_whom_to_ask_for_more(alice, oscar, bob, login):
    assert "ask alice to make you an operator" in login(bob).get(HOUSEHOLD).content.decode()
    assert "ask alice to make you an owner" in login(oscar).get(HOUSEHOLD).content.decode()


def test_pending_invitations_say_when_they_expire_in_days(alice, invitation, login):
    html = login(alice).get(HOUSEHOLD).content.decode()
    assert "Joins as an operator · expires <time" in html
    assert ">in 7 days</time>" in html
    assert 'aria-label="Withdraw the invitation for dave@example.com"' in html


def test_the_nav_links_to_the_household_page_and_marks_it_current(bob, login):
    html = login(bob).get(HOUSEHOLD).content.decode()
    assert f'<a href="{HOUSEHOLD}" aria-current="page">Household</a>' in html


def test_settings_page_names_the_household(alice, home, login):
    html = login(alice).get(reverse("accounts:household_settings", args=[home.pk])).content.decode()
    assert "<h1>Settings for Home</h1>" in html
    assert '<option value="Europe/Berlin" selected>Berlin</option>' in html


def test_a_new_household_starts_in_the_current_households_time_zone(alice, login):
    html = login(alice).get(reverse("accounts:household_create")).content.decode()
    assert '<option value="Europe/Berlin" selected>Berlin</option>' in html
