"""Sending commands to machines with their outcome recorded (cloud-apis.md 3.5.4 and 3.6
for 360 vacuums, 4.4.6 for Mammotion mowers). Which buttons exist and when they are offered
is devices.command_catalogue.

    send_command(device=, command=, user=, params=)  -> CommandOutcome (never raises CloudError)
    rename_device(device=, name=, user=)      -> CommandOutcome
    expire_lost_commands()                    -> how many unfinished commands became "lost"

Every command that passes validation and the per-device rate limit is written to the
CommandLog as "pending" *before* the vendor is called, in its own committed row, so a
request or worker that dies mid-call leaves a row the beat turns into "lost" at its
deadline. Clicks refused by our own rate limit are not recorded: nothing was sent, and a
stuck mouse button should not fill the log. Throttling by the vendor (HTTP 429) is
recorded as "failed".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from devices import ratelimit
from devices.cloud import COMMAND_TIMEOUT, client_for
from devices.clouds.base import (
    AuthExpired,
    CloudError,
    CommandRejected,
    CommandResult,
    DeviceOffline,
    RateLimited,
    Unavailable,
)
from devices.clouds.qihoo360_session import normalise_title
from devices.command_catalogue import (
    RENAME,
    VENDOR_NAMES,
    CommandNotAllowed,
    CommandSpec,
    clean_params,
    describe,
    spec_for,
)
from devices.machines import CommandLog, CommandStatus, Device
from devices.models import AccountStatus, Vendor
from devices.status import refresh_mammotion_status

log = logging.getLogger(__name__)

# Per-device rate limit of the buttons: a burst of 6, then one every 10 s.
RATE_CAPACITY = 6
RATE_PER_SECOND = 6 / 60
# A pending command with no outcome after this is "lost" (covers token renewals and the
# (connect, read) timeouts of every request one command may need).
PENDING_TIMEOUT = timedelta(minutes=2)
# A 360 command the cloud accepted waits this long for the robot's push answer (the app
# waits 30 s, 3.5.4).
ACK_TIMEOUT = timedelta(seconds=45)
# Mammotion: re-read the detail this long after an action (4.4.6).
REFRESH_DELAY_S = 5

LOST_PENDING = "No outcome: the request stopped before the cloud answered."
LOST_SENT = (
    "The cloud accepted it, but no answer from the robot arrived in time, so whether it "
    "ran is unknown."
)


@dataclass(frozen=True)
class CommandOutcome:
    ok: bool
    message: str  # what the person is told
    entry: CommandLog | None = None  # None when nothing was recorded
    level: str = ""  # message level: success, warning or error

    def __post_init__(self):
        if not self.level:
            object.__setattr__(self, "level", "success" if self.ok else "error")


# --- sending ----------------------------------------------------------------------------


def send_command(
    *, device: Device, command: str, user, params: Mapping | None = None, client=None
) -> CommandOutcome:
    """Validate, rate-limit, record, send with COMMAND_TIMEOUT, record the outcome."""
    spec = spec_for(device, command)
    if spec is None or device.is_gone:
        return CommandOutcome(False, f"{device.name} has no such control.")
    try:
        clean = clean_params(device, spec, params or {})
    except CommandNotAllowed as exc:
        return CommandOutcome(False, str(exc))
    if not ratelimit.take(f"cmd:{device.pk}", capacity=RATE_CAPACITY, per_second=RATE_PER_SECOND):
        return CommandOutcome(
            False,
            f"{device.name}: too many commands in a short time, so this one was not sent. "
            "Wait about 10 seconds and try again.",
            level="warning",
        )
    entry = CommandLog.objects.create(
        device=device,
        user=user,
        command=spec.key,
        params=clean,
        deadline=timezone.now() + PENDING_TIMEOUT,
    )
    try:
        client = client or client_for(device.account, timeout=COMMAND_TIMEOUT)
        result = _call_vendor(client, device, spec, clean)
    except CloudError as exc:
        return _failed(entry, device, exc)
    except Exception:
        log.exception("command %s on device %s failed unexpectedly", entry.pk, device.pk)
        _finish(entry, CommandStatus.FAILED, "Unexpected error in the dashboard (see its log).")
        return CommandOutcome(
            False,
            f"{device.name}: something went wrong here; the command may not have been sent.",
            entry,
        )
    return _succeeded(entry, device, spec, clean, result)


def _call_vendor(client, device: Device, spec: CommandSpec, params: dict) -> CommandResult:
    if device.vendor == Vendor.QIHOO360:
        options = {}
        if spec.option == "level":
            options = {"level": params["level"], "clean_type": _clean_type(device)}
        elif spec.option == "volume":
            options = {"volume": params["volume"]}
        return client.send_command(device.remote_id, spec.vendor_command, **options)
    if spec.key == "status":
        refresh_mammotion_status(device, client=client, with_tasks=True)
        return CommandResult(accepted=True, message="Status read")
    return client.send_action(device.remote_id, spec.vendor_command, task_name=params.get("task"))


def _clean_type(device: Device) -> str:
    """3.6: `area` while an area/room job runs (last subMode area or room), else `total`."""
    sub_mode = str((device.status_extra or {}).get("subMode") or "").lstrip("-")
    return "area" if sub_mode in ("area", "room") else "total"


def _finish(entry: CommandLog, status: str, message: str, **fields) -> None:
    """Record an outcome. A row the beat already called "lost" still takes the real one."""
    now = timezone.now()
    values = {"status": status, "message": message[:500], **fields}
    if status in (CommandStatus.ACKNOWLEDGED, CommandStatus.FAILED, CommandStatus.LOST):
        values.setdefault("finished_at", now)
    CommandLog.objects.filter(
        pk=entry.pk, status__in=[CommandStatus.PENDING, CommandStatus.LOST]
    ).update(**values)
    for name, value in values.items():
        setattr(entry, name, value)


def _succeeded(entry, device, spec, params, result: CommandResult) -> CommandOutcome:
    now = timezone.now()
    what = describe(spec, params)
    if device.vendor == Vendor.QIHOO360:
        _finish(
            entry,
            CommandStatus.SENT,
            "Accepted by the 360 cloud; waiting for the robot's answer.",
            task_id=result.task_id or "",
            sent_at=now,
            deadline=now + ACK_TIMEOUT,
        )
        if not device.online:  # the cloud forwards only to online robots (212 otherwise)
            device.online = True
            device.save(update_fields=["online"])
        if spec.key == "status":
            text = f"{device.name}: status request sent. The state will show once the robot reports back."
        elif spec.changes_state:
            text = (
                f"{device.name}: {what} sent. The robot's new state will show once it reports back."
            )
        else:
            text = f"{device.name}: {what} sent."
        return CommandOutcome(True, text, entry)
    _finish(entry, CommandStatus.ACKNOWLEDGED, result.message or "Accepted", sent_at=now)
    if spec.key == "status":
        return CommandOutcome(True, f"{device.name}: status refreshed.", entry)
    transaction.on_commit(lambda: queue_status_refresh(device.pk))
    text = f"{device.name}: {what} accepted. The new state will show in a few seconds."
    return CommandOutcome(True, text, entry)


def queue_status_refresh(device_pk: int) -> None:
    """Re-read a mower's detail REFRESH_DELAY_S after an action (4.4.6)."""
    from devices.command_tasks import refresh_status_after_command  # tasks import this module

    try:
        refresh_status_after_command.apply_async((device_pk,), countdown=REFRESH_DELAY_S)
    except Exception:  # a broker hiccup must not turn a delivered command into an error
        log.warning("device %s: status refresh not queued", device_pk, exc_info=True)


