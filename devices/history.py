"""The permanent archive: every run, every fault, the vendor's own totals, and a record of
every sync. (Models; imported by devices.models.) Rows are keyed by the vendor's ids with
unique constraints, so every write can be an idempotent upsert."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class RunResult(models.TextChoices):
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped by user"
    INTERRUPTED = "interrupted", "Interrupted"
    ERROR = "error", "Ended with an error"
    RUNNING = "running", "Running"
    UNKNOWN = "unknown", "Unknown"


class Run(models.Model):
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="runs")
    remote_id = models.CharField(max_length=96)  # 360 cleanId, Mammotion workId
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_s = models.PositiveIntegerField(null=True, blank=True)
    area_m2 = models.FloatField(null=True, blank=True)
    mode = models.CharField(max_length=32, blank=True)
    result = models.CharField(max_length=16, choices=RunResult.choices, default=RunResult.UNKNOWN)
    result_raw = models.CharField(max_length=32, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    progress = models.FloatField(null=True, blank=True)
    # Per-run detail fetched after the listing: timeline events, work parameters, etc.
    detail = models.JSONField(default=dict, blank=True)
    detail_synced_at = models.DateTimeField(null=True, blank=True)
    map_file = models.CharField(max_length=255, blank=True)  # path under MEDIA_ROOT
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["device", "remote_id"], name="run_once_per_device")
        ]
        indexes = [
            models.Index(fields=["device", "-started_at"], name="run_device_recent"),
            models.Index(fields=["-started_at"], name="run_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.device} run {self.remote_id}"


class RunDay(models.Model):
    """The runs of one device that started on one UTC day, summed: what the reports read
    instead of scanning every run (a household with years of history has 100,000s).

    Kept by database triggers on devices_run (migration 0003), never by Python code, so
    every way a run is written (sync upserts, run details, deletes, cascades, the shell,
    tests) keeps it exact. UTC days, so a household's time zone can change freely: the
    reports take days that straddle a local period boundary from the runs themselves."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()  # UTC date of started_at
    month = models.DateField()  # the first of that UTC month (for grouping in SQL)
    runs = models.IntegerField(default=0)
    area_m2 = models.FloatField(default=0)
    duration_s = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "day"], name="run_day_once_per_device")
        ]
        indexes = [models.Index(fields=["device", "month"], name="run_day_device_month")]

    def __str__(self) -> str:
        return f"{self.device_id} on {self.day}: {self.runs} runs"


class ArchiveVersion(models.Model):
    """A random stamp per device, replaced by every write to its runs: the reports key
    their cached parts on it (dashboard.report_cache), so a cached chart or history page
    is never older than the archive. Kept by database triggers on devices_run (migration
    0004), like RunDay, so no write path can forget it."""

    device = models.OneToOneField(
        "devices.Device", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.device_id} at version {self.version}"


class Fault(models.Model):
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="faults")
    # Vendor-side identity of the fault: Mammotion code + gmtCreate; 360 cleanId + code.
    remote_id = models.CharField(max_length=128)
    code = models.CharField(max_length=32)
    level = models.PositiveSmallIntegerField(null=True, blank=True)  # 1 info, 2 warning, 3 critical
    occurred_at = models.DateTimeField()
    title = models.CharField(max_length=300, blank=True)
    solution = models.TextField(blank=True)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["device", "remote_id"], name="fault_once_per_device")
        ]
        indexes = [models.Index(fields=["device", "-occurred_at"], name="fault_device_recent")]

    def __str__(self) -> str:
        return f"{self.device} fault {self.code}"


class DeviceStats(models.Model):
    """What the vendor itself reports as lifetime totals and recent series for a device."""

    device = models.OneToOneField(
        "devices.Device", on_delete=models.CASCADE, related_name="vendor_stats"
    )
    area_m2 = models.FloatField(null=True, blank=True)
    runs = models.PositiveIntegerField(null=True, blank=True)
    duration_s = models.PositiveBigIntegerField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)  # clues text, CO2 saved, mop area...
    week_series = models.JSONField(default=list, blank=True)  # [{"date": "...", "area": n}]
    month_series = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Vendor totals of {self.device}"


class SyncOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    OK = "ok", "OK"
    PARTIAL = "partial", "Partly done"
    AUTH = "auth", "Needs re-link"
    THROTTLED = "throttled", "Throttled"
    UNAVAILABLE = "unavailable", "Vendor unavailable"
    BAD_RESPONSE = "bad_response", "Bad response"
    TIMED_OUT = "timed_out", "Timed out"
    ERROR = "error", "Error"
    SKIPPED = "skipped", "Skipped"


class SyncTrigger(models.TextChoices):
    """Why a background job of an account ran (what a household member reads)."""

    SCHEDULE = "schedule", "Scheduled sync"
    MANUAL = "manual", "Sync now"
    LINK = "link", "Sync after linking"
    RUN_FINISHED = "run_finished", "Sync after a run"
    DETAILS = "details", "Run details and maps"


class SyncRecord(models.Model):
    """One background job of an account: a sync, or a run details pass (trigger
    "details", see devices/sync_details.py)."""

    account = models.ForeignKey(
        "devices.CloudAccount", on_delete=models.CASCADE, related_name="syncs"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=16, choices=SyncOutcome.choices, default=SyncOutcome.RUNNING
    )
    trigger = models.CharField(
        max_length=16, choices=SyncTrigger.choices, default=SyncTrigger.SCHEDULE
    )
    new_runs = models.PositiveIntegerField(default=0)
    new_faults = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    progress = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["account", "-started_at"], name="sync_account_recent")]

    def __str__(self) -> str:
        return f"Sync of {self.account} at {self.started_at:%Y-%m-%d %H:%M} ({self.outcome})"
