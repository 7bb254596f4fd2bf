"""Who may use each accounts view: owner / operator / viewer / outsider / anonymous.

Outsiders get 404, too-low roles 403, a wrong method 405, anonymous people are sent to sign
in. Every URL name of the accounts app is in MATRIX or PUBLIC, so a new view cannot land
without a row here. Everyone signed in is in sudo mode, so the role check itself is what is
tested (tests/accounts/test_sudo.py covers the missing-sudo case).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from accounts.models import Role
from tests.conftest import PASSWORD


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: Callable[[SimpleNamespace], str]
    ok: int
    # None: any signed-in person. Otherwise the URL names Home and needs at least this role.
    minimum: str | None = None
    data: dict = field(default_factory=dict)
    wrong_method: str = "put"

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.name}"


def home_url(name: str, *extra: Callable[[SimpleNamespace], int]):
    return lambda w: reverse(f"accounts:{name}", args=[w.home.pk, *(f(w) for f in extra)])


def bob_membership(w):
    return w.bob.memberships.get().pk


def plain(name: str):
    return lambda w: reverse(f"accounts:{name}")


NEW_PASSWORD = "another-horse-battery-7"

MATRIX = [
    Case("household", "get", plain("household"), 200, wrong_method="post"),
    Case("household_create", "get", plain("household_create"), 200),
    Case(
        "household_create",
        "post",
        plain("household_create"),
        302,
        data={"name": "Cabin", "time_zone": "UTC"},
    ),
    Case("household_settings", "get", home_url("household_settings"), 200, Role.OWNER),
    Case(
        "household_settings",
        "post",
        home_url("household_settings"),
        302,
        Role.OWNER,
        data={"name": "Our home", "time_zone": "Europe/Vienna"},
    ),
    Case(
        "household_switch",
        "post",
        home_url("household_switch"),
        302,
        Role.VIEWER,
        wrong_method="get",
    ),
    Case("household_leave", "get", home_url("household_leave"), 200, Role.VIEWER),
    Case("household_leave", "post", home_url("household_leave"), 302, Role.VIEWER),
    Case(
        "member_role",
        "post",
        home_url("member_role", bob_membership),
        302,
        Role.OWNER,
        data={"role": Role.OPERATOR},
        wrong_method="get",
    ),
    Case("member_remove", "get", home_url("member_remove", bob_membership), 200, Role.OWNER),
    Case("member_remove", "post", home_url("member_remove", bob_membership), 302, Role.OWNER),
    Case("invite", "get", home_url("invite"), 200, Role.OWNER),
    Case(
        "invite",
        "post",
        home_url("invite"),
        200,
        Role.OWNER,
        data={"email": "erin@example.com", "role": Role.VIEWER},
    ),
    Case(
        "invitation_revoke",
        "post",
        home_url("invitation_revoke", lambda w: w.invitation.pk),
        302,
        Role.OWNER,
        wrong_method="get",
    ),
    Case("sudo", "get", plain("sudo"), 200),
    Case("sudo", "post", plain("sudo"), 302, data={"password": PASSWORD}),
    Case("password_change", "get", plain("password_change"), 200),
    Case(
        "password_change",
        "post",
        plain("password_change"),
        302,
        data={
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    ),
    Case("logout", "post", plain("logout"), 302, wrong_method="get"),
]

# Reachable without signing in; their own test files cover them.
PUBLIC = {
    "login",
    "setup",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "invitation_accept",
}

PERSONAS = {"owner": "alice", "operator": "oscar", "viewer": "bob", "outsider": "carol"}
ROLE_OF = {"owner": Role.OWNER, "operator": Role.OPERATOR, "viewer": Role.VIEWER}


@pytest.fixture
def world(alice, oscar, bob, carol, invitation):
    home = alice.memberships.get().household
    return SimpleNamespace(
        home=home, alice=alice, oscar=oscar, bob=bob, carol=carol, invitation=invitation[0]
    )


def expected_status(case: Case, persona: str) -> int:
    if case.minimum is None:
        return case.ok
    if persona == "outsider":
        return 404
    if Role.rank(ROLE_OF[persona]) < Role.rank(case.minimum):
        return 403
    return case.ok


@pytest.mark.parametrize("persona", list(PERSONAS))
@pytest.mark.parametrize("case", MATRIX, ids=str)
def test_members_and_outsiders_get_the_status_their_role_allows(case, persona, world, sudo_login):
    client = sudo_login(getattr(world, PERSONAS[persona]))
    response = getattr(client, case.method)(case.url(world), case.data)
    assert response.status_code == expected_status(case, persona)
    if response.status_code == 302 and case.name != "logout":
        assert not response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("case", MATRIX, ids=str)
def test_anonymous_people_are_sent_to_sign_in(case, world):
    url = case.url(world)
    response = getattr(Client(), case.method)(url, case.data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


@pytest.mark.parametrize("case", MATRIX, ids=str)
def test_the_wrong_method_is_refused(case, world, sudo_login):
    client = sudo_login(world.alice)
    response = getattr(client, case.wrong_method)(case.url(world))
    assert response.status_code == 405


def test_every_accounts_view_is_in_the_matrix_or_public():
    resolver = get_resolver()
    namespace_resolver = resolver.namespace_dict["accounts"][1]
    names = {p.name for p in namespace_resolver.url_patterns if p.name}
    covered = {case.name for case in MATRIX} | PUBLIC
    assert names == covered
