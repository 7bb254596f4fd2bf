"""Background sync of linked cloud accounts: who syncs when, and one account's sync.

    request_sync(account, trigger="manual")   make it due now; queue its sync on commit
    dispatch_due(now)                         beat, every minute: claim due accounts
    run_sync(account_pk, trigger, lease_token)  the body of the sync_account task
    prune_records()                           keep 30 days, and always the last 50

Leases (never two syncs of one account at once, on any broker, with any number of
workers and beats). `CloudAccount.lease_token` is "<claim>:<run>":

- A claim is one compare-and-swap UPDATE: the account is due, not leased (or its lease
  expired) and not waiting for a re-link -> `lease_token = "<claim>:"` with a claim
  expiry. Only one of two doubled beats can win it; the winner queues one task.
- The task starts by swapping "<claim>:" for "<claim>:<run>" (again a CAS), and keeps
  the lease alive with a heartbeat while it works. A second delivery of the same
  message finds the lease started: while it is alive it retries later, once it has
  expired (its worker died: SIGKILL, OOM) it takes the lease over with a new <run>
  and finishes the sync. Anything else (another claim holds it) is skipped.
- The end of a sync releases the lease and sets the next due time in one UPDATE that
  only succeeds for the holder.

Spreading: each account syncs at a fixed phase of its interval (a hash of its id), so
accounts linked together do not all sync at :00. Failures back off exponentially with
jitter, honouring Retry-After, capped at an hour.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from devices import budget as budgets
from devices.clouds.base import (
    AuthExpired,
    BadResponse,
    CloudError,
    RateLimited,
    Unavailable,
)
from devices.history import SyncOutcome, SyncRecord
from devices.models import AccountStatus, CloudAccount, LinkMethod

log = logging.getLogger(__name__)

MIN_INTERVAL_MINUTES = 5
MAX_INTERVAL_MINUTES = 1440
ACTIVE_STATUS_INTERVAL = timedelta(minutes=5)  # a mowing mower is re-read this often
CLAIM_TTL = timedelta(minutes=10)  # a queued task must start within this
BACKOFF_BASE_S = 60.0
BACKOFF_CAP_S = 3600.0
RATE_LIMITED_DEFAULT_S = 30.0  # cloud-apis.md 3.4.4: no Retry-After -> 30 s
KEEP_DAYS = 30
KEEP_LAST = 50
DISPATCH_LIMIT = 500
CLAIMABLE = [AccountStatus.OK, AccountStatus.THROTTLED, AccountStatus.ERROR]
SYNCABLE_METHODS = [LinkMethod.QIHOO360_SID, LinkMethod.QIHOO360_QT, LinkMethod.MAMMOTION_OPEN_API]


def lease_ttl() -> timedelta:
    return timedelta(seconds=getattr(settings, "SYNC_LEASE_SECONDS", 180))


def max_details() -> int:
    """Run details (and maps) one sync fetches at most; the rest wait for the next one,
    so a first import of a long history is spread over several short syncs."""
    return int(getattr(settings, "SYNC_MAX_DETAILS_PER_SYNC", 200))


def deadline_seconds() -> float:
    """Internal deadline, below the task's soft time limit: stop as "timed out"."""
    return float(getattr(settings, "SYNC_DEADLINE_SECONDS", 540))


class RetryLater(Exception):
    """Another delivery of this sync may still be running; look again in `countdown` s."""

    def __init__(self, countdown: float):
        super().__init__(f"lease still alive; retry in {countdown:.0f} s")
        self.countdown = countdown


class LeaseLost(Exception):
    """The lease expired and someone else took it: stop without writing more."""


class DeadlineReached(Exception):
    """The sync ran out of time; it goes on next time."""


# --- scheduling ---------------------------------------------------------------------


def _claimable(now: datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lt=now)


