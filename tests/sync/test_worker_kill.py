"""R2: a worker SIGKILLed mid-sync on Redis; a new worker finishes that sync exactly once.

The workers are real `celery -A dashboard worker` subprocesses on the test database.
Redis keeps the killed worker's unacknowledged message and redelivers it (acks_late,
reject_on_worker_lost; the visibility timeout is cut to 8 s here, see worker_settings).
The redelivered task finds the lease of its own claim still started by the dead
worker; once the lease expires (6 s here) it takes it over and finishes the sync.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from devices import sync
from devices.history import Run, SyncOutcome, SyncRecord
from devices.machines import Device
from devices.models import CloudAccount

from .conftest import make_account, sim_run_counts
from .workers import broker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
DETAILS = 60


def start_worker_process(broker_url: str, sim_url: str, media_root: Path, log: Path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.sync.worker_settings",
        "PYTHONPATH": str(ROOT),
        "SYNC_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
        "SYNC_TEST_BROKER_URL": broker_url,
        "SYNC_TEST_MEDIA_ROOT": str(media_root),
        "SYNC_MAX_DETAILS_PER_SYNC": str(DETAILS),
        **{
            name: sim_url
            for name in (
                "QIHOO360_API_URL",
                "QIHOO360_CONFIG_URL",
                "MAMMOTION_AUTH_URL",
                "MAMMOTION_OPEN_API_URL",
                "MAMMOTION_USER_URL",
            )
        },
    }
    command = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "dashboard",
        "worker",
        "--pool",
        "threads",
        "--concurrency",
        "1",
        "--loglevel",
        "INFO",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
    ]
    handle = log.open("ab")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)


def wait_for_or_show(log: Path, predicate, **kw):
    try:
        return wait_for(predicate, **kw)
    except AssertionError as exc:
        import redis

        from .workers import redis_url

        client = redis.Redis.from_url(redis_url())
        keys = {k.decode(): client.type(k).decode() for k in client.keys("*")}
        raise AssertionError(
            f"{exc}; redis keys {keys}; records "
            f"{list(SyncRecord.objects.values_list('outcome', 'error'))}; lease "
            f"{list(CloudAccount.objects.values_list('lease_token', 'lease_until'))}; "
            f"worker log:\n{log.read_text()[-2500:]}"
        ) from None


def test_a_sigkilled_sync_is_redelivered_and_finished_exactly_once(home, sim_settings, tmp_path):
    account = make_account(home, "sid")
    # Each run detail takes a moment, so the sync is surely mid-way when it is killed.
    sim_settings.add_fault(vendor="qihoo360", path="/clean/record/getOne", delay=0.1, count=-1)
    log = tmp_path / "workers.log"
    with broker("redis", tmp_path) as app:
        url = app.conf.broker_url
        sync.request_sync(account)
        first = start_worker_process(url, sim_settings.url, tmp_path / "media", log)
        try:
            wait_for_or_show(
                log,
                lambda: Run.objects.filter(detail_synced_at__isnull=False).count() >= 10,
                timeout=60,
                what="the first worker to be mid-way through the details",
            )
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        killed = SyncRecord.objects.exclude(outcome=SyncOutcome.SKIPPED).get(account=account)
        assert killed.outcome == SyncOutcome.RUNNING
        token = CloudAccount.objects.get(pk=account.pk).lease_token
        assert token.count(":") == 1 and not token.endswith(":")  # started, never released

        second = start_worker_process(url, sim_settings.url, tmp_path / "media", log)
        try:
            done = wait_for_or_show(
                log,
                lambda: SyncRecord.objects.filter(account=account, outcome=SyncOutcome.OK).first(),
                timeout=90,
                what="the second worker to finish the sync",
            )
            time.sleep(4)  # a further redelivery would show up here
        finally:
            second.send_signal(signal.SIGTERM)
            try:
                second.wait(20)
            except subprocess.TimeoutExpired:
                second.kill()

    records = list(SyncRecord.objects.filter(account=account).order_by("started_at", "pk"))
    finished = [r for r in records if r.outcome != SyncOutcome.SKIPPED]
    assert [r.outcome for r in finished] == [SyncOutcome.ERROR, SyncOutcome.OK], log.read_text()[
        -3000:
    ]
    assert "Interrupted" in finished[0].error
    # The redelivered message (same claim, same trigger) finished it, not a new dispatch.
    assert done.trigger == "manual" and "Resumed" in done.error
    counts = {
        d.remote_id: Run.objects.filter(device=d).count()
        for d in Device.objects.filter(account=account)
    }
    assert counts == sim_run_counts(sim_settings)
    account.refresh_from_db()
    assert account.lease_token == "" and account.last_sync_ok_at is not None
    # Every run detail fetched by either worker is stored once; the rest wait for later.
    assert Run.objects.filter(detail_synced_at__isnull=False).count() >= DETAILS
