"""Per-account vendor request budget (kind to vendor clouds, quality.md R10).

The budget is a rolling hour: the requests of every sync record that is still running
or ended less than an hour ago count in full (the requests of one record all happened
between its start and its end, so counting a whole record is conservative). Before
each vendor call the sync checks that the call still fits; no hour window can then
ever hold more than `request_budget_per_hour` requests of one account's syncs.

Run details and maps, which can wait, may use only DETAIL_SHARE of the budget, so a
first import that is still fetching details never starves the listings of later syncs.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, Sum
from django.utils import timezone

from devices.history import SyncOutcome, SyncRecord

WINDOW = timedelta(hours=1)
DETAIL_SHARE = 0.8


class BudgetSpent(Exception):
    """The account's hourly request budget has no room for the next call."""


def used_this_hour(account, *, exclude_pk: int | None = None, now=None) -> int:
    """Requests of the account's syncs in the rolling hour (running ones included)."""
    now = now or timezone.now()
    records = SyncRecord.objects.filter(account=account).filter(
        Q(ended_at__gte=now - WINDOW) | Q(ended_at__isnull=True, outcome=SyncOutcome.RUNNING)
    )
    if exclude_pk is not None:
        records = records.exclude(pk=exclude_pk)
    return records.aggregate(total=Sum("requests"))["total"] or 0


class Budget:
    """The room one sync has: what earlier syncs used this hour plus what it used."""

    def __init__(self, account, *, record_pk: int | None = None):
        self.limit = max(1, int(account.request_budget_per_hour))
        self.earlier = used_this_hour(account, exclude_pk=record_pk)
        self.used = 0  # this sync's requests, kept up to date by the caller

    @property
    def total(self) -> int:
        return self.earlier + self.used

    def remaining(self, *, details: bool = False) -> int:
        limit = int(self.limit * DETAIL_SHARE) if details else self.limit
        return max(0, limit - self.total)

    def check(self, cost: int = 1, *, details: bool = False) -> None:
        if cost > self.remaining(details=details):
            raise BudgetSpent(
                f"request budget spent ({self.total} of {self.limit} this hour); "
                "the sync goes on next time"
            )
