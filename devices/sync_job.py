"""What every background job of one account shares, the regular sync (devices/sync.py)
and the run details pass (devices/sync_details.py):

    start(account_pk, trigger, lease_token)   take the lease, open the SyncRecord
    perform(ctx, step)                        run the vendor step, map errors to outcomes
    record(ctx, outcome, error)               close the SyncRecord
    on_failure(account, outcome, error, ...)  flag a re-link, or back off

A job's `SyncContext` carries its lease, record, client and request budget; vendor code
calls `ctx.before(cost)` ahead of each vendor call (budget, deadline, heartbeat) and
`ctx.counted()` after it.

Failures back off exponentially with jitter, honouring Retry-After, capped at an hour;
an expired session flags the account "needs re-link" and emails its owners once.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from devices import budget as budgets
from devices import leases
from devices.clouds.base import (
    AuthExpired,
    BadResponse,
    CloudError,
    RateLimited,
    Unavailable,
)
from devices.history import SyncOutcome, SyncRecord, SyncTrigger
from devices.models import AccountStatus, CloudAccount

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 60.0
BACKOFF_CAP_S = 3600.0
RATE_LIMITED_DEFAULT_S = 30.0  # cloud-apis.md 3.4.4: no Retry-After -> 30 s
# Outcomes after which the account counts as working (the rest are failures).
DONE = (SyncOutcome.OK, SyncOutcome.PARTIAL, SyncOutcome.TIMED_OUT)


def deadline_seconds() -> float:
    """Internal deadline, below the task's soft time limit: stop as "timed out"."""
    return float(getattr(settings, "SYNC_DEADLINE_SECONDS", 540))


def sync_timeout() -> tuple[float, float]:
    from devices.cloud import BACKGROUND_TIMEOUT

    return tuple(getattr(settings, "SYNC_HTTP_TIMEOUT", BACKGROUND_TIMEOUT))


class DeadlineReached(Exception):
    """The job ran out of time; it goes on next time."""


class SyncDue(Exception):
    """A details pass stops for a sync of its account that became due (see sync_details)."""


@dataclass
class SyncContext:
    """What one running job carries: the lease it holds, its record, the client and the
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
    details_done: int = 0  # run details fetched by this job
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
        if now - self.beat_at > leases.lease_ttl().total_seconds() / 3:
            self.heartbeat()
        if now - self.saved_at > 1.0:
            self.save_progress()

    def heartbeat(self) -> None:
        self.beat_at = time.monotonic()
        leases.extend(self.account.pk, self.token, timezone.now())

    def progress(self, text: str) -> None:
        """Shown on the account page while the job runs (written at most once a second)."""
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


def start(account_pk: int, *, trigger: str, lease_token: str, context=SyncContext):
    """Take the lease of `lease_token` (see devices.leases) and open the job's record;
    returns its context, or None when the job is skipped (also recorded). Raises
    leases.RetryLater when another delivery of it may still be running."""
    now = timezone.now()
    account = CloudAccount.objects.filter(pk=account_pk).first()
    if account is None:
        return None
    acquired = leases.acquire(account_pk, lease_token, now)
    if acquired is None:
        SyncRecord.objects.create(
            account=account,
            trigger=trigger,
            outcome=SyncOutcome.SKIPPED,
            ended_at=timezone.now(),
            progress="Another sync of this account holds its lease (or it is not due).",
        )
        return None
    token, resumed = acquired
    # We hold the lease: a record still "running" belongs to a job that died.
    what = "run details pass" if trigger == SyncTrigger.DETAILS else "sync"
    SyncRecord.objects.filter(account=account, outcome=SyncOutcome.RUNNING).update(
        outcome=SyncOutcome.ERROR,
        ended_at=timezone.now(),
        error=f"Interrupted (the worker stopped); the next {what} carried on.",
    )
    account.refresh_from_db()
    record = SyncRecord.objects.create(account=account, trigger=trigger)
    ctx = context(
        account=account,
        record=record,
        token=token,
        budget=budgets.Budget(account, record_pk=record.pk),
    )
    if resumed:
        ctx.note(f"Resumed an interrupted {what} (its worker stopped; the lease was taken over).")
    return ctx


def perform(ctx: SyncContext, step) -> tuple[str, CloudError | Exception | None]:
    """Run `step(ctx)` with the account's client; returns (outcome, error)."""
    from devices.cloud import client_for

    try:
        ctx.timeout = sync_timeout()
        ctx.client = client_for(ctx.account, timeout=ctx.timeout)
        step(ctx)
    except (budgets.BudgetSpent, SyncDue) as exc:
        ctx.note(str(exc))
        return SyncOutcome.PARTIAL, None
    except (DeadlineReached, SoftTimeLimitExceeded):
        ctx.note("The sync ran out of time; it goes on next time.")
        return SyncOutcome.TIMED_OUT, None
    except leases.LeaseLost as exc:
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


