"""A machine's last known status, written from what the vendor reports.

    apply_mammotion_status(device, status)          write a parsed detail (4.4.4) to the row
    refresh_mammotion_status(device, client=None)   read the detail (and, when due, the saved
                                                    tasks of 4.4.5) and apply them

The background sync and the refresh after a command both come through here. Writes use
narrow `update_fields`, because syncs, commands and (later) the 360 push listener write
different fields of one row at the same time. 360 status arrives only on the push channel
(cloud-apis.md 3.7), so there is no 360 counterpart here yet.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from devices.cloud import client_for
from devices.clouds.base import CloudError, DeviceStatus
from devices.machines import Device, DeviceKind
from devices.models import Vendor

log = logging.getLogger(__name__)

# 4.7 "Data freshness": saved tasks (`plan`) are re-read at most every 15 minutes.
TASKS_TTL = timedelta(minutes=15)
MAX_TASKS = 50


def apply_mammotion_status(device: Device, status: DeviceStatus) -> None:
    """Write a Mammotion device detail to the device's status fields (narrow update)."""
    now = timezone.now()
    device.state = (status.status or "").strip()[:64]
    device.battery = (
        status.battery if status.battery is not None and 0 <= status.battery <= 100 else None
    )
    device.charge_status = status.charge_status
    device.status_observed_at = now
    fields = ["state", "battery", "charge_status", "status_observed_at"]
    if status.online is not None:
        device.online = status.online
        fields.append("online")
    if status.firmware and status.firmware[:64] != device.firmware:
        device.firmware = status.firmware[:64]
        fields.append("firmware")
    network = status.network
    extra = dict(device.status_extra or {})
    extra["network"] = (
        {
            "used": network.used_network,
            "wifi_rssi": network.wifi_rssi,
            "cellular_rssi": network.cellular_rssi,
        }
        if network is not None
        else None
    )
    device.status_extra = extra
    fields.append("status_extra")
    device.save(update_fields=fields)


def cached_tasks(device: Device) -> list[str] | None:
    """Names of the mower's saved tasks as last read, or None when never read."""
    tasks = (device.status_extra or {}).get("tasks")
    return [str(name) for name in tasks] if isinstance(tasks, list) else None


def tasks_due(device: Device, now: datetime | None = None) -> bool:
    stamp = (device.status_extra or {}).get("tasks_at")
    try:
        read_at = datetime.fromisoformat(stamp) if stamp else None
    except (TypeError, ValueError):
        read_at = None
    return read_at is None or (now or timezone.now()) - read_at > TASKS_TTL


def store_tasks(device: Device, names: list[str]) -> None:
    extra = dict(device.status_extra or {})
    extra["tasks"] = [name[:100] for name in names[:MAX_TASKS]]
    extra["tasks_at"] = timezone.now().isoformat()
    device.status_extra = extra
    device.save(update_fields=["status_extra"])


def refresh_mammotion_status(
    device: Device, *, client=None, with_tasks: bool | None = None
) -> DeviceStatus:
    """Read the mower's detail and apply it; also re-read its saved tasks when they are
    older than TASKS_TTL (or when `with_tasks` is True). Raises CloudError when the detail
    cannot be read; a failed task read only keeps the previous list.

    Without `client`, one is made with the background timeout (for tasks and syncs)."""
    if device.vendor != Vendor.MAMMOTION:
        raise ValueError("only Mammotion devices have a readable status")
    if client is None:
        client = client_for(device.account)
    status = client.get_status(device.remote_id)
    apply_mammotion_status(device, status)
    if device.kind != DeviceKind.STATION and (
        with_tasks or (with_tasks is None and tasks_due(device))
    ):
        try:
            store_tasks(device, [task.name for task in client.list_tasks(device.remote_id)])
        except CloudError as exc:
            log.info("device %s: saved tasks not read: %s", device.pk, exc)
    return status