def _failed(entry: CommandLog, device: Device, exc: CloudError) -> CommandOutcome:
    vendor = VENDOR_NAMES.get(device.vendor, "The vendor")
    status, level, shown = CommandStatus.FAILED, "error", None
    rejected_reason = getattr(exc, "vendor_message", None) or ""
    if isinstance(exc, DeviceOffline) or (
        isinstance(exc, CommandRejected) and "offline" in rejected_reason.lower()
    ):
        detail, shown = "The device is offline.", f"{device.name} is offline."
        if device.online:
            device.online = False
            device.save(update_fields=["online"])
    elif isinstance(exc, CommandRejected):
        detail = f"{vendor} refused: {rejected_reason or 'no reason given'}"
    elif isinstance(exc, RateLimited):
        detail = (
            f"The {vendor} cloud is throttling requests, so it did not take the command. "
            "Try again in a few minutes."
        )
    elif isinstance(exc, Unavailable) and "timed out" in str(exc):
        status, level = CommandStatus.LOST, "warning"
        detail = (
            f"The {vendor} cloud did not answer in time, so it is unknown whether the command "
            "arrived. Check the state before trying again."
        )
    elif isinstance(exc, AuthExpired):
        detail = exc.user_message
        if device.account.status != AccountStatus.REAUTH_REQUIRED:
            device.account.set_status(AccountStatus.REAUTH_REQUIRED, exc.user_message)
    else:
        detail = exc.user_message
    # str(exc) is secret-free (clouds.errors); it says which request failed and how.
    log.info(
        "command %s (%s) on device %s: %s: %s", entry.pk, entry.command, device.pk, status, exc
    )
    _finish(entry, status, detail)
    return CommandOutcome(False, shown or f"{device.name}: {detail}", entry, level=level)


