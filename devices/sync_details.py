"""Run details and maps: a low-priority background pass of its own, after the listings.

    queue_if_pending(account)              after a sync (or a pass): claim and queue a pass
    run_details(account_pk, lease_token)   the body of the fetch_run_details task

A sync imports the run listings only. Each run's detail (360 getOne, Mammotion job
detail) and its map then come from a details pass: the vendor module's `fetch_details`
step (newest runs first, at most SYNC_MAX_DETAILS_PER_SYNC per pass, within the budget's
detail share, see devices/budget.py). The pass is queued on the "details" queue, which
workers take only when no sync waits (settings: CELERY_TASK_ROUTES, "priority" queue
order), so with many accounts every listing is read before anyone's maps.

A pass holds the account's lease like a sync (devices/leases.py): never a sync and a
pass of one account at once, the same takeover of a pass whose worker died. It keeps a
SyncRecord of its own (trigger "details", shown as "Run details and maps") and fails
the way a sync does (an expired session flags the account for a re-link, throttling
and outages back off, though never bringing the next sync closer). It does not move
the account's schedule when it works. It gives way to the schedule: when the account's
sync becomes due (or someone asks for one) the pass stops within seconds and queues
that sync.

When a pass fetched its full share and runs still wait, it queues the next pass right
away if the budget has room (it goes to the back of the details queue, behind other
accounts' passes); otherwise the next sync that finds details waiting queues one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from devices import budget as budgets
from devices import leases, sync_job
from devices.history import SyncOutcome, SyncTrigger
from devices.models import CloudAccount

DUE_CHECK_S = 5.0  # how often a pass looks whether the account's sync became due


def max_details() -> int:
    """Run details (and maps) one pass fetches at most; the rest wait for the next one,
    so a first import of a long history is spread over several short passes."""
    return int(getattr(settings, "SYNC_MAX_DETAILS_PER_SYNC", 200))


def vendor_module(account):
    from devices import sync_360, sync_mammotion

    return sync_360 if account.vendor == "qihoo360" else sync_mammotion


@dataclass
class DetailsContext(sync_job.SyncContext):
    """A pass's context: before each vendor call it also checks (every DUE_CHECK_S)
    whether the account's sync is due, and then stops the pass for it."""

    due_checked_at: float = 0.0

    def before(self, cost: int = 1, *, details: bool = False) -> None:
        super().before(cost, details=details)
        if time.monotonic() - self.due_checked_at >= DUE_CHECK_S:
            self.due_checked_at = time.monotonic()
            if _sync_due(self.account.pk):
                raise sync_job.SyncDue("A sync was due; the run details go on after it.")


def _sync_due(pk: int) -> bool:
    return CloudAccount.objects.filter(pk=pk, next_sync_at__lte=timezone.now()).exists()


# --- queueing -----------------------------------------------------------------------


def _queue(pk: int, claim: str) -> None:
    from devices.sync_tasks import fetch_run_details

    fetch_run_details.apply_async(
        (pk,), {"lease_token": claim}, expires=leases.CLAIM_TTL.total_seconds()
    )


def queue_if_pending(account: CloudAccount) -> bool:
    """Claim the account again for a details pass, queued once the transaction commits,
    when runs wait for their details and the budget's detail share has room for one
    more; returns whether it did."""
    vendor = vendor_module(account)
    if max_details() <= 0 or not vendor.pending_details(account).exists():
        return False
    if budgets.Budget(account).remaining(details=True) < vendor.DETAIL_COST:
        return False
    claim = leases.claim(account.pk, timezone.now(), due=False)
    if claim is None:
        return False
    transaction.on_commit(lambda: _queue(account.pk, claim))
    return True


# --- one pass -----------------------------------------------------------------------


def run_details(account_pk: int, *, lease_token: str = "") -> str:
    """Fetch run details and maps of one account if this call gets (or already holds)
    its lease; returns the outcome. Raises RetryLater when another delivery of it may
    still be running."""
    ctx = sync_job.start(
        account_pk, trigger=SyncTrigger.DETAILS, lease_token=lease_token, context=DetailsContext
    )
    if ctx is None:
        return SyncOutcome.SKIPPED
    outcome, error = sync_job.perform(ctx, _fetch)
    if _finish(ctx, outcome, error) and outcome in sync_job.DONE:
        _next(ctx, outcome)
    return outcome


def _fetch(ctx: DetailsContext) -> None:
    if _sync_due(ctx.account.pk):  # queued a while ago: the schedule comes first
        raise sync_job.SyncDue("A sync was due; the run details go on after it.")
    ctx.due_checked_at = time.monotonic()
    vendor = vendor_module(ctx.account)
    vendor.fetch_details(ctx, vendor.detail_devices(ctx.account))


def _finish(ctx: DetailsContext, outcome: str, error) -> bool:
    """Close the record and release the lease. A pass that worked leaves the account's
    status and schedule alone; a failed one flags or backs off as a sync would (never
    bringing the next sync closer). False when the lease was lost."""
    sync_job.record(ctx, outcome, error)
    if isinstance(error, leases.LeaseLost):
        return False
    account, fields = ctx.account, {}
    if outcome not in sync_job.DONE:
        failures = account.consecutive_failures + 1
        planned = CloudAccount.objects.values_list("next_sync_at", flat=True).get(pk=account.pk)
        retry_at = sync_job.on_failure(
            account, outcome, error, failures=failures, now=timezone.now(), not_before=planned
        )
        fields["consecutive_failures"] = min(failures, 32767)
        if retry_at is not None:
            fields["next_sync_at"] = retry_at
    return leases.release(account.pk, ctx.token, **fields)


def _next(ctx: DetailsContext, outcome: str) -> None:
    """After a pass that worked: the sync that is due, else the next pass when this one
    fetched its full share and the budget still has room."""
    from devices import sync

    if sync.queue_if_due(ctx.account.pk):
        return
    if outcome == SyncOutcome.OK and ctx.details_done >= max_details() > 0:
        queue_if_pending(ctx.account)
