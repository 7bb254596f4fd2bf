"""Celery tasks for background sync (see devices/sync.py and devices/sync_details.py).
Each loads ids and calls a service. Retries of a failed vendor call are not Celery
retries: the account's next due time backs off instead, so the beat's dispatch picks it
up again (and a job that is redelivered while its first delivery may still run waits
for the lease).

`fetch_run_details` goes to the "details" queue (settings: CELERY_TASK_ROUTES), which
workers take only when no sync waits; everything else goes to the default queue."""

from celery import shared_task

from devices import catalogue, sync, sync_details
from devices.leases import RetryLater

# Time limits above the HTTP timeouts (connect 5 s, read 30 s, one retry of reads) and
# above the job's own deadline (SYNC_DEADLINE_SECONDS, 540 s by default), which stops a
# job cleanly as "timed out" on any pool; the soft limit does the same on prefork.
SYNC_SOFT_TIME_LIMIT = 600
SYNC_HARD_TIME_LIMIT = 660
MAX_RETRY_COUNTDOWN_S = 600.0

__all__ = [
    "dispatch_due_syncs",
    "fetch_run_details",
    "prune_sync_records",
    "refresh_catalogues",
    "sync_account",
]


def _countdown(wait: RetryLater) -> float:
    return min(max(wait.countdown, 1.0), MAX_RETRY_COUNTDOWN_S)


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
    except RetryLater as wait:
        raise self.retry(countdown=_countdown(wait)) from None


@shared_task(
    bind=True,
    name="devices.sync_tasks.fetch_run_details",
    soft_time_limit=SYNC_SOFT_TIME_LIMIT,
    time_limit=SYNC_HARD_TIME_LIMIT,
    acks_late=True,
    max_retries=20,
)
def fetch_run_details(self, account_pk: int, lease_token: str = "") -> str:
    """One run details pass of an account. `lease_token` is the claim made by the sync
    (or the pass) that queued it."""
    try:
        return sync_details.run_details(account_pk, lease_token=lease_token)
    except RetryLater as wait:
        raise self.retry(countdown=_countdown(wait)) from None


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
