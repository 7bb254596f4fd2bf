"""R2: a worker SIGKILLed mid-sync (or mid details pass) on Redis; a new worker finishes
that job exactly once.

The workers are real `celery -A dashboard worker` subprocesses on the test database.
Redis keeps the killed worker's unacknowledged message and redelivers it (acks_late,
reject_on_worker_lost; the visibility timeout is cut to 8 s here, see worker_settings).
The redelivered task finds the lease of its own claim still started by the dead
worker; once the lease expires (6 s here) it takes it over and finishes the job.
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
from .workers import broker, redis_prefix, wait_for

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
        "SYNC_TEST_BROKER_PREFIX": redis_prefix(),
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
        "--queues",
        "celery,details",
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


# What to slow down so the job is surely mid-way when its worker is killed, and how to
# see that it is: the sync's listing pages, or the details pass's getOne.
MIDWAY = {
    "manual": (
        "/clean/record/getList",
        0.2,
        lambda sim: len(sim.requests(vendor="qihoo360", path="/clean/record/getList")) >= 3,
    ),
    "details": (
        "/clean/record/getOne",
        0.1,
        lambda sim: Run.objects.filter(detail_synced_at__isnull=False).count() >= 10,
    ),
}


@pytest.mark.parametrize("killed", ["manual", "details"], ids=["sync", "details-pass"])
def test_a_sigkilled_job_is_redelivered_and_finished_exactly_once(
    killed, home, sim_settings, tmp_path
):
    # A budget that ends the details after the resumed pass (passes otherwise follow
    # one another until every run has its detail).
    account = make_account(home, "sid", budget=150)
    path, delay, midway = MIDWAY[killed]
    sim_settings.add_fault(vendor="qihoo360", path=path, delay=delay, count=-1)
    log = tmp_path / "workers.log"
    with broker("redis", tmp_path) as app:
        url = app.conf.broker_url
        sync.request_sync(account)
        first = start_worker_process(url, sim_settings.url, tmp_path / "media", log)
        try:
            wait_for_or_show(
                log,
                lambda: midway(sim_settings),
                timeout=60,
                what=f"the first worker to be mid-way through the {killed} job",
            )
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        running = SyncRecord.objects.get(account=account, outcome=SyncOutcome.RUNNING)
        assert running.trigger == killed
        token = CloudAccount.objects.get(pk=account.pk).lease_token
        assert token.count(":") == 1 and not token.endswith(":")  # started, never released

        second = start_worker_process(url, sim_settings.url, tmp_path / "media", log)
        try:
            done = wait_for_or_show(
                log,
                lambda: SyncRecord.objects.filter(
                    account=account, trigger=killed, outcome=SyncOutcome.OK
                ).first(),
                timeout=90,
                what=f"the second worker to finish the {killed} job",
            )
            if killed == "manual":  # the sync queues its details pass
                wait_for_or_show(
                    log,
                    lambda: (
                        SyncRecord.objects.filter(account=account, trigger="details")
                        .exclude(outcome=SyncOutcome.RUNNING)
                        .exists()
                    ),
                    timeout=60,
                    what="the details pass after the resumed sync",
                )
            time.sleep(4)  # a further redelivery would show up here
        finally:
            second.send_signal(signal.SIGTERM)
            try:
                second.wait(20)
            except subprocess.TimeoutExpired:
                second.kill()

    records = list(SyncRecord.objects.filter(account=account).order_by("started_at", "pk"))
    shown = [(r.trigger, r.outcome, r.error[:80]) for r in records]
    finished = [r for r in records if r.trigger == killed and r.outcome != SyncOutcome.SKIPPED]
    assert [r.outcome for r in finished[:2]] == [SyncOutcome.ERROR, SyncOutcome.OK], shown
    assert "Interrupted" in finished[0].error
    # The redelivered message (same claim, same trigger) finished it, not a new dispatch,
    # and only once.
    assert done.pk == finished[1].pk and "Resumed" in done.error
    assert [r.pk for r in records if "Resumed" in r.error] == [done.pk], shown
    syncs = [r for r in records if r.trigger == "manual" and r.outcome == SyncOutcome.OK]
    assert len(syncs) == 1, shown
    counts = {
        d.remote_id: Run.objects.filter(device=d).count()
        for d in Device.objects.filter(account=account)
    }
    assert counts == sim_run_counts(sim_settings)
    account.refresh_from_db()
    assert account.last_sync_ok_at is not None
    # Every run detail fetched by either worker is stored once; the rest wait for later.
    assert Run.objects.filter(detail_synced_at__isnull=False).count() >= DETAILS
