"""Celery tasks for commands (services in devices/commands.py and devices/status.py)."""

from __future__ import annotations

import logging

from celery import shared_task

from devices import commands
from devices.clouds.base import CloudError
from devices.machines import Device
from devices.models import AccountStatus, Vendor
from devices.status import refresh_mammotion_status

__all__ = ["expire_lost_commands", "refresh_status_after_command"]

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def expire_lost_commands() -> int:
    """Beat, every minute: unfinished commands past their deadline become "lost"."""
    return commands.expire_lost_commands()


# Time limits above the background HTTP timeout (5 s connect + 30 s read, plus a token
# renewal); one retry after a transient failure, then the next sync catches up.
@shared_task(bind=True, ignore_result=True, soft_time_limit=90, time_limit=120, max_retries=1)
def refresh_status_after_command(self, device_pk: int) -> None:
    """A few seconds after a Mammotion action: re-read the detail and apply it (4.4.6)."""
    device = (
        Device.objects.select_related("account")
        .filter(pk=device_pk, vendor=Vendor.MAMMOTION, gone_at__isnull=True)
        .first()
    )
    if device is None or device.account.status == AccountStatus.REAUTH_REQUIRED:
        return
    try:
        refresh_mammotion_status(device)
    except CloudError as exc:
        log.info("device %s: status refresh after a command failed: %s", device_pk, exc)
        if exc.retryable and self.request.retries < self.max_retries:
            raise self.retry(countdown=15) from None