def next_slot(account: CloudAccount, now: datetime) -> datetime:
    """The next sync time of this account: its phase within the interval, at least half
    an interval from now (so a late sync does not run twice in a row)."""
    interval = max(MIN_INTERVAL_MINUTES, account.sync_interval_minutes) * 60
    phase = (account.pk * 2654435761) % interval  # a fixed, well-spread offset per account
    earliest = now.timestamp() + interval / 2
    slot = (int((earliest - phase) // interval) + 1) * interval + phase
    return datetime.fromtimestamp(slot + random.uniform(0, 15), tz=now.tzinfo)  # noqa: S311


def backoff(failures: int, retry_after: float | None, *, rate_limited: bool) -> float:
    """Seconds to wait after the `failures`-th failure in a row: exponential, jittered,
    at least the vendor's Retry-After, at most an hour."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, failures - 1))
    delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311
    floor = (
        retry_after if retry_after is not None else (RATE_LIMITED_DEFAULT_S if rate_limited else 0)
    )
    return min(BACKOFF_CAP_S, max(delay, floor))


def _claim(pk: int, now: datetime, *, statuses=CLAIMABLE, due: bool = True) -> str | None:
    """The CAS claim of one account; returns the claim id, or None when it is taken."""
    claim = uuid.uuid4().hex[:16]
    rows = CloudAccount.objects.filter(
        _claimable(now), pk=pk, status__in=statuses, method__in=SYNCABLE_METHODS
    )
    if due:
        rows = rows.filter(next_sync_at__lte=now)
    taken = rows.update(lease_token=f"{claim}:", lease_until=now + CLAIM_TTL)
    return claim if taken else None


def _queue(pk: int, trigger: str, claim: str) -> None:
    from devices.sync_tasks import sync_account

    sync_account.apply_async(
        (pk,), {"trigger": trigger, "lease_token": claim}, expires=CLAIM_TTL.total_seconds()
    )


def _due(now: datetime):
    return CloudAccount.objects.filter(
        _claimable(now),
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


def request_sync(account: CloudAccount, *, trigger: str = "manual") -> None:
    """Make the account due now and queue its sync once the transaction commits. Safe
    to call twice: the second call finds the claim taken and queues nothing. A throttled
    account keeps its back-off; an account waiting for a re-link is not synced (except
    right after linking, `trigger="link"`)."""
    now = timezone.now()
    CloudAccount.objects.filter(pk=account.pk).exclude(
        status=AccountStatus.THROTTLED, next_sync_at__gt=now
    ).update(next_sync_at=now)
    statuses = [*CLAIMABLE, AccountStatus.REAUTH_REQUIRED] if trigger == "link" else CLAIMABLE
    claim = _claim(account.pk, now, statuses=statuses)
    if claim:
        transaction.on_commit(lambda: _queue(account.pk, trigger, claim))


# --- the lease of a running sync ----------------------------------------------------


def acquire(pk: int, claim: str, now: datetime) -> tuple[str, bool] | None:
    """Start (or take over) the sync of `claim`; returns (lease token, resumed) or None
    to skip. Without a claim (a direct call) the account is claimed here first."""
    if not claim:
        manual = CloudAccount.objects.exclude(
            status=AccountStatus.THROTTLED, next_sync_at__gt=now
        ).filter(pk=pk)
        if not manual.exists():
            return None
        claim = _claim(pk, now, due=False)
        if claim is None:
            return None
    token = f"{claim}:{uuid.uuid4().hex[:16]}"
    if CloudAccount.objects.filter(pk=pk, lease_token=f"{claim}:").update(
        lease_token=token, lease_until=now + lease_ttl()
    ):
        return token, False
    row = CloudAccount.objects.filter(pk=pk).values("lease_token", "lease_until").first()
    if row is None or not row["lease_token"].startswith(f"{claim}:"):
        return None  # released, or another claim holds it
    if row["lease_until"] is not None and row["lease_until"] >= now:
        raise RetryLater((row["lease_until"] - now).total_seconds() + 1)
    taken = CloudAccount.objects.filter(
        pk=pk, lease_token=row["lease_token"], lease_until__lt=now
    ).update(lease_token=token, lease_until=now + lease_ttl())
    return (token, True) if taken else None


@dataclass
class SyncContext:
    """What one running sync carries: the lease it holds, its record, the client and the
    budget. Vendor modules call `before(cost)` ahead of each vendor call and
    `counted()` after it."""

    account: CloudAccount
    record: SyncRecord
    token: str
    budget: budgets.Budget
    client: object = None
    timeout: tuple = (5, 30)
    session: object = None  # for downloads outside the vendor client (job maps)
    extra_requests: int = 0  # requests made outside the client (map downloads)
    new_runs: int = 0
    new_faults: int = 0
    notes: list[str] = field(default_factory=list)
    listings_done: bool = False
    keep_active: bool = False  # a mower is mowing: sync again sooner
    started: float = field(default_factory=time.monotonic)
    beat_at: float = field(default_factory=time.monotonic)
    saved_at: float = field(default_factory=time.monotonic)

    def http_session(self):
        if self.session is None:
            from devices.cloud import new_session

            self.session = new_session()
        return self.session

    @property
    def requests(self) -> int:
        return getattr(self.client, "requests_made", 0) + self.extra_requests

    def before(self, cost: int = 1, *, details: bool = False) -> None:
        self.counted()
        if time.monotonic() - self.started > deadline_seconds():
            raise DeadlineReached("the sync ran out of time; it goes on next time")
        self.budget.check(cost, details=details)

    def counted(self) -> None:
        self.budget.used = self.requests
        now = time.monotonic()
        if now - self.beat_at > lease_ttl().total_seconds() / 3:
            self.heartbeat()
        if now - self.saved_at > 1.0:
            self.save_progress()

    def heartbeat(self) -> None:
        self.beat_at = time.monotonic()
        alive = CloudAccount.objects.filter(pk=self.account.pk, lease_token=self.token).update(
            lease_until=timezone.now() + lease_ttl()
        )
        if not alive:
            raise LeaseLost("the sync lease was taken over")

    def progress(self, text: str) -> None:
        """Shown on the account page while the sync runs (written at most once a second)."""
        self.record.progress = text[:200]
        if time.monotonic() - self.saved_at > 1.0:
            self.save_progress()

    def note(self, text: str) -> None:
        log.info("account %s: %s", self.account.pk, text)
        self.notes.append(text)

    def save_progress(self) -> None:
        self.saved_at = time.monotonic()
        SyncRecord.objects.filter(pk=self.record.pk).update(
            requests=self.requests,
            new_runs=self.new_runs,
            new_faults=self.new_faults,
            progress=self.record.progress,
        )

    def mark_listings_done(self) -> None:
        """Every device's listing reached what was archived before: from now on the
        runs imported so far count as settled (see archive.upsert_runs)."""
        self.listings_done = True
        now = timezone.now()
        CloudAccount.objects.filter(pk=self.account.pk, lease_token=self.token).update(
            last_sync_ok_at=now
        )


# --- one sync -----------------------------------------------------------------------


def run_sync(account_pk: int, *, trigger: str = "schedule", lease_token: str = "") -> str:
    """Sync one account if this call gets (or already holds) its lease; returns the
    outcome. Raises RetryLater when another delivery of it may still be running."""
    now = timezone.now()
    account = CloudAccount.objects.filter(pk=account_pk).first()
    if account is None:
        return SyncOutcome.SKIPPED
    acquired = acquire(account_pk, lease_token, now)
    if acquired is None:
        SyncRecord.objects.create(
            account=account,
            trigger=trigger,
            outcome=SyncOutcome.SKIPPED,
            ended_at=timezone.now(),
            progress="Another sync of this account holds its lease (or it is not due).",
        )
        return SyncOutcome.SKIPPED
    token, resumed = acquired
    # We hold the lease: a record still "running" belongs to a sync that died.
    SyncRecord.objects.filter(account=account, outcome=SyncOutcome.RUNNING).update(
        outcome=SyncOutcome.ERROR,
        ended_at=timezone.now(),
        error="Interrupted (the worker stopped); the next sync carried on.",
    )
    account.refresh_from_db()
    record = SyncRecord.objects.create(account=account, trigger=trigger)
    ctx = SyncContext(
        account=account,
        record=record,
        token=token,
        budget=budgets.Budget(account, record_pk=record.pk),
    )
    if resumed:
        ctx.note("Resumed an interrupted sync (its worker stopped; the lease was taken over).")
    outcome, error = _perform(ctx)
    _finish(ctx, outcome, error)
    return outcome


def _perform(ctx: SyncContext) -> tuple[str, CloudError | Exception | None]:
    from devices import sync_360, sync_mammotion
    from devices.cloud import client_for

    try:
        ctx.timeout = sync_timeout()
        ctx.client = client_for(ctx.account, timeout=ctx.timeout)
        if ctx.account.vendor == "qihoo360":
            sync_360.sync(ctx)
        else:
            sync_mammotion.sync(ctx)
    except budgets.BudgetSpent as exc:
        ctx.note(str(exc))
        return SyncOutcome.PARTIAL, None
    except (DeadlineReached, SoftTimeLimitExceeded):
        ctx.note("The sync ran out of time; it goes on next time.")
        return SyncOutcome.TIMED_OUT, None
    except LeaseLost as exc:
        return SyncOutcome.ERROR, exc
    except AuthExpired as exc:
        return SyncOutcome.AUTH, exc
    except RateLimited as exc:
        return SyncOutcome.THROTTLED, exc
    except Unavailable as exc:
        return SyncOutcome.UNAVAILABLE, exc
    except BadResponse as exc:
        return SyncOutcome.BAD_RESPONSE, exc
    except CloudError as exc:
        return SyncOutcome.ERROR, exc
    except Exception as exc:  # a bug must not leave the lease held or the record running
        log.exception("account %s: sync failed", ctx.account.pk)
        return SyncOutcome.ERROR, exc
    return SyncOutcome.OK, None


def sync_timeout() -> tuple[float, float]:
    from devices.cloud import BACKGROUND_TIMEOUT

    return tuple(getattr(settings, "SYNC_HTTP_TIMEOUT", BACKGROUND_TIMEOUT))


def _error_text(error) -> str:
    if error is None:
        return ""
    if isinstance(error, BadResponse):
        return f"{error} | excerpt: {error.excerpt}"
    if isinstance(error, CloudError):
        return f"{error.user_message} ({error})"
    return f"{type(error).__name__}: {error}"


def _finish(ctx: SyncContext, outcome: str, error) -> None:
    account, now = ctx.account, timezone.now()
    ctx.budget.used = ctx.requests
    text = " ".join([_error_text(error), *ctx.notes]).strip()
    SyncRecord.objects.filter(pk=ctx.record.pk).update(
        outcome=outcome,
        ended_at=now,
        requests=ctx.requests,
        new_runs=ctx.new_runs,
        new_faults=ctx.new_faults,
        progress=ctx.record.progress,
        error=text[:1000],
    )
    if isinstance(error, LeaseLost):
        return  # someone else holds the account now
    failures = account.consecutive_failures
    if outcome in (SyncOutcome.OK, SyncOutcome.PARTIAL, SyncOutcome.TIMED_OUT):
        failures = 0
        next_at = next_slot(account, now)
        if ctx.keep_active:
            next_at = min(next_at, now + ACTIVE_STATUS_INTERVAL)
        if account.status != AccountStatus.OK:  # it works again (or right after a re-link)
            account.set_status(AccountStatus.OK, "")
    elif outcome == SyncOutcome.AUTH:
        failures += 1
        next_at = next_slot(account, now)
        _flag_reauth(account, error)
    else:
        failures += 1
        rate_limited = outcome == SyncOutcome.THROTTLED
        delay = backoff(failures, getattr(error, "retry_after", None), rate_limited=rate_limited)
        next_at = now + timedelta(seconds=delay)
        status = AccountStatus.THROTTLED if rate_limited else AccountStatus.ERROR
        message = getattr(error, "user_message", None) or "The last sync failed."
        account.set_status(status, f"{message} Next try at {next_at:%H:%M} UTC.")
    CloudAccount.objects.filter(pk=account.pk, lease_token=ctx.token).update(
        lease_token="",
        lease_until=None,
        next_sync_at=next_at,
        consecutive_failures=min(failures, 32767),
    )


def _flag_reauth(account: CloudAccount, error: AuthExpired) -> None:
    """Needs re-link: syncing stops until a user links again; owners get one email (the
    sync that found it started from another status, so this is the transition)."""
    account.set_status(AccountStatus.REAUTH_REQUIRED, error.user_message)
    if getattr(settings, "SYNC_AUTH_EMAIL", True):
        from devices.sync_mail import send_reauth_email

        try:
            send_reauth_email(account)
        except Exception:  # mail trouble must not undo the flag
            log.exception("account %s: re-link email not sent", account.pk)


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
