"""Background sync of linked cloud accounts: who syncs when, and one account's sync.

    request_sync(account, trigger="manual")   make it due now; queue its sync on commit
    dispatch_due(now)                         beat, every minute: claim due accounts
    run_sync(account_pk, trigger, lease_token)  the body of the sync_account task
    prune_records()                           keep 30 days, and always the last 50

A sync reads the device list, the run listings, totals and status (devices/sync_360.py,
devices/sync_mammotion.py), never run details or maps: when runs without details
remain and the account's request budget has room for them, a sync that worked claims
the account again right after releasing it and queues a run details pass on the
low-priority "details" queue (devices/sync_details.py). So a sync of one account never
waits for the maps of another.

Never two jobs of one account at once: each holds the account's lease (claims and
leases: devices/leases.py; what a job shares: devices/sync_job.py). The end of a sync
releases the lease and sets the next due time in one UPDATE that only succeeds for the
holder.

Spreading: each account syncs at a fixed phase of its interval (a hash of its id), so
accounts linked together do not all sync at :00. Failures back off exponentially with
jitter, honouring Retry-After, capped at an hour.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from devices import leases, sync_job
from devices.history import SyncOutcome, SyncRecord
from devices.leases import CLAIM_TTL, CLAIMABLE, SYNCABLE_METHODS
from devices.models import AccountStatus, CloudAccount

MIN_INTERVAL_MINUTES = 5
MAX_INTERVAL_MINUTES = 1440
ACTIVE_STATUS_INTERVAL = timedelta(minutes=5)  # a mowing mower is re-read this often
KEEP_DAYS = 30
KEEP_LAST = 50
DISPATCH_LIMIT = 500


# --- scheduling ---------------------------------------------------------------------


def next_slot(account: CloudAccount, now: datetime) -> datetime:
    """The next sync time of this account: its phase within the interval, at least half
    an interval from now (so a late sync does not run twice in a row)."""
    interval = max(MIN_INTERVAL_MINUTES, account.sync_interval_minutes) * 60
    # A fixed offset per account, well spread for any run of ids: the high bits of a
    # multiplicative hash (Knuth). Its low bits (pk * constant % interval) were not: with
    # 30 minutes, ids in a row landed 16 min 1 s apart, all on even minutes.
    phase = ((account.pk * 2654435761) % 2**32) * interval >> 32
    earliest = now.timestamp() + interval / 2
    slot = (int((earliest - phase) // interval) + 1) * interval + phase
    return datetime.fromtimestamp(slot + random.uniform(0, 15), tz=now.tzinfo)  # noqa: S311


def _queue(pk: int, trigger: str, claim: str) -> None:
    from devices.sync_tasks import sync_account

    sync_account.apply_async(
        (pk,), {"trigger": trigger, "lease_token": claim}, expires=CLAIM_TTL.total_seconds()
    )


def _due(now: datetime):
    return CloudAccount.objects.filter(
        leases.claimable(now),
        next_sync_at__lte=now,
        status__in=CLAIMABLE,
        method__in=SYNCABLE_METHODS,
    )


def dispatch_due(now: datetime | None = None) -> int:
    """Claim the due accounts, at most DISPATCH_LIMIT, and queue one sync per claim;
    returns how many. One claim id for the lot and one compare-and-swap UPDATE: the
    conditions are checked again row by row as it writes, so of two doubled beats each
    account goes to one (a claim per account would cost a round trip each)."""
    now = now or timezone.now()
    due = list(_due(now).order_by("next_sync_at").values_list("pk", flat=True)[:DISPATCH_LIMIT])
    if not due:
        return 0
    claim = uuid.uuid4().hex[:16]
    _due(now).filter(pk__in=due).update(lease_token=f"{claim}:", lease_until=now + CLAIM_TTL)
    claimed = CloudAccount.objects.filter(pk__in=due, lease_token=f"{claim}:")
    queued = 0
    for pk in claimed.order_by("next_sync_at").values_list("pk", flat=True):
        _queue(pk, "schedule", claim)
        queued += 1
    return queued


def queue_if_due(pk: int, *, trigger: str = "schedule") -> bool:
    """Claim the account if it is due and queue its sync on commit (a details pass that
    ends hands the account over this way, not waiting for the next beat)."""
    claim = leases.claim(pk, timezone.now())
    if claim:
        transaction.on_commit(lambda: _queue(pk, trigger, claim))
    return bool(claim)


def request_sync(account: CloudAccount, *, trigger: str = "manual") -> None:
    """Make the account due now and queue its sync once the transaction commits. Safe
    to call twice: the second call finds the claim taken and queues nothing. A throttled
    account keeps its back-off; an account waiting for a re-link is not synced (except
    right after linking, `trigger="link"`). While a details pass holds the account, the
    pass sees it due within seconds, stops and queues this sync itself."""
    now = timezone.now()
    CloudAccount.objects.filter(pk=account.pk).exclude(
        status=AccountStatus.THROTTLED, next_sync_at__gt=now
    ).update(next_sync_at=now)
    statuses = [*CLAIMABLE, AccountStatus.REAUTH_REQUIRED] if trigger == "link" else CLAIMABLE
    claim = leases.claim(account.pk, now, statuses=statuses)
    if claim:
        transaction.on_commit(lambda: _queue(account.pk, trigger, claim))


# --- one sync -----------------------------------------------------------------------


def run_sync(account_pk: int, *, trigger: str = "schedule", lease_token: str = "") -> str:
    """Sync one account if this call gets (or already holds) its lease; returns the
    outcome. Raises RetryLater when another delivery of it may still be running. A sync
    that worked queues a details pass when runs wait for their details."""
    ctx = sync_job.start(account_pk, trigger=trigger, lease_token=lease_token)
    if ctx is None:
        return SyncOutcome.SKIPPED
    outcome, error = sync_job.perform(ctx, _vendor_sync)
    if _finish(ctx, outcome, error) and outcome in sync_job.DONE:
        from devices import sync_details

        sync_details.queue_if_pending(ctx.account)
    return outcome


def _vendor_sync(ctx: sync_job.SyncContext) -> None:
    from devices import sync_360, sync_mammotion

    if ctx.account.vendor == "qihoo360":
        sync_360.sync(ctx)
    else:
        sync_mammotion.sync(ctx)


def _finish(ctx: sync_job.SyncContext, outcome: str, error) -> bool:
    """Close the record, set the account's status and next due time and release the
    lease; False when the lease was lost (someone else holds the account now)."""
    account, now = ctx.account, timezone.now()
    sync_job.record(ctx, outcome, error)
    if isinstance(error, leases.LeaseLost):
        return False
    if outcome in sync_job.DONE:
        failures = 0
        next_at = next_slot(account, now)
        if ctx.keep_active:
            next_at = min(next_at, now + ACTIVE_STATUS_INTERVAL)
        if account.status != AccountStatus.OK:  # it works again (or right after a re-link)
            account.set_status(AccountStatus.OK, "")
    else:
        failures = account.consecutive_failures + 1
        retry_at = sync_job.on_failure(account, outcome, error, failures=failures, now=now)
        next_at = retry_at or next_slot(account, now)
    return leases.release(
        account.pk, ctx.token, next_sync_at=next_at, consecutive_failures=min(failures, 32767)
    )


# --- housekeeping -------------------------------------------------------------------


def prune_records(now: datetime | None = None) -> int:
    """Delete sync records older than KEEP_DAYS, except each account's last KEEP_LAST."""
    cutoff = (now or timezone.now()) - timedelta(days=KEEP_DAYS)
    deleted = 0
    for account_pk in CloudAccount.objects.values_list("pk", flat=True):
        keep = list(
            SyncRecord.objects.filter(account_id=account_pk)
            .order_by("-started_at", "-pk")
            .values_list("pk", flat=True)[:KEEP_LAST]
        )
        deleted += (
            SyncRecord.objects.filter(account_id=account_pk, started_at__lt=cutoff)
            .exclude(pk__in=keep)
            .exclude(outcome=SyncOutcome.RUNNING, ended_at__isnull=True)
            .delete()[0]
        )
    return deleted
