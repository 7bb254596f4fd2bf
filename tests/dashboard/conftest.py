"""Fixtures for the report pages: alice's "Home" (Europe/Berlin) with a 360 vacuum and a
Mammotion mower, carol's flat with her own vacuum, and a quick way to add runs."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from devices.history import RunResult
from devices.models import CloudAccount, Device, Fault, LinkMethod, Run, Vendor

BERLIN = ZoneInfo("Europe/Berlin")
HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    # Whitenoise warns about a missing STATIC_ROOT in every request of a test; not news.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.filterwarnings("ignore:No directory at:UserWarning"))


_ids = itertools.count(1)


def local(*args) -> datetime:
    """An aware datetime in Berlin: local(2025, 3, 30, 23, 30)."""
    return datetime(*args, tzinfo=BERLIN)


def make_account(household, vendor=Vendor.QIHOO360, **fields) -> CloudAccount:
    method = LinkMethod.QIHOO360_SID if vendor == Vendor.QIHOO360 else LinkMethod.MAMMOTION_APP
    account = CloudAccount(
        household=household, vendor=vendor, method=method, label=f"{vendor} account", **fields
    )
    account.set_credentials({"sid": "not-a-real-sid"})  # linked (removal erases them)
    account.save()
    return account


def make_device(account, **fields) -> Device:
    mower = account.vendor == Vendor.MAMMOTION
    values = {
        "vendor": account.vendor,
        "kind": "mower" if mower else "vacuum",
        "remote_id": f"DEV{next(_ids)}",
        "name": "Luba" if mower else "Robbie",
        "model": "Luba 2 AWD" if mower else "S7",
        "state": "Standby" if mower else "charge",
        "charge_status": 1 if mower else None,
        "battery": 80,
        "status_observed_at": timezone.now(),
    }
    values.update(fields)
    return Device.objects.create(account=account, **values)


def make_run(device, started_at, *, area=10.0, duration=600, **fields) -> Run:
    values = {
        "remote_id": f"run-{next(_ids)}",
        "started_at": started_at,
        "ended_at": started_at + timedelta(seconds=duration) if started_at else None,
        "duration_s": duration,
        "area_m2": area,
        "result": RunResult.COMPLETED,
        "mode": "smartClean",
    }
    values.update(fields)
    return Run.objects.create(device=device, **values)


def bulk_runs(device, count: int, *, newest: datetime, step=timedelta(hours=3)) -> None:
    Run.objects.bulk_create(
        [
            Run(
                device=device,
                remote_id=f"bulk-{device.pk}-{i}",
                started_at=newest - i * step,
                ended_at=newest - i * step + timedelta(minutes=30),
                duration_s=1800,
                area_m2=20.0,
                result=RunResult.COMPLETED,
            )
            for i in range(count)
        ],
        batch_size=2000,
    )


def make_fault(device, occurred_at, **fields) -> Fault:
    values = {
        "remote_id": f"fault-{next(_ids)}",
        "code": "1005",
        "level": 2,
        "title": "Low battery; will recharge and resume",
        "solution": "Nothing to do: it resumes by itself.",
    }
    values.update(fields)
    return Fault.objects.create(device=device, occurred_at=occurred_at, **values)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The personas' passwords are hashed per test; the real hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_cache(isolated_cache):
    """The vendor error catalogue and the report caches live in the cache: each test
    starts with a private, empty one (tests/conftest.py)."""


@pytest.fixture
def account(home):
    return make_account(home)


@pytest.fixture
def mower_account(home):
    return make_account(home, Vendor.MAMMOTION)


@pytest.fixture
def vacuum(account):
    return make_device(account)


@pytest.fixture
def mower(mower_account):
    return make_device(mower_account)


@pytest.fixture
def carol_vacuum(carol):
    flat = carol.memberships.get().household
    return make_device(make_account(flat), name="Carol's robot")
