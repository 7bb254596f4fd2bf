"""Celery tasks for background sync (see devices/sync.py). Each loads ids and calls a
service. Retries of a failed vendor call are not Celery retries: the account's next due
time backs off instead, so the beat's dispatch picks it up again (and a sync that is
redelivered while its first delivery may still run waits for the lease)."""

from celery import shared_task

from devices import catalogue, sync

# Time limits above the HTTP timeouts (connect 5 s, read 30 s, one retry of reads) and
# above the sync's own deadline (SYNC_DEADLINE_SECONDS, 540 s by default), which stops a
# sync cleanly as "timed out" on any pool; the soft limit does the same on prefork.
SYNC_SOFT_TIME_LIMIT = 600
SYNC_HARD_TIME_LIMIT = 660

__all__ = ["dispatch_due_syncs", "prune_sync_records", "refresh_catalogues", "sync_account"]


@shared_task(
    bind=True,
    name="devices.sync_tasks.sync_account",
    soft_time_limit=SYNC_SOFT_TIME_LIMIT,
    time_limit=SYNC_HARD_TIME_LIMIT,
    acks_late=True,
    max_retries=20,
)
def sync_account(self, account_pk: int, trigger: str = "schedule", lease_token: str = "") -> str:
    """Sync one account. `lease_token` is the claim made by dispatch/request_sync."""
    try:
        return sync.run_sync(account_pk, trigger=trigger, lease_token=lease_token)
    except sync.RetryLater as wait:
        raise self.retry(countdown=min(max(wait.countdown, 1.0), 600.0)) from None


@shared_task(name="devices.sync_tasks.dispatch_due_syncs")
def dispatch_due_syncs() -> int:
    """Beat, every minute: claim the due accounts and queue one sync for each."""
    return sync.dispatch_due()


@shared_task(name="devices.sync_tasks.refresh_catalogues")
def refresh_catalogues() -> int:
    """Beat, every 6 hours: the 360 error texts and model names (refetched daily)."""
    return catalogue.refresh()


@shared_task(name="devices.sync_tasks.prune_sync_records")
def prune_sync_records() -> int:
    """Beat, daily: drop sync records older than 30 days, keeping the last 50."""
    return sync.prune_records()
