"""Helpers for the accounts tests, on top of the personas in tests/conftest.py."""

import pytest
from django.utils import timezone

from accounts import sudo
from accounts.models import Invitation, Role


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 is slow on purpose; these tests hash many passwords and test no hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def put_in_sudo_mode(client, user) -> None:
    """As if `user` had just confirmed their password in this client's session."""
    session = client.session
    session[sudo.SESSION_KEY] = {"user": user.pk, "at": timezone.now().timestamp()}
    session.save()


@pytest.fixture
def sudo_login(login):
    """sudo_login(user) -> a client signed in as user and in sudo mode."""

    def signed_in(user, **kwargs):
        client = login(user, **kwargs)
        put_in_sudo_mode(client, user)
        return client

    return signed_in


@pytest.fixture
def invitation(home, alice):
    """A pending invitation to Home as operator, with its raw token: (invitation, token)."""
    return Invitation.issue(
        household=home, email="dave@example.com", role=Role.OPERATOR, invited_by=alice
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []
