"""Shared fixtures: the personas of docs/style.md.

alice owns "Home", oscar operates in Home, bob views Home, carol is an outsider who owns
her own household. Everyone's password is PASSWORD.
"""

import pytest

# Django is imported inside the fixtures, so the framework-free suites (tests/clouds,
# tests/simulator) can also run with `-p no:django`.

# The cloud simulator's fixtures (`sim`, ...) for the whole suite.
pytest_plugins = ["simulator.pytest_plugin"]

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _fast_password_hashing(request):
    """Hashing passwords properly is slow by design; tests need it only to be correct."""
    if request.config.pluginmanager.hasplugin("django"):
        settings = request.getfixturevalue("settings")
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_member(username: str, household, role: str):
    from accounts.models import Membership, User

    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD)
    Membership.objects.create(user=user, household=household, role=role)
    return user


@pytest.fixture
def home(db):
    from accounts.models import Household

    return Household.objects.create(name="Home", time_zone="Europe/Berlin")


@pytest.fixture
def alice(home):
    return make_member("alice", home, "owner")


@pytest.fixture
def oscar(home):
    return make_member("oscar", home, "operator")


@pytest.fixture
def bob(home):
    return make_member("bob", home, "viewer")


@pytest.fixture
def carol(db):
    from accounts.models import Household

    flat = Household.objects.create(name="Carol's flat", time_zone="UTC")
    return make_member("carol", flat, "owner")


@pytest.fixture
def login():
    """login(user) -> a Django test Client signed in as that user (CSRF enforced)."""

    from django.test import Client

    def signed_in(user, *, enforce_csrf_checks: bool = False) -> Client:
        client = Client(enforce_csrf_checks=enforce_csrf_checks)
        client.force_login(user)
        return client

    return signed_in


@pytest.fixture
def isolated_cache(settings):
    """A private, empty in-process cache for one test: what another test (or a dev server
    on the same DATA_DIR) left in the shared cache must not leak in, and the report caches
    (dashboard.report_cache) must start cold. Not for tests with worker processes, which
    share the configured cache."""
    import uuid

    from django.core.cache import cache

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            # A name of its own: a thread a previous test left running (an in-process
            # worker finishing its task) keeps writing to the cache it had, not this one.
            "LOCATION": f"isolated-test-cache-{uuid.uuid4().hex}",
        }
    }
    from devices import catalogue

    cache.clear()
    catalogue._memo.clear()  # its in-process memo of cached values, read by other tests
    yield
    cache.clear()
    catalogue._memo.clear()
