"""The device page, its live block (status, controls, recent commands) and renaming.

Pages render only what is in the database; the vendor is called only by an explicit
action (a command button, renaming), from devices.commands.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.access import require_role
from accounts.models import Role
from dashboard.reports import device_report
from dashboard.states import device_status
from devices import commands
from devices.command_catalogue import (
    OUTCOME_LABELS,
    changes_state,
    command_label,
    command_panel,
    params_text,
)
from devices.machines import CommandLog, CommandStatus, Device

RECENT_COMMANDS = 8
# After a command, the live block re-reads itself every few seconds for this long, until a
# newer status is stored (Mammotion: the refresh 5 s later; 360: the push listener).
AWAIT_REPORT = timedelta(seconds=60)
MESSAGE_LEVELS = {"success": messages.SUCCESS, "warning": messages.WARNING, "error": messages.ERROR}
FEATURE_NAMES = {
    "volume": "Volume control",
    "maxMode": "Max suction",
    "mop": "Mop",
    "roomSweep": "Room cleaning",
    "smartArea": "Smart areas",
}


def device_for(request, pk: int, minimum: str = Role.VIEWER):
    """(device, membership): outsiders get 404, members below `minimum` 403."""
    membership = require_role(request, Role.VIEWER)
    devices = Device.objects.for_household(membership.household).select_related(
        "account", "vendor_stats"
    )
    device = get_object_or_404(devices, pk=pk)
    if not membership.has_role(minimum):
        raise PermissionDenied
    return device, membership


def annotate_commands(rows) -> list[CommandLog]:
    """Give each log row its label and parameter text (rows have `device` loaded)."""
    rows = list(rows)
    for row in rows:
        row.label = command_label(row.device.vendor, row.command)
        row.detail = params_text(row.command, row.params)
        row.outcome = OUTCOME_LABELS.get(row.status, row.status)
    return rows


def awaiting_report(device: Device, recent: list[CommandLog], now) -> bool:
    """Whether the newest state-changing command is younger than AWAIT_REPORT and newer
    than the stored status (the page then looks again in a few seconds)."""
    for entry in recent:
        settled = entry.status in (CommandStatus.FAILED, CommandStatus.LOST)
        if settled or not changes_state(device.vendor, entry.command):
            continue
        if now - entry.created_at > AWAIT_REPORT:
            return False
        observed = device.status_observed_at
        return observed is None or entry.created_at > observed
    return False


def live_context(device: Device, membership, *, outcome=None) -> dict:
    now = timezone.now()
    recent = list(device.commands.select_related("user")[:RECENT_COMMANDS])
    for entry in recent:
        entry.device = device  # already loaded; spares a query per row
    panel = command_panel(device, recent=recent, now=now) if membership.can_operate else None
    return {
        "device": device,
        "membership": membership,
        "status": device_status(device, now),
        "panel": panel,
        "recent": annotate_commands(recent),
        "awaiting": awaiting_report(device, recent, now),
        "outcome": outcome,
        "tz": membership.household.tz,
    }


def _features(device: Device) -> tuple[list[str], list[str]]:
    """(supported, not supported) feature names from the capability flags."""
    yes, no = [], []
    for flag, value in sorted(device.capabilities.items(), key=lambda item: item[0].lower()):
        (yes if value is not False else no).append(FEATURE_NAMES.get(flag, flag))
    return yes, no


@require_GET
def device_page(request, pk: int):
    device, membership = device_for(request, pk)
    context = live_context(device, membership)
    supported, unsupported = _features(device)
    context.update(
        report=device_report(device, membership.household.tz),
        supported=supported,
        unsupported=unsupported,
        feature_count=len(supported) + len(unsupported),
    )
    return render(request, "devices/device.html", context)


@require_GET
def device_live(request, pk: int):
    """The live block alone (htmx re-reads it after a command)."""
    device, membership = device_for(request, pk)
    if not request.htmx:
        return redirect("devices:device", pk=device.pk)
    return render(request, "devices/_device_status.html", live_context(device, membership))


@require_POST
def rename(request, pk: int):
    device, _ = device_for(request, pk, Role.OWNER)
    outcome = commands.rename_device(
        device=device, name=request.POST.get("name", ""), user=request.user
    )
    messages.add_message(request, MESSAGE_LEVELS[outcome.level], outcome.message)
    return redirect("devices:device", pk=device.pk)
