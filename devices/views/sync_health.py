"""Sync health: every sync of an account (or of the household) with its outcome, the
request budget and, for owners, the sync interval. The run details passes that follow
syncs (devices/sync_details.py) are listed with them as "Run details and maps"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.access import require_role
from accounts.models import Role
from devices import budget
from devices.history import Run, SyncOutcome, SyncRecord, SyncTrigger
from devices.models import AccountStatus, CloudAccount
from devices.sync import MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES

RECORDS_SHOWN = 50


class SyncIntervalForm(forms.Form):
    sync_interval_minutes = forms.IntegerField(
        label="Sync every (minutes)",
        min_value=MIN_INTERVAL_MINUTES,
        max_value=MAX_INTERVAL_MINUTES,
        help_text=f"Between {MIN_INTERVAL_MINUTES} minutes and one day ({MAX_INTERVAL_MINUTES}).",
    )


@dataclass
class SyncSummary:
    account: CloudAccount
    last: SyncRecord | None
    running: SyncRecord | None
    budget_used: int
    budget_limit: int
    runs_archived: int
    runs_detailed: int
    next_sync_at: datetime | None

    @property
    def fetching_details(self) -> bool:
        """What runs now is a run details pass (not a sync)."""
        return self.running is not None and self.running.trigger == SyncTrigger.DETAILS

    @property
    def first_import(self) -> bool:
        return self.account.last_sync_ok_at is None

    @property
    def details_pending(self) -> int:
        return max(0, self.runs_archived - self.runs_detailed)

    @property
    def budget_percent(self) -> int:
        return min(100, round(100 * self.budget_used / max(1, self.budget_limit)))


def account_summary(account: CloudAccount) -> SyncSummary:
    records = SyncRecord.objects.filter(account=account).exclude(outcome=SyncOutcome.SKIPPED)
    running = records.filter(outcome=SyncOutcome.RUNNING).first()
    runs = Run.objects.filter(device__account=account)
    return SyncSummary(
        account=account,
        last=records.exclude(outcome=SyncOutcome.RUNNING)
        .exclude(trigger=SyncTrigger.DETAILS)
        .first(),
        running=running,
        budget_used=budget.used_this_hour(account),
        budget_limit=account.request_budget_per_hour,
        runs_archived=runs.count(),
        runs_detailed=runs.filter(detail_synced_at__isnull=False).count(),
        next_sync_at=None
        if account.status == AccountStatus.REAUTH_REQUIRED
        else account.next_sync_at,
    )


def _account(request, pk: int, minimum: str = Role.VIEWER):
    membership = require_role(request, minimum)
    account = get_object_or_404(CloudAccount, pk=pk, household=membership.household)
    return membership, account


@require_GET
def account_syncs(request, pk: int):
    membership, account = _account(request, pk)
    context = {
        "account": account,
        "records": account.syncs.all()[:RECORDS_SHOWN],
        "membership": membership,
        "form": SyncIntervalForm(initial={"sync_interval_minutes": account.sync_interval_minutes})
        if membership.is_owner
        else None,
        "tz": membership.household.tz,
    }
    return render(request, "devices/sync/account.html", context)


@require_GET
def household_syncs(request):
    membership = require_role(request, Role.VIEWER)
    accounts = CloudAccount.objects.for_household(membership.household).order_by("label", "pk")
    since = timezone.now() - timedelta(days=1)
    records = (
        SyncRecord.objects.filter(account__household=membership.household, started_at__gte=since)
        .select_related("account")
        .order_by("-started_at", "-pk")[:RECORDS_SHOWN]
    )
    context = {"accounts": accounts, "records": records, "tz": membership.household.tz}
    return render(request, "devices/sync/household.html", context)


@require_POST
def set_interval(request, pk: int):
    membership, account = _account(request, pk, Role.OWNER)
    form = SyncIntervalForm(request.POST)
    if not form.is_valid():
        records = account.syncs.all()[:RECORDS_SHOWN]
        context = {
            "account": account,
            "records": records,
            "membership": membership,
            "form": form,
            "tz": membership.household.tz,
        }
        return render(request, "devices/sync/account.html", context, status=400)
    minutes = form.cleaned_data["sync_interval_minutes"]
    soonest = timezone.now() + timedelta(minutes=minutes)
    CloudAccount.objects.filter(pk=account.pk).update(sync_interval_minutes=minutes)
    # A shorter interval takes effect now, not after the old one ran out.
    CloudAccount.objects.filter(pk=account.pk, next_sync_at__gt=soonest).update(
        next_sync_at=soonest
    )
    messages.success(request, f"{account.label} now syncs every {minutes} minutes.")
    return redirect("devices:sync_health", pk=account.pk)
