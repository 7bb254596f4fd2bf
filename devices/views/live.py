"""The live status fragment of a device card or page, re-read by htmx every 10 s while
the page is visible (templates/devices/_live_status.html).

Fetching it marks a 360 robot as watched, so the push listener asks it for its status
every ~15 s instead of every minute or ten (devices.live_status, cloud-apis.md 3.7.8).
It renders what is in the database; it never calls a vendor.
"""

from __future__ import annotations

from datetime import timedelta

from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import require_role
from accounts.models import Role
from dashboard.states import device_status
from devices import live_status
from devices.crypto import CredentialError
from devices.machines import Device
from devices.models import AccountStatus, Vendor

# A running robot reports at least every minute; older than this, its status is stale.
ACTIVE_STALE_AFTER = timedelta(minutes=3)
VARIANTS = ("card", "page")
NO_PUSH_KEY = (
    "Live status needs the account's push key: link the 360 account again with its push "
    "key to see this robot's state as it changes."
)


@require_GET
def live_status_fragment(request, pk: int):
    membership = require_role(request, Role.VIEWER)
    devices = Device.objects.for_household(membership.household).select_related("account")
    device = get_object_or_404(devices, pk=pk)
    if not request.htmx:
        return redirect("devices:device", pk=device.pk)
    if device.vendor == Vendor.QIHOO360 and not device.is_gone:
        live_status.mark_watched(device.pk)
    now = timezone.now()
    context = {
        "device": device,
        "status": device_status(device, now),
        "variant": request.GET.get("variant") if request.GET.get("variant") in VARIANTS else "page",
        "polled": True,
        "live_stale": live_status.is_stale(device, now, active_after=ACTIVE_STALE_AFTER),
        "live_note": _note(device),
    }
    with timezone.override(membership.household.tz):
        response = render(request, "devices/_live_status.html", context)
    seen = request.GET.get("seen")
    if seen is not None and seen != seen_key(device):
        # The state shown elsewhere on the page (its command buttons) is out of date.
        response["HX-Trigger"] = f"live-changed-{device.pk}"
    return response


def seen_key(device: Device) -> str:
    """The `seen` value of the fragment's URL, as the view receives it (the template
    builds it from the same fields), to tell whether the state changed since."""
    online = "1" if device.online else "0"
    battery = "" if device.battery is None else device.battery
    return f"{device.state}.{device.error_code}.{online}.{battery}"


def _note(device: Device) -> str:
    """Why live status cannot come (the account's own trouble, or no push key)."""
    account = device.account
    if account.status != AccountStatus.OK:
        return (
            account.status_message
            or f"The cloud account needs attention ({account.get_status_display()})."
        )
    if device.vendor != Vendor.QIHOO360:
        return ""
    try:
        has_key = bool(account.credentials().get("push_key"))
    except CredentialError:
        return ""  # the account page says what to do
    return "" if has_key else NO_PUSH_KEY
