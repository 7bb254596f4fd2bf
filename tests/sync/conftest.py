"""Fixtures for the background sync tests: linked accounts against the simulator."""

from __future__ import annotations

import pytest

SID_QID = "1234123412"
SID = "4a20145c62428d31b52b53c9ccbfcee4"
QT_QID = "2000000002"
Q = "u=360H2000000002&n=demo&qid=2000000002&t=1"
T = "s=simT2000000002&t=1&v=2.0&a=1"
CLIENT_ID, CLIENT_SECRET = "sim-client-1", "sim-secret-1"
# Seeded devices (cloud-apis.md 5.3.1, 5.4.1).
SID_ONLINE_SNS = ["361TY000003000000", "360TY000001000001", "360TY000100000100"]
OFFLINE_SN = "361TY000009000009"


def point_settings_at(settings, url: str) -> None:
    settings.QIHOO360_API_URL = url
    settings.QIHOO360_CONFIG_URL = url
    settings.MAMMOTION_AUTH_URL = url
    settings.MAMMOTION_OPEN_API_URL = url
    settings.MAMMOTION_USER_URL = url


@pytest.fixture
def sim_settings(settings, sim, tmp_path):
    """Settings pointed at the (freshly reset) simulator; maps under a temporary
    MEDIA_ROOT; short HTTP timeouts so timeouts can be tested; a clean cache."""
    from django.core.cache import cache

    from devices import catalogue

    point_settings_at(settings, sim.url)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SYNC_HTTP_TIMEOUT = (2.0, 3.0)
    # Tests that need every run's detail raise this; the rest stay fast.
    settings.SYNC_MAX_DETAILS_PER_SYNC = 30
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    catalogue._memo.clear()
    return sim


@pytest.fixture
def queued(monkeypatch):
    """Record queued sync tasks instead of sending them to a broker."""
    calls = []
    monkeypatch.setattr(
        "devices.sync._queue", lambda pk, trigger, claim: calls.append((pk, trigger, claim))
    )
    return calls


def make_account(household, kind: str, *, budget: int = 100_000, label: str | None = None, **extra):
    """A linked account of `kind` "sid", "qt" or "mammotion" (credentials as devices/cloud.py
    reads them)."""
    from devices.models import CloudAccount, LinkMethod, Vendor

    if kind == "sid":
        account = CloudAccount(
            household=household,
            vendor=Vendor.QIHOO360,
            method=LinkMethod.QIHOO360_SID,
            identity=extra.pop("qid", SID_QID),
        )
        secrets = {"sid": extra.pop("sid", SID)}
    elif kind == "qt":
        account = CloudAccount(
            household=household,
            vendor=Vendor.QIHOO360,
            method=LinkMethod.QIHOO360_QT,
            identity=QT_QID,
        )
        secrets = {"q": Q, "t": T, **({"sid": extra.pop("sid")} if "sid" in extra else {})}
    else:
        account = CloudAccount(
            household=household,
            vendor=Vendor.MAMMOTION,
            method=LinkMethod.MAMMOTION_OPEN_API,
            identity=CLIENT_ID,
        )
        secrets = {"client_id": extra.pop("client_id", CLIENT_ID), "client_secret": CLIENT_SECRET}
    account.label = label or f"{kind} account"
    account.request_budget_per_hour = budget
    for name, value in extra.items():
        setattr(account, name, value)
    account.set_credentials(secrets)
    account.save()
    return account


def sim_run_counts(sim) -> dict[str, int]:
    """Runs the simulator holds per 360 device (sn -> count), from its state dump."""
    devices = sim.state()["vendors"]["qihoo360"]["devices"]
    return {sn: device["records"] for sn, device in devices.items()}


def sync_now(account, trigger: str = "manual") -> str:
    """Run one sync of `account` in this thread (as the task would), return its outcome."""
    from devices.sync_tasks import sync_account

    return sync_account(account.pk, trigger=trigger)
