"""What the 360 push listener writes to the database (cloud-apis.md 3.7.7, 3.7.8, 3.8).

    apply_status(device_pk, status)          a 20001 status -> the device's status fields;
                                             says whether a run has just finished
    remember_push(device_pk, answer)         another infoType -> status_extra["last_push"]
    settle_command(account_pk, sn, task_id, message)
                                             a push answering a CommandLog -> acknowledged
                                             or failed (None: no such command, yet)
    mark_online(device_pk, online)           narrow write of `online`
    mark_watched(device_pk) / watched(pks)   "someone is looking at this device"

Every write is narrow (QuerySet.update of named fields) because syncs, commands, the web
tier and the listener write different fields of one device row at the same time. The
read-modify-write of `status_extra` runs in one short transaction with the row locked
(Postgres; SQLite's IMMEDIATE transactions lock the database).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from devices.clouds.qihoo360_push import CommandAnswer, VacuumStatus
from devices.machines import CommandLog, CommandStatus, Device

# A run is going on in these modes; it has ended once the robot rests again (or a
# different cleanId shows up). `backcharge` ends a run in the simulator, but a robot may
# also go back to recharge and resume, so the sync waits for the dock.
RUN_MODES = frozenset({"sweep", "pause", "backcharge"})
RESTING_MODES = frozenset({"charge", "fullcharge", "idle", "dormant", "shutdown"})

LAST_PUSH_MAX_CHARS = 2000  # a bigger payload (a map) is kept as its size only
LAST_PUSH_MAX_TYPES = 12
WATCH_SECONDS = 30  # the fragment re-reads every 10 s; three missed polls end the watch
WATCH_KEY = "live:watched:{pk}"

ACKNOWLEDGED_MESSAGE = "The robot confirmed it."


@dataclass(frozen=True)
class StatusWritten:
    mode: str
    run_finished: str | None  # the cleanId of the run that has just ended


def apply_status(device_pk: int, status: VacuumStatus, *, now: datetime | None = None):
    """Write one 20001 status (3.8.1) to the device. Returns StatusWritten, or None when
    the device row is gone."""
    now = now or timezone.now()
    mode = (status.mode or "").strip()[:64]
    battery = status.battery if status.battery is not None and 0 <= status.battery <= 100 else None
    with transaction.atomic():
        row = (
            Device.objects.select_for_update()
            .filter(pk=device_pk)
            .values("state", "status_extra")
            .first()
        )
        if row is None:
            return None
        extra = dict(row["status_extra"] or {})
        finished = _finished_run(row["state"], extra.get("clean_id"), mode, status.clean_id)
        extra.update(
            clean_area=status.clean_area,
            clean_time=status.clean_time,
            clean_id=status.clean_id,
            sub_mode=status.sub_mode,
            # The command service reads the raw subMode (3.6: suction `cleanType`).
            subMode=(status.raw or {}).get("subMode"),
            vol=status.vol,
            errors=list(status.error_codes),
            mop_status=status.mop_status,
        )
        Device.objects.filter(pk=device_pk).update(
            state=mode,
            battery=battery,
            fan_level=(status.fan_level or "")[:16],
            error_code=str(status.error_code or "")[:32],
            status_extra=extra,
            status_observed_at=now,
            online=True,  # it just reported
        )
    return StatusWritten(mode=mode, run_finished=finished)


def _finished_run(old_mode: str, old_clean_id, new_mode: str, new_clean_id) -> str | None:
    """The cleanId of the run that ended between two statuses, if one did."""
    if (old_mode or "").lower() not in RUN_MODES or not old_clean_id:
        return None
    if new_mode.lower() in RESTING_MODES:
        return str(old_clean_id)
    if new_clean_id and new_clean_id != old_clean_id:
        return str(old_clean_id)  # a new run started straight after the old one
    return None


def remember_push(device_pk: int, answer: CommandAnswer, *, now: datetime | None = None) -> None:
    """Keep the last raw payload of a non-status infoType (3.7.7: used later)."""
    now = now or timezone.now()
    payload: Any = answer.data
    text = json.dumps(payload, separators=(",", ":"), default=str)
    if len(text) > LAST_PUSH_MAX_CHARS:
        payload = {"omitted": "too large to keep", "chars": len(text)}
    entry = {"at": now.isoformat(), "message": answer.message, "data": payload}
    with transaction.atomic():
        row = Device.objects.select_for_update().filter(pk=device_pk).values("status_extra").first()
        if row is None:
            return
        extra = dict(row["status_extra"] or {})
        pushes = dict(extra.get("last_push") or {})
        pushes.pop(answer.info_type, None)
        pushes[answer.info_type] = entry  # newest last
        while len(pushes) > LAST_PUSH_MAX_TYPES:
            pushes.pop(next(iter(pushes)))
        extra["last_push"] = pushes
        Device.objects.filter(pk=device_pk).update(status_extra=extra)


def settle_command(account_pk: int, sn: str, task_id: str, message: str | None) -> bool | None:
    """The robot's answer to a recorded command (3.7.8 "Correlation"). True or False:
    the command was found (and settled, unless it already was); None: no command with
    this taskid (yet: the command service stores it right after the cloud accepted)."""
    now = timezone.now()
    rows = CommandLog.objects.filter(
        task_id=task_id, device__account_id=account_pk, device__remote_id=sn
    )
    ok = message in (None, "ok")
    outcome = {
        "status": CommandStatus.ACKNOWLEDGED if ok else CommandStatus.FAILED,
        "message": ACKNOWLEDGED_MESSAGE
        if ok
        else f"The robot refused it (it answered “{message}”)."[:500],
        "finished_at": now,
    }
    unfinished = [CommandStatus.PENDING, CommandStatus.SENT, CommandStatus.LOST]
    if rows.filter(status__in=unfinished).update(**outcome):
        return ok
    return ok if rows.exists() else None


def mark_online(device_pk: int, online: bool) -> None:
    Device.objects.filter(pk=device_pk).exclude(online=online).update(online=online)


# --- watching: the live fragment says someone looks at a device ----------------------


def mark_watched(device_pk: int) -> None:
    """The live fragment was just fetched: the listener refreshes this device promptly
    for the next WATCH_SECONDS (a cache key with that timeout, shared across processes
    through the configured cache: files or Redis)."""
    cache.set(WATCH_KEY.format(pk=device_pk), 1, timeout=WATCH_SECONDS)


def watched(device_pks) -> set[int]:
    keys = {WATCH_KEY.format(pk=pk): pk for pk in device_pks}
    if not keys:
        return set()
    return {keys[key] for key in cache.get_many(list(keys))}


def is_stale(device: Device, now: datetime, *, active_after: timedelta) -> bool:
    """A running robot reports every minute: its status is stale after a few minutes."""
    age = device.status_age(now)
    if age is None:
        return True
    return device.is_stale(now) or (
        (device.state or "").lower() in RUN_MODES and age > active_after
    )
