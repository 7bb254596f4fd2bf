"""Machines discovered in linked cloud accounts, their last known status, and the log of
every command sent to them. (Models; imported by devices.models.)"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

# A status older than this is shown as stale; older than STATUS_HIDDEN_AFTER it is hidden
# (cloud-apis.md 3.7.8).
STATUS_STALE_AFTER = timedelta(minutes=15)
STATUS_HIDDEN_AFTER = timedelta(hours=24)


class DeviceKind(models.TextChoices):
    VACUUM = "vacuum", "Vacuum"
    MOWER = "mower", "Mower"
    STATION = "station", "RTK station"


class DeviceQuerySet(models.QuerySet):
    def present(self):
        return self.filter(gone_at__isnull=True)

    def for_household(self, household):
        return self.filter(account__household=household)


class Device(models.Model):
    account = models.ForeignKey(
        "devices.CloudAccount", on_delete=models.CASCADE, related_name="devices"
    )
    vendor = models.CharField(max_length=16)
    kind = models.CharField(max_length=16, choices=DeviceKind.choices)
    remote_id = models.CharField(max_length=64)  # 360 `sn`, Mammotion `deviceId`
    name = models.CharField(max_length=100)
    # Renamed in the dashboard where the vendor cannot rename (Mammotion): discovery keeps
    # this name instead of writing the vendor's back.
    renamed_locally = models.BooleanField(default=False)
    model = models.CharField(max_length=100, blank=True)  # vendor model code (S7, Luba 2 ...)
    model_name = models.CharField(max_length=100, blank=True)  # display name (aliases)
    firmware = models.CharField(max_length=64, blank=True)
    icon_url = models.URLField(max_length=500, blank=True)
    online = models.BooleanField(default=True)
    # Vendor feature flags: {"volume": True, "maxMode": False, ...}; absent means unknown.
    capabilities = models.JSONField(default=dict, blank=True)
    # Who else has access (360 share list), as [{"name": ..., "detail": ...}].
    shares = models.JSONField(default=list, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    gone_at = models.DateTimeField(null=True, blank=True)  # vanished from the device list

    # Last known status, written with narrow update_fields by syncs, commands and pushes.
    state = models.CharField(max_length=64, blank=True)  # vendor's raw state/mode value
    battery = models.PositiveSmallIntegerField(null=True, blank=True)
    fan_level = models.CharField(max_length=16, blank=True)
    charge_status = models.SmallIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    status_extra = models.JSONField(default=dict, blank=True)
    status_observed_at = models.DateTimeField(null=True, blank=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "remote_id"], name="device_once_per_account")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_gone(self) -> bool:
        return self.gone_at is not None

    def status_age(self, now=None) -> timedelta | None:
        if self.status_observed_at is None:
            return None
        return (now or timezone.now()) - self.status_observed_at

    def is_stale(self, now=None) -> bool:
        age = self.status_age(now)
        return age is None or age > STATUS_STALE_AFTER

    def capability(self, flag: str) -> bool:
        """Absent or unknown flag -> available; explicit False -> hidden (D-360-6)."""
        return self.capabilities.get(flag, True) is not False


class CommandStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    FAILED = "failed", "Failed"
    LOST = "lost", "Lost"


class CommandLogQuerySet(models.QuerySet):
    def unfinished(self):
        return self.filter(status__in=[CommandStatus.PENDING, CommandStatus.SENT])


class CommandLog(models.Model):
    """Every command, recorded before it is sent, then updated with its outcome."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="commands")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    command = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=CommandStatus.choices, default=CommandStatus.PENDING
    )
    message = models.CharField(max_length=500, blank=True)
    task_id = models.CharField(max_length=64, blank=True, db_index=True)  # 360 taskid
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Past this, a command with no outcome is "lost" (never stuck as pending).
    deadline = models.DateTimeField()

    objects = CommandLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["device", "-created_at"], name="command_device_recent"),
            models.Index(fields=["status", "deadline"], name="command_unfinished"),
        ]

    def __str__(self) -> str:
        return f"{self.command} on {self.device} ({self.status})"


class RateBucket(models.Model):
    """A token bucket in the database (works on SQLite and Postgres, across processes):
    rate limits for command buttons and per-account vendor request budgets."""

    key = models.CharField(max_length=100, unique=True)
    tokens = models.FloatField()
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.key}: {self.tokens:.1f}"


class Lease(models.Model):
    """A named lock with an expiry, taken by compare-and-swap in the database, so it
    works across processes on SQLite and Postgres without Redis (see devices/locks.py)."""

    key = models.CharField(max_length=100, unique=True)
    holder = models.CharField(max_length=64, blank=True)
    until = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.key} held by {self.holder or 'nobody'} until {self.until:%H:%M:%S}"
