"""Fixtures for the background sync tests: linked accounts against the simulator."""

from __future__ import annotations

import contextlib
from unittest import mock

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
def sim_settings(settings, sim, tmp_path, isolated_cache):
    """Settings pointed at the (freshly reset) simulator; maps under a temporary
    MEDIA_ROOT; short HTTP timeouts so timeouts can be tested; a private, empty cache
    (the shared one holds vendor totals keyed by account ids, which the test databases
    of parallel test processes reuse, and clearing Redis would drop the queued tasks of
    another process's worker test; the in-process workers share this one)."""
    from devices import catalogue

    point_settings_at(settings, sim.url)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SYNC_HTTP_TIMEOUT = (2.0, 3.0)
    # Run details per details pass (sync_now runs the one pass a sync queues): tests
    # that need every run's detail raise it; the rest stay fast.
    settings.SYNC_MAX_DETAILS_PER_SYNC = 30
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    catalogue._memo.clear()
    return sim


@pytest.fixture
def queued(monkeypatch):
    """Record queued sync tasks (and details passes, as trigger "details") instead of
    sending them to a broker."""
    calls = []
    monkeypatch.setattr(
        "devices.sync._queue", lambda pk, trigger, claim: calls.append((pk, trigger, claim))
    )
    monkeypatch.setattr(
        "devices.sync_details._queue", lambda pk, claim: calls.append((pk, "details", claim))
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


@contextlib.contextmanager
def jobs_queued():
    """Record the syncs and details passes queued meanwhile, as (kind, pk, trigger,
    claim) with kind "sync" or "details", instead of sending them to a broker."""
    jobs = []

    def sync(pk, trigger, claim):
        jobs.append(("sync", pk, trigger, claim))

    def details(pk, claim):
        jobs.append(("details", pk, "details", claim))

    with (
        mock.patch("devices.sync._queue", sync),
        mock.patch("devices.sync_details._queue", details),
    ):
        yield jobs


def run_job(kind: str, pk: int, trigger: str = "manual", claim: str = "") -> str:
    """Run one queued job in this thread as its task would, with what it queues on
    commit queued right away (tests run inside a transaction that never commits)."""
    from django.test import TestCase

    from devices.sync_tasks import fetch_run_details, sync_account

    with TestCase.captureOnCommitCallbacks(execute=True):
        if kind == "sync":
            return sync_account(pk, trigger=trigger, lease_token=claim)
        return fetch_run_details(pk, lease_token=claim)


def run_queued(jobs: list, *, passes: int = 100) -> list[tuple[str, str]]:
    """Work off `jobs` (and what they queue) as one worker would, syncs before details
    passes, running at most `passes` details passes; the jobs left over expire unrun
    (their claims lapse, see expire). Returns (kind, outcome) per job run."""
    done = []
    while jobs:
        jobs.sort(key=lambda job: job[0] != "sync")  # stable: in queue order otherwise
        if jobs[0][0] == "details" and passes <= 0:
            break
        kind, *args = jobs.pop(0)
        passes -= kind == "details"
        with jobs_queued() as queued:
            done.append((kind, run_job(kind, *args)))
        jobs.extend(queued)
        assert len(done) < 200, f"runaway jobs: {done}"
    expire(jobs)
    return done


def expire(jobs: list) -> None:
    """As if these queued jobs had expired before a worker took them: their claims lapse
    (the claim's expiry passed), so the account is free again."""
    from devices.models import CloudAccount

    for _, pk, _, claim in jobs:
        CloudAccount.objects.filter(pk=pk, lease_token=f"{claim}:").update(
            lease_token="", lease_until=None
        )
    jobs.clear()


def sync_only(account, trigger: str = "manual") -> tuple[str, list]:
    """Run one sync of `account` in this thread; returns its outcome and the jobs it
    queued (not run)."""
    with jobs_queued() as jobs:
        outcome = run_job("sync", account.pk, trigger)
    return outcome, jobs


def sync_now(account, trigger: str = "manual", *, passes: int = 1) -> str:
    """Run one sync of `account` in this thread (as the task would), then the details
    pass it queued and, up to `passes` passes, those they queue, as a worker would;
    returns the sync's outcome."""
    with jobs_queued() as jobs:
        outcome = run_job("sync", account.pk, trigger)
    run_queued(jobs, passes=passes)
    return outcome


def last_sync(account):
    """The account's newest SyncRecord of a sync (not of a details pass)."""
    from devices.history import SyncRecord, SyncTrigger

    return SyncRecord.objects.filter(account=account).exclude(trigger=SyncTrigger.DETAILS).first()