# --- renaming and the lost-command sweep ------------------------------------------------


def rename_device(*, device: Device, name: str, user, client=None) -> CommandOutcome:
    """3.5.3 for 360 (the new name is saved after the cloud accepts it); Mammotion's Open
    API cannot rename, so a mower is renamed here only. Recorded like a command."""
    try:
        title = normalise_title(name)
    except ValueError:
        return CommandOutcome(False, "A name must be 1 to 32 characters long.")
    old = device.name
    if title == old:
        return CommandOutcome(True, f"{old} keeps its name.")
    if not ratelimit.take(f"cmd:{device.pk}", capacity=RATE_CAPACITY, per_second=RATE_PER_SECOND):
        return CommandOutcome(False, f"{old}: too many changes in a short time. Wait a little.")
    entry = CommandLog.objects.create(
        device=device,
        user=user,
        command=RENAME,
        params={"name": title, "old": old},
        deadline=timezone.now() + PENDING_TIMEOUT,
    )
    if device.vendor == Vendor.QIHOO360:
        try:
            client = client or client_for(device.account, timeout=COMMAND_TIMEOUT)
            title = client.rename_device(device.remote_id, title)
        except CloudError as exc:
            return _failed(entry, device, exc)
        except Exception:
            log.exception("renaming device %s failed unexpectedly", device.pk)
            _finish(entry, CommandStatus.FAILED, "Unexpected error in the dashboard (see its log).")
            return CommandOutcome(False, f"{old}: something went wrong here; not renamed.", entry)
        note = "The 360 app shows the new name too."
    else:
        note = "Renamed here only: Mammotion's API cannot rename machines, so its app keeps the old name."
    device.name = title
    device.renamed_locally = device.vendor != Vendor.QIHOO360
    device.save(update_fields=["name", "renamed_locally"])
    _finish(entry, CommandStatus.ACKNOWLEDGED, note, sent_at=timezone.now())
    return CommandOutcome(True, f"Renamed “{old}” to “{title}”. {note}", entry)


def expire_lost_commands(now=None) -> int:
    """Pending or sent commands past their deadline become "lost" (never stuck pending)."""
    now = now or timezone.now()
    overdue = CommandLog.objects.filter(deadline__lt=now)
    lost = overdue.filter(status=CommandStatus.PENDING).update(
        status=CommandStatus.LOST, finished_at=now, message=LOST_PENDING
    )
    lost += overdue.filter(status=CommandStatus.SENT).update(
        status=CommandStatus.LOST, finished_at=now, message=LOST_SENT
    )
    return lost
