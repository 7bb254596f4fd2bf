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


def use_broker(app, url: str, options: dict) -> None:
    """Point the Celery app at another broker (drops pooled connections)."""
    from kombu import pools

    app.conf.broker_url = url
    app.conf.broker_transport_options = options
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    pools.reset()  # kombu's process-wide producer pools hold the old connections


@contextlib.contextmanager
def broker(kind: str, tmp_path):
    from dashboard.celery import app

    saved = (app.conf.broker_url, dict(app.conf.broker_transport_options or {}))
    if kind == "redis":
        import redis

        url = redis_url()
        # A database of its own for tests: drop queued *and* unacknowledged messages of
        # earlier tests (their account ids may be reused by this test's rows).
        redis.Redis.from_url(url).flushdb()
        use_broker(app, url, {"visibility_timeout": 3600})
    else:
        use_broker(app, "filesystem://", filesystem_options(tmp_path / "broker"))
    try:
        yield app
    finally:
        use_broker(app, *saved)


@contextlib.contextmanager
def worker(kind: str, tmp_path, concurrency: int = 2):
    from celery.contrib.testing.worker import start_worker

    global WORKER_LOG
    WORKER_LOG = tmp_path / f"worker-{kind}.log"
    with broker(kind, tmp_path) as app:
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


def finished_records(account, count: int, timeout: float = 60.0):
    from devices.history import SyncOutcome, SyncRecord

    def done():
        rows = list(
            SyncRecord.objects.filter(account=account)
            .exclude(outcome=SyncOutcome.RUNNING)
            .order_by("started_at", "pk")
        )
        return rows if len(rows) >= count else None

    return wait_for(done, timeout, f"{count} finished syncs")
