"""Accounts in a real browser: first run, signing in and out, invitations, roles.

Every test also fails on any console error, page error or failed request (see conftest.py).
"""

import re

from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Membership, Role, User
from tests.browser.helpers import link_path_in_mail, log_in_with_form, sign_in_as
from tests.conftest import PASSWORD


def at(path: str) -> re.Pattern[str]:
    """Matches a page URL whose path is exactly `path` (any host, no query)."""
    return re.compile(rf"^https?://[^/]+{re.escape(path)}$")


OVERVIEW = reverse("dashboard:overview")
HOUSEHOLD = reverse("accounts:household")
LOGIN = reverse("accounts:login")
SETUP = reverse("accounts:setup")


def test_first_run_sets_up_owner_and_household(page, transactional_db):
    assert not User.objects.exists()
    page.goto("/")
    expect(page).to_have_url(at(SETUP))  # a fresh install is sent to set-up, not to sign-in

    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_label("Household name").fill("Lighthouse")
    page.get_by_role("button", name="Create account and household").click()

    expect(page).to_have_url(at(OVERVIEW))
    expect(page.get_by_role("heading", name="Lighthouse", level=1)).to_be_visible()
    expect(page.get_by_text("Welcome, ada.")).to_be_visible()
    expect(page.locator("summary", has_text="ada")).to_be_visible()  # the signed-in menu
    membership = Membership.objects.get(user__username="ada")
    assert (membership.household.name, membership.role) == ("Lighthouse", Role.OWNER)


def test_login_rejects_wrong_password_then_accepts_right_one(page, alice):
    log_in_with_form(page, "alice", "not-the-password")

    expect(page).to_have_url(at(LOGIN))
    expect(page.get_by_role("alert")).to_contain_text("enter a correct username and password")

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(at(OVERVIEW))
    expect(page.get_by_role("heading", name="Home", level=1)).to_be_visible()


def test_member_signs_out_from_the_menu(page, live_server, bob):
    sign_in_as(page, live_server, bob)
    page.goto("/")
    page.locator("summary", has_text="bob").click()
    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(at(LOGIN))
    page.goto(HOUSEHOLD)
    expect(page).to_have_url(re.compile(rf"{re.escape(LOGIN)}\?next="))


def test_owner_invites_operator_who_creates_account_and_joins(
    page, new_context, live_server, alice, mailoutbox
):
    sign_in_as(page, live_server, alice)
    page.goto(HOUSEHOLD)
    page.get_by_label("Email", exact=True).fill("olga@example.com")
    page.get_by_label("Role", exact=True).select_option("operator")
    page.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_role("heading", name="Invitation sent")).to_be_visible()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["olga@example.com"]
    link = link_path_in_mail(mailoutbox[0])

    invitee = new_context().new_page()  # another person's browser: no shared cookies
    invitee.goto(link)
    expect(invitee.get_by_role("heading", name="Join Home")).to_be_visible()
    expect(invitee.get_by_text("alice invited you to join as an operator")).to_be_visible()
    expect(invitee.get_by_label("Email (optional)")).to_have_value("olga@example.com")
    invitee.get_by_label("Username").fill("olga")
    invitee.get_by_label("Password", exact=True).fill(PASSWORD)
    invitee.get_by_label("Password confirmation").fill(PASSWORD)
    invitee.get_by_role("button", name="Create account and join").click()

    expect(invitee).to_have_url(at(OVERVIEW))
    expect(invitee.get_by_role("heading", name="Home", level=1)).to_be_visible()
    expect(invitee.get_by_text("Welcome to Home. You joined as an operator.")).to_be_visible()

    invitee.goto(HOUSEHOLD)
    expect(invitee.get_by_role("row", name=re.compile(r"olga \(you\)"))).to_contain_text("Operator")
    # The owner's list now shows olga, and the invitation is no longer pending.
    page.goto(HOUSEHOLD)
    expect(page.get_by_label("Role of olga")).to_have_value("operator")
    expect(page.get_by_text("olga@example.com")).to_have_count(0)


def test_owner_changes_viewer_to_operator(page, live_server, alice, bob):
    sign_in_as(page, live_server, alice)
    page.goto(HOUSEHOLD)
    bobs_row = page.get_by_role("row").filter(has_text="bob")
    expect(bobs_row.get_by_label("Role of bob")).to_have_value("viewer")

    bobs_row.get_by_label("Role of bob").select_option("operator")
    bobs_row.get_by_role("button", name="Change role").click()

    expect(page).to_have_url(at(HOUSEHOLD))
    expect(page.get_by_text("bob is now an operator.")).to_be_visible()
    expect(page.get_by_label("Role of bob")).to_have_value("operator")
    assert Membership.objects.get(user=bob).role == Role.OPERATOR


def test_viewer_does_not_see_owner_controls(page, live_server, alice, bob):
    sign_in_as(page, live_server, bob)
    page.goto(HOUSEHOLD)

    members = page.get_by_role("table")
    expect(members.get_by_role("row").filter(has_text="alice")).to_contain_text("Owner")
    expect(members.get_by_role("row").filter(has_text="bob (you)")).to_contain_text("Viewer")
    # Nothing to change roles, remove people, invite or rename the household.
    expect(page.get_by_role("combobox")).to_have_count(0)
    expect(page.get_by_role("button", name="Change role")).to_have_count(0)
    expect(page.get_by_role("link", name="Remove")).to_have_count(0)
    expect(page.get_by_role("heading", name="Invite someone")).to_have_count(0)
    expect(page.get_by_role("button", name="Send invitation")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("Rename"))).to_have_count(0)
    expect(page.get_by_role("link", name="Leave Home")).to_be_visible()


def test_owner_removes_member_after_confirming_password(page, live_server, alice, bob):
    sign_in_as(page, live_server, alice)
    page.goto(HOUSEHOLD)
    page.get_by_role("row").filter(has_text="bob").get_by_role("link", name="Remove").click()

    # Removing people is sensitive: the password is asked first, then the question is shown.
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Remove bob?")).to_be_visible()
    page.get_by_role("button", name="Remove from Home").click()

    expect(page).to_have_url(at(HOUSEHOLD))
    expect(page.get_by_text("bob no longer has access to Home.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="bob")).to_have_count(0)
    assert not Membership.objects.filter(user=bob).exists()
