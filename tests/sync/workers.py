"""Helpers for tests with a real Celery worker (threads pool, in this process)."""

from __future__ import annotations

import contextlib
import time

import pytest

REDIS_URL = "redis://127.0.0.1:6379/15"
WORKER_LOG = None  # the log file of the worker started last (shown when a wait fails)


def redis_url() -> str:
    import os

    url = os.environ.get("REDIS_URL") or REDIS_URL
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        pytest.skip(f"Redis is not reachable at {url}")
    return url


def filesystem_options(folder) -> dict:
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        "control_folder": str(folder / "control"),
    }


def redis_prefix() -> str:
    """Keys of this test process on the test Redis database (parallel test processes,
    and test runs of other checkouts, share it: each keeps to its own queues)."""
    import os

    return f"sync-tests-{os.getpid()}:"


def drop_redis_keys(url: str) -> None:
    """Queued *and* unacknowledged messages of this process's earlier tests (their
    account ids may be reused by the next test's rows)."""
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{redis_prefix()}*"):
        client.delete(key)


def redis_options() -> dict:
    return {
        "visibility_timeout": 3600,
        "queue_order_strategy": "priority",  # as in settings
        "global_keyprefix": redis_prefix(),
    }


def use_broker(app, url: str, options: dict, transport: str | None = None) -> None:
    """Point the Celery app at another broker (drops pooled connections)."""
    from kombu import pools

    app.conf.broker_url = url
    app.conf.broker_transport = transport
    app.conf.broker_transport_options = options
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    pools.reset()  # kombu's process-wide producer pools hold the old connections


@contextlib.contextmanager
def broker(kind: str, tmp_path, **options):
    """The Celery app on a broker of its own for this test, the test settings' transport
    options updated with `options`."""
    from dashboard.celery import app

    saved = (
        app.conf.broker_url,
        dict(app.conf.broker_transport_options or {}),
        app.conf.broker_transport,
    )
    if kind == "redis":
        url = redis_url()
        drop_redis_keys(url)
        use_broker(app, url, {**redis_options(), **options})
    else:
        folders = filesystem_options(tmp_path / "broker")
        options = {**folders, "queue_order_strategy": "priority", **options}
        use_broker(app, "filesystem://", options, transport="dashboard.broker:Transport")
    try:
        yield app
    finally:
        use_broker(app, *saved)
        if kind == "redis":
            drop_redis_keys(url)


@contextlib.contextmanager
def worker(kind: str, tmp_path, concurrency: int = 2):
    """A worker (threads pool, in this process) on a broker of its own."""
    with broker(kind, tmp_path) as app, running_worker(app, tmp_path, concurrency) as app:
        yield app


@contextlib.contextmanager
def running_worker(app, tmp_path, concurrency: int = 2):
    """A worker for `app` as it is configured now, consuming every queue of the
    settings (CELERY_TASK_QUEUES) in their order, as the Procfile's does."""
    from celery.contrib.testing.worker import start_worker

    global WORKER_LOG
    WORKER_LOG = tmp_path / "worker.log"
    app.loader.import_default_modules()
    with start_worker(
        app,
        pool="threads",
        concurrency=concurrency,
        perform_ping_check=False,
        shutdown_timeout=60,
        loglevel="INFO",
        logfile=str(WORKER_LOG),
    ):
        yield app


def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    log = WORKER_LOG.read_text()[-3000:] if WORKER_LOG and WORKER_LOG.exists() else ""
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log}")


def finished_records(account, count: int, timeout: float = 60.0, *, trigger: str | None = None):
    """The account's first `count` finished SyncRecords (of `trigger` only, if given),
    once there are that many."""
    from devices.history import SyncOutcome, SyncRecord

    def done():
        rows = SyncRecord.objects.filter(account=account).exclude(outcome=SyncOutcome.RUNNING)
        if trigger is not None:
            rows = rows.filter(trigger=trigger)
        rows = list(rows.order_by("started_at", "pk"))
        return rows[:count] if len(rows) >= count else None

    return wait_for(done, timeout, f"{count} finished {trigger or 'sync'} records")
