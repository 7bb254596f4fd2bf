"""Claims, leases, spreading, back-off and pruning (no simulator needed for most)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from devices import leases, sync, sync_job
from devices.history import SyncOutcome, SyncRecord
from devices.models import AccountStatus, CloudAccount

from .conftest import make_account

pytestmark = pytest.mark.django_db


def due(account, **fields):
    CloudAccount.objects.filter(pk=account.pk).update(
        next_sync_at=timezone.now() - timedelta(seconds=1), **fields
    )


def test_dispatch_claims_each_due_account_once_even_when_beats_are_doubled(home, queued):
    ok = make_account(home, "sid", label="due")
    throttled = make_account(home, "sid", label="throttled, backoff over")
    due(ok)
    due(throttled, status=AccountStatus.THROTTLED)
    not_yet = make_account(home, "sid", label="later")
    CloudAccount.objects.filter(pk=not_yet.pk).update(
        next_sync_at=timezone.now() + timedelta(minutes=5)
    )
    relink = make_account(home, "sid", label="needs re-link")
    due(relink, status=AccountStatus.REAUTH_REQUIRED)
    leased = make_account(home, "sid", label="leased")
    due(leased, lease_token="x:y", lease_until=timezone.now() + timedelta(minutes=1))

    assert sync.dispatch_due() == 2
    assert sync.dispatch_due() == 0  # the doubled beat finds nothing left to claim
    assert sorted(pk for pk, _, _ in queued) == sorted([ok.pk, throttled.pk])
    claimed = CloudAccount.objects.get(pk=ok.pk)
    assert claimed.lease_token == f"{queued[0][2]}:" or claimed.lease_token.endswith(":")


def test_an_expired_lease_is_taken_over_by_dispatch(home, queued):
    account = make_account(home, "sid")
    due(account, lease_token="dead:beef", lease_until=timezone.now() - timedelta(seconds=1))
    assert sync.dispatch_due() == 1


def test_the_claim_is_a_compare_and_swap(home):
    account = make_account(home, "sid")
    due(account)
    now = timezone.now()
    first = leases.claim(account.pk, now)
    assert first is not None
    assert leases.claim(account.pk, now) is None


def test_a_claimed_task_starts_once_and_a_redelivery_waits_for_the_lease(home):
    account = make_account(home, "sid")
    due(account)
    now = timezone.now()
    claim = leases.claim(account.pk, now)
    token, resumed = leases.acquire(account.pk, claim, now)
    assert token.startswith(f"{claim}:") and not resumed
    # Second delivery of the same message while the first runs: wait, do not run.
    with pytest.raises(leases.RetryLater):
        leases.acquire(account.pk, claim, now)
    # Its worker died: once the lease expired, the redelivery takes it over.
    later = now + leases.lease_ttl() + timedelta(seconds=1)
    taken_over, resumed = leases.acquire(account.pk, claim, later)
    assert resumed and taken_over != token and taken_over.startswith(f"{claim}:")
    # The old holder cannot extend or release a lease it lost.
    ctx = sync_job.SyncContext(account=account, record=None, token=token, budget=None)
    with pytest.raises(leases.LeaseLost):
        ctx.heartbeat()
    # A message of an older claim is simply skipped.
    assert leases.acquire(account.pk, "0123456789abcdef", later) is None


def test_two_direct_calls_one_syncs_and_one_skips(home, sim_settings):
    """Overlap, in-process: the second call finds the lease of the first."""
    account = make_account(home, "sid")
    token, _ = leases.acquire(account.pk, "", timezone.now())
    assert sync.run_sync(account.pk, trigger="manual") == SyncOutcome.SKIPPED
    record = SyncRecord.objects.get(account=account)
    assert record.outcome == SyncOutcome.SKIPPED
    assert CloudAccount.objects.get(pk=account.pk).lease_token == token


def test_request_sync_makes_due_now_and_queues_once_after_commit(
    home, queued, django_capture_on_commit_callbacks
):
    account = make_account(home, "sid")
    CloudAccount.objects.filter(pk=account.pk).update(
        next_sync_at=timezone.now() + timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        sync.request_sync(account)
        sync.request_sync(account)  # a double click
        assert queued == []  # nothing before the commit
    assert [(pk, trigger) for pk, trigger, _ in queued] == [(account.pk, "manual")]
    assert CloudAccount.objects.get(pk=account.pk).next_sync_at <= timezone.now()


def test_request_sync_respects_backoff_and_needs_relink(
    home, queued, django_capture_on_commit_callbacks
):
    throttled = make_account(home, "sid")
    until = timezone.now() + timedelta(minutes=20)
    CloudAccount.objects.filter(pk=throttled.pk).update(
        status=AccountStatus.THROTTLED, next_sync_at=until
    )
    relink = make_account(home, "sid")
    CloudAccount.objects.filter(pk=relink.pk).update(status=AccountStatus.REAUTH_REQUIRED)
    with django_capture_on_commit_callbacks(execute=True):
        sync.request_sync(throttled)
        sync.request_sync(relink)
    assert queued == []
    assert CloudAccount.objects.get(pk=throttled.pk).next_sync_at == until
    # Right after a re-link the linking code asks with trigger="link": that one syncs.
    with django_capture_on_commit_callbacks(execute=True):
        sync.request_sync(relink, trigger="link")
    assert [(pk, trigger) for pk, trigger, _ in queued] == [(relink.pk, "link")]


def test_accounts_are_spread_over_their_interval_not_all_at_the_full_hour(home):
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    accounts = [make_account(home, "sid", label=f"a{i}") for i in range(60)]
    minutes = Counter(sync.next_slot(a, now).minute % 15 for a in accounts)
    assert len(minutes) >= 12  # nearly every minute of the 15 has some
    assert max(minutes.values()) <= 10
    for account in accounts:
        slot = sync.next_slot(account, now)
        assert now + timedelta(minutes=7) <= slot <= now + timedelta(minutes=23)
        # The phase is stable: the next slot after this one is one interval later.
        again = sync.next_slot(account, slot)
        assert abs((again - slot).total_seconds() - 900) <= 16


@pytest.mark.parametrize("interval", [5, 15, 30, 60, 1440])
@pytest.mark.parametrize("first_id", [1, 3, 1051, 77_777])
def test_any_run_of_account_ids_spreads_over_the_minutes_of_every_interval(interval, first_id):
    """Ids come in a row (and start anywhere on Postgres): 50 of them must cover most
    minutes of the interval. The old phase (pk * constant % interval) put 50 ids with a
    30-minute interval on 15 even minutes only."""
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    accounts = [
        CloudAccount(pk=pk, sync_interval_minutes=interval) for pk in range(first_id, first_id + 50)
    ]
    minutes = Counter(int((sync.next_slot(a, now) - now).total_seconds() // 60) for a in accounts)
    assert len(minutes) >= min(interval, 50) * 0.6
    assert max(minutes.values()) <= max(3, 50 / interval * 3)


def test_backoff_grows_with_jitter_honours_retry_after_and_is_capped():
    assert 30 <= sync_job.backoff(1, None, rate_limited=False) <= 60
    assert 240 <= sync_job.backoff(4, None, rate_limited=False) <= 480
    assert sync_job.backoff(1, 120, rate_limited=True) >= 120
    assert sync_job.backoff(1, None, rate_limited=True) >= 30
    assert sync_job.backoff(30, None, rate_limited=False) <= 3600
    assert sync_job.backoff(1, 99999, rate_limited=True) == 3600
    assert len({sync_job.backoff(6, None, rate_limited=False) for _ in range(20)}) > 1


def test_prune_keeps_thirty_days_and_always_the_last_fifty(home):
    busy, quiet = make_account(home, "sid"), make_account(home, "sid")
    now = timezone.now()
    old = now - timedelta(days=40)
    SyncRecord.objects.bulk_create(
        [
            SyncRecord(account=busy, started_at=old - timedelta(minutes=i), outcome="ok")
            for i in range(80)
        ]
        + [
            SyncRecord(account=busy, started_at=now - timedelta(minutes=i), outcome="ok")
            for i in range(10)
        ]
        + [
            SyncRecord(account=quiet, started_at=old - timedelta(minutes=i), outcome="ok")
            for i in range(5)
        ]
    )
    deleted = sync.prune_records(now)
    assert deleted == 40
    assert SyncRecord.objects.filter(account=busy).count() == 50
    assert SyncRecord.objects.filter(account=quiet).count() == 5


def test_the_beat_schedule_names_these_tasks(settings):
    from dashboard.celery import app

    app.loader.import_default_modules()  # what a worker does at start (autodiscovery)
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for task in ("dispatch_due_syncs", "refresh_catalogues", "prune_sync_records", "sync_account"):
        assert f"devices.sync_tasks.{task}" in app.tasks
    assert "devices.sync_tasks.dispatch_due_syncs" in names


def test_the_sync_task_has_time_limits_above_the_http_timeouts():
    from devices.cloud import BACKGROUND_TIMEOUT
    from devices.sync_tasks import sync_account

    assert sum(BACKGROUND_TIMEOUT) * 2 < sync_job.deadline_seconds() < sync_account.soft_time_limit
    assert sync_account.soft_time_limit < sync_account.time_limit
    assert leases.lease_ttl().total_seconds() > sum(BACKGROUND_TIMEOUT) * 2


def test_details_passes_have_their_own_queue_which_workers_take_last(settings):
    """The wiring tests/sync/test_worker_priority.py relies on, as settings and the
    Procfile have it (the filesystem branch or the Redis one, whichever this run uses)."""
    from dashboard.celery import app
    from devices.sync_tasks import fetch_run_details

    assert [queue.name for queue in settings.CELERY_TASK_QUEUES] == ["celery", "details"]
    route = app.amqp.router.route({}, fetch_run_details.name)
    assert route["queue"].name == "details"
    assert app.amqp.router.route({}, "devices.sync_tasks.sync_account")["queue"].name == "celery"
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["queue_order_strategy"] == "priority"
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        assert settings.CELERY_BROKER_TRANSPORT == "dashboard.broker:Transport"
    procfile = (settings.BASE_DIR / "Procfile").read_text()
    worker = next(line for line in procfile.splitlines() if line.startswith("worker:"))
    assert "--queues celery,details" in worker
    assert fetch_run_details.acks_late and fetch_run_details.soft_time_limit == 600
