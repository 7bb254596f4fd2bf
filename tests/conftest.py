"""Shared fixtures: the personas of docs/style.md.

alice owns "Home", oscar operates in Home, bob views Home, carol is an outsider who owns
her own household. Everyone's password is PASSWORD.
"""

import pytest
from django.test import Client

from accounts.models import Household, Membership, Role, User

# The cloud simulator's fixtures (`sim`, ...) for the whole suite.
pytest_plugins = ["simulator.pytest_plugin"]

PASSWORD = "correct-horse-battery-9"


def make_member(username: str, household: Household, role: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD)
    Membership.objects.create(user=user, household=household, role=role)
    return user


@pytest.fixture
def home(db):
    return Household.objects.create(name="Home", time_zone="Europe/Berlin")


@pytest.fixture
def alice(home):
    return make_member("alice", home, Role.OWNER)


@pytest.fixture
def oscar(home):
    return make_member("oscar", home, Role.OPERATOR)


@pytest.fixture
def bob(home):
    return make_member("bob", home, Role.VIEWER)


@pytest.fixture
def carol(db):
    flat = Household.objects.create(name="Carol's flat", time_zone="UTC")
    return make_member("carol", flat, Role.OWNER)


@pytest.fixture
def login():
    """login(user) -> a Django test Client signed in as that user (CSRF enforced)."""

    def signed_in(user, *, enforce_csrf_checks: bool = False) -> Client:
        client = Client(enforce_csrf_checks=enforce_csrf_checks)
        client.force_login(user)
        return client

    return signed_in
