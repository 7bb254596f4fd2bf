"""A device's last known status in words, for the overview cards and the device page.

    from dashboard.states import device_status, state_label, error_text
    state_label(device)          -> "Docked, fully charged"
    device_status(device, now)   -> DeviceStatus(label, tone, battery, observed_at, ...)
    error_text(vendor, code)     -> "Wheel stuck" (vendor catalogue) or "Error -2201"

Vendor values follow cloud-apis.md 3.8.2 (360 `mode`) and 4.5.1/4.5.2 (Mammotion
`status`, `chargeStatus`). Unknown values are shown raw, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from devices.machines import STATUS_HIDDEN_AFTER

# Compared case-insensitively (keys are lower case).
QIHOO360_MODES = {
    "sweep": "Cleaning",
    "pause": "Paused",
    "backcharge": "Returning to dock",
    "charge": "Charging",
    "fullcharge": "Docked, fully charged",
    "idle": "Idle",
    "dormant": "Sleeping",
    "fault": "Error",
    "rfctrl": "Remote control",
    "findchargerpause": "Return paused",
    "shutdown": "Off",
    "findchargerandwash": "Docked, station busy",
    "dustcenterworking": "Docked, station busy",
}

MAMMOTION_STATUSES = {
    "working": "Mowing",
    "mowing": "Mowing",
    "paused": "Paused",
    "taskpaused": "Paused",
    "returning": "Returning to dock",
    "charging": "Charging",
    "offline": "Offline",
    "abnormal": "Needs attention",
    "mapping": "Mapping",
    "updating": "Updating firmware",
}

# Tone of a state for colour: ok (working or resting normally), warn, bad.
_BAD = {"Error", "Needs attention"}
_WARN = {"Paused", "Return paused", "Offline", "Off", "Remote control"}


def state_label(device) -> str:
    """The device's last known state in words ("" state -> "Status unknown")."""
    raw = (device.state or "").strip()
    if not raw:
        return "Status unknown"
    key = raw.lower()
    if device.vendor == "mammotion":
        if key == "standby":
            return "Docked" if device.charge_status in (1, 2) else "Idle"
        return MAMMOTION_STATUSES.get(key, raw)
    return QIHOO360_MODES.get(key, raw)


@dataclass(frozen=True)
class DeviceStatus:
    label: str  # "Charging", or "Status unknown"
    tone: str  # "ok", "warn", "bad" or "unknown"; CSS class status-<tone>
    battery: int | None
    observed_at: datetime | None
    age: timedelta | None
    stale: bool  # older than STATUS_STALE_AFTER: shown, but labelled as stale
    unknown: bool  # never observed, or older than STATUS_HIDDEN_AFTER: not shown
    online: bool
    error: str  # the device's current error in words, "" when none


def device_status(device, now: datetime | None = None) -> DeviceStatus:
    now = now or timezone.now()
    age = device.status_age(now)
    unknown = age is None or age > STATUS_HIDDEN_AFTER or not device.state
    label = "Status unknown" if unknown else state_label(device)
    code = (device.error_code or "").strip()
    error = error_text(device.vendor, code) if code not in ("", "0") and not unknown else ""
    if unknown:
        tone = "unknown"
    elif label in _BAD or error:
        tone = "bad"
    elif label in _WARN or not device.online or device.is_stale(now):
        tone = "warn"
    else:
        tone = "ok"
    return DeviceStatus(
        label=label,
        tone=tone,
        battery=None if unknown else device.battery,
        observed_at=device.status_observed_at,
        age=age,
        stale=device.is_stale(now) and not unknown,
        unknown=unknown,
        online=device.online,
        error=error,
    )


def error_text(vendor: str, code) -> str:
    """The vendor catalogue's text for an error code, or "Error <code>"."""
    code = str(code).strip()
    if not code or code == "0":
        return ""
    try:
        from devices.catalogue import error_text as catalogue_error_text
    except ImportError:
        return f"Error {code}"
    try:
        found = catalogue_error_text(vendor, code)
    except Exception:  # a catalogue problem must never break a page
        found = None
    # The catalogue may answer with a string or an object with a title (ErrorText).
    title = found if isinstance(found, str) else getattr(found, "title", None)
    if isinstance(title, str) and title.strip():
        return title.strip()
    return f"Error {code}"
