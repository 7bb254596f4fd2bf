"""Claims and leases: never two background jobs of one account at once (a sync or a run
details pass, see devices/sync.py and devices/sync_details.py), on any broker, with any
number of workers and beats. `CloudAccount.lease_token` is "<claim>:<run>":

- A claim is one compare-and-swap UPDATE: the account is not leased (or its lease
  expired), not waiting for a re-link and, for the schedule, due -> `lease_token =
  "<claim>:"` with a claim expiry. Only one of two doubled beats can win it; the winner
  queues one task that carries the claim.
- The task starts by swapping "<claim>:" for "<claim>:<run>" (again a CAS), and keeps
  the lease alive with a heartbeat while it works. A second delivery of the same
  message finds the lease started: while it is alive it retries later, once it has
  expired (its worker died: SIGKILL, OOM) it takes the lease over with a new <run>
  and finishes the job. Anything else (another claim holds it) is skipped.
- The end of a job releases the lease in one UPDATE that only succeeds for the holder
  (a sync sets its next due time in the same UPDATE).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from devices.models import AccountStatus, CloudAccount, LinkMethod

CLAIM_TTL = timedelta(minutes=10)  # a queued task must start within this
CLAIMABLE = [AccountStatus.OK, AccountStatus.THROTTLED, AccountStatus.ERROR]
SYNCABLE_METHODS = [LinkMethod.QIHOO360_SID, LinkMethod.QIHOO360_QT, LinkMethod.MAMMOTION_OPEN_API]


def lease_ttl() -> timedelta:
    return timedelta(seconds=getattr(settings, "SYNC_LEASE_SECONDS", 180))


class RetryLater(Exception):
    """Another delivery of this job may still be running; look again in `countdown` s."""

    def __init__(self, countdown: float):
        super().__init__(f"lease still alive; retry in {countdown:.0f} s")
        self.countdown = countdown


class LeaseLost(Exception):
    """The lease expired and someone else took it: stop without writing more."""


def claimable(now: datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lt=now)


def claim(pk: int, now: datetime, *, statuses=CLAIMABLE, due: bool = True) -> str | None:
    """The CAS claim of one account; returns the claim id, or None when it is taken."""
    claim_id = uuid.uuid4().hex[:16]
    rows = CloudAccount.objects.filter(
        claimable(now), pk=pk, status__in=statuses, method__in=SYNCABLE_METHODS
    )
    if due:
        rows = rows.filter(next_sync_at__lte=now)
    taken = rows.update(lease_token=f"{claim_id}:", lease_until=now + CLAIM_TTL)
    return claim_id if taken else None


def acquire(pk: int, claim_id: str, now: datetime) -> tuple[str, bool] | None:
    """Start (or take over) the job of `claim_id`; returns (lease token, resumed) or None
    to skip. Without a claim (a direct call) the account is claimed here first, unless
    it is backing off after being throttled."""
    if not claim_id:
        manual = CloudAccount.objects.exclude(
            status=AccountStatus.THROTTLED, next_sync_at__gt=now
        ).filter(pk=pk)
        if not manual.exists():
            return None
        claim_id = claim(pk, now, due=False)
        if claim_id is None:
            return None
    token = f"{claim_id}:{uuid.uuid4().hex[:16]}"
    if CloudAccount.objects.filter(pk=pk, lease_token=f"{claim_id}:").update(
        lease_token=token, lease_until=now + lease_ttl()
    ):
        return token, False
    row = CloudAccount.objects.filter(pk=pk).values("lease_token", "lease_until").first()
    if row is None or not row["lease_token"].startswith(f"{claim_id}:"):
        return None  # released, or another claim holds it
    if row["lease_until"] is not None and row["lease_until"] >= now:
        raise RetryLater((row["lease_until"] - now).total_seconds() + 1)
    taken = CloudAccount.objects.filter(
        pk=pk, lease_token=row["lease_token"], lease_until__lt=now
    ).update(lease_token=token, lease_until=now + lease_ttl())
    return (token, True) if taken else None


def extend(pk: int, token: str, now: datetime) -> None:
    """The heartbeat of a running job; raises LeaseLost when someone else holds it now."""
    if not CloudAccount.objects.filter(pk=pk, lease_token=token).update(
        lease_until=now + lease_ttl()
    ):
        raise LeaseLost("the sync lease was taken over")


def release(pk: int, token: str, **fields) -> bool:
    """End the job holding `token` (and write `fields` with it); False when it no longer
    held the lease."""
    return bool(
        CloudAccount.objects.filter(pk=pk, lease_token=token).update(
            lease_token="", lease_until=None, **fields
        )
    )