def _error_text(error) -> str:
    if error is None:
        return ""
    if isinstance(error, BadResponse):
        return f"{error} | excerpt: {error.excerpt}"
    if isinstance(error, CloudError):
        return f"{error.user_message} ({error})"
    return f"{type(error).__name__}: {error}"


def record(ctx: SyncContext, outcome: str, error) -> None:
    """Close the job's SyncRecord with its outcome, counts and notes."""
    ctx.budget.used = ctx.requests
    text = " ".join([_error_text(error), *ctx.notes]).strip()
    SyncRecord.objects.filter(pk=ctx.record.pk).update(
        outcome=outcome,
        ended_at=timezone.now(),
        requests=ctx.requests,
        new_runs=ctx.new_runs,
        new_faults=ctx.new_faults,
        progress=ctx.record.progress,
        error=text[:1000],
    )


def backoff(failures: int, retry_after: float | None, *, rate_limited: bool) -> float:
    """Seconds to wait after the `failures`-th failure in a row: exponential, jittered,
    at least the vendor's Retry-After, at most an hour."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, failures - 1))
    delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311
    floor = (
        retry_after if retry_after is not None else (RATE_LIMITED_DEFAULT_S if rate_limited else 0)
    )
    return min(BACKOFF_CAP_S, max(delay, floor))


def on_failure(
    account: CloudAccount,
    outcome: str,
    error,
    *,
    failures: int,
    now: datetime,
    not_before: datetime | None = None,
) -> datetime | None:
    """After a failed job (the `failures`-th in a row): flag the account for a re-link
    (returns None: syncing waits for the user) or set it throttled / in error and
    return when to try again (the back-off, or `not_before` if that is later)."""
    if outcome == SyncOutcome.AUTH:
        flag_reauth(account, error)
        return None
    rate_limited = outcome == SyncOutcome.THROTTLED
    delay = backoff(failures, getattr(error, "retry_after", None), rate_limited=rate_limited)
    retry_at = now + timedelta(seconds=delay)
    if not_before is not None:
        retry_at = max(retry_at, not_before)
    status = AccountStatus.THROTTLED if rate_limited else AccountStatus.ERROR
    message = getattr(error, "user_message", None) or "The last sync failed."
    account.set_status(status, f"{message} Next try at {retry_at:%H:%M} UTC.")
    return retry_at


def flag_reauth(account: CloudAccount, error: AuthExpired) -> None:
    """Needs re-link: syncing stops until a user links again; owners get one email (the
    job that found it started from another status, so this is the transition)."""
    account.set_status(AccountStatus.REAUTH_REQUIRED, error.user_message)
    if getattr(settings, "SYNC_AUTH_EMAIL", True):
        from devices.sync_mail import send_reauth_email

        try:
            send_reauth_email(account)
        except Exception:  # mail trouble must not undo the flag
            log.exception("account %s: re-link email not sent", account.pk)
