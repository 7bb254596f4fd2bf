"""Fixtures and seed values shared by the linking tests (no tests in here).

Import the fixtures you use by name into a test module:
`from tests.devices.test_linking_fixtures import cloud, sync_calls  # noqa: F401`.
"""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from accounts import sudo
from devices.models import CloudAccount, Device

# The simulator's seeded accounts (cloud-apis.md 5.3.1, 5.4.1).
QID = "1234123412"
SID = "4a20145c62428d31b52b53c9ccbfcee4"
PUSH_KEY = "a1b2c3d4e5f60718a1b2c3d4e5f60718"
QT_QID = "2000000002"
Q = "u=360H2000000002&n=demo&qid=2000000002&t=1"
T = "s=simT2000000002&t=1&v=2.0&a=1"
CLIENT_ID, CLIENT_SECRET = "sim-client-1", "sim-secret-1"
EMPTY_CLIENT_ID, EMPTY_CLIENT_SECRET = "sim-client-empty", "sim-secret-empty"
APP_EMAIL, APP_PASSWORD = "owner@example.com", "Mower-Pass1"
BASE_URLS = (
    "QIHOO360_API_URL",
    "QIHOO360_CONFIG_URL",
    "MAMMOTION_USER_URL",
    "MAMMOTION_AUTH_URL",
    "MAMMOTION_OPEN_API_URL",
)


@pytest.fixture
def cloud(sim, settings, monkeypatch):
    """The simulator (reset), with the product's base URLs pointing at it, a private
    cache (area list, code cooldowns) and short link timeouts."""
    for name in BASE_URLS:
        setattr(settings, name, sim.url)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "linking-tests",
        }
    }
    cache.clear()
    monkeypatch.setattr("devices.linking_errors.LINK_TIMEOUT", (2.0, 1.0))
    monkeypatch.setattr("devices.linking_errors.RETRY_PAUSE", 0.05)
    return sim


@pytest.fixture
def sync_calls(monkeypatch):
    """Records request_sync calls as (account pk, trigger) instead of queueing syncs."""
    calls: list[tuple[int, str]] = []

    def record(account, *, trigger="manual"):
        calls.append((account.pk, trigger))

    monkeypatch.setattr("devices.sync.request_sync", record)
    return calls


def put_in_sudo_mode(client, user) -> None:
    session = client.session
    session[sudo.SESSION_KEY] = {"user": user.pk, "at": time.time()}
    session.save()


@pytest.fixture
def sudo_login(login):
    """sudo_login(user) -> a client signed in as user, in sudo mode."""

    def signed_in(user, **kwargs):
        client = login(user, **kwargs)
        put_in_sudo_mode(client, user)
        return client

    return signed_in


def nothing_stored() -> bool:
    return not CloudAccount.objects.exists() and not Device.objects.exists()
