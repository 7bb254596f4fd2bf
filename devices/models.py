"""Linked vendor cloud accounts and everything synced from them."""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from devices import crypto


class Vendor(models.TextChoices):
    QIHOO360 = "qihoo360", "360 Smart"
    MAMMOTION = "mammotion", "Mammotion"


class LinkMethod(models.TextChoices):
    QIHOO360_SID = "qihoo360_sid", "QID and SID"
    QIHOO360_QT = "qihoo360_qt", "QID with Q and T cookies"
    MAMMOTION_OPEN_API = "mammotion_open_api", "Open API client credentials"
    MAMMOTION_APP = "mammotion_app", "Mammotion app account"


class AccountStatus(models.TextChoices):
    OK = "ok", "OK"
    REAUTH_REQUIRED = "reauth_required", "Needs re-link"
    THROTTLED = "throttled", "Throttled"
    ERROR = "error", "Error"


class CloudAccountQuerySet(models.QuerySet):
    def for_household(self, household):
        return self.filter(household=household)

    def linked(self):
        """Accounts in use: removal keeps an account's history but erases its credentials."""
        return self.exclude(credentials_token="")


class CloudAccount(models.Model):
    """One linked vendor account. Its secrets live only in `credentials_token`, encrypted;
    read them with `credentials()` and write them with `set_credentials()`."""

    household = models.ForeignKey(
        "accounts.Household", on_delete=models.CASCADE, related_name="cloud_accounts"
    )
    vendor = models.CharField(max_length=16, choices=Vendor.choices)
    method = models.CharField(max_length=32, choices=LinkMethod.choices)
    label = models.CharField(max_length=100)
    # A public identifier shown to people: the QID, the Open API client id or the email.
    identity = models.CharField(max_length=254, blank=True)
    region = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=20, choices=AccountStatus.choices, default=AccountStatus.OK
    )
    status_message = models.CharField(max_length=500, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # Associated data for the encrypted token: binds it to this row (see devices.crypto).
    credential_binding = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    credentials_token = models.TextField(blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    # Background sync: when it is due, who holds it (a lease with expiry, so doubled beats
    # or several workers never sync one account twice at once), and how it went.
    sync_interval_minutes = models.PositiveSmallIntegerField(default=15)
    next_sync_at = models.DateTimeField(default=timezone.now, db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=36, blank=True)
    consecutive_failures = models.PositiveSmallIntegerField(default=0)
    last_sync_ok_at = models.DateTimeField(null=True, blank=True)
    # Requests to the vendor per hour this account may use (kind to vendor clouds).
    request_budget_per_hour = models.PositiveIntegerField(default=300)
    # 360 method 2: recent SID logins, for the "3 per 10 minutes" rule (cloud-apis.md 3.3.3).
    login_attempts = models.JSONField(default=list, blank=True, editable=False)

    objects = CloudAccountQuerySet.as_manager()

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_vendor_display()})"

    def set_credentials(self, secrets: dict) -> None:
        """Encrypt `secrets` (a JSON-serialisable dict) into this row; the caller saves."""
        plaintext = json.dumps(secrets, separators=(",", ":"), sort_keys=True).encode()
        self.credentials_token = crypto.encrypt(plaintext, binding=str(self.credential_binding))

    def credentials(self) -> dict:
        """Decrypt and return the secrets. Raises crypto.CredentialError when they cannot be
        read (wrong or missing key, altered or moved token); never returns garbage."""
        if not self.credentials_token:
            raise crypto.CredentialError("No credentials are stored for this account.")
        plaintext = crypto.decrypt(self.credentials_token, binding=str(self.credential_binding))
        return json.loads(plaintext)

    def reencrypt_credentials(self) -> bool:
        """Re-encrypt the stored secrets under the newest key; the caller saves when this
        returns True. Raises crypto.CredentialError when they cannot be read, so a row
        under the newest key is still checked, not assumed readable."""
        secrets = self.credentials()
        if crypto.token_kid(self.credentials_token) == crypto.key_ring().current_kid:
            return False
        self.set_credentials(secrets)
        return True

    @property
    def needs_attention(self) -> bool:
        return self.status != AccountStatus.OK

    def set_status(self, status: str, message: str = "") -> None:
        """Record a status change (narrow write: sync workers and web requests meet here)."""
        self.status = status
        self.status_message = message[:500]
        self.status_changed_at = timezone.now()
        self.save(update_fields=["status", "status_message", "status_changed_at"])


# Models defined in sibling modules, imported here so Django registers them.
from devices.history import (  # noqa: E402
    ArchiveVersion,
    DeviceStats,
    Fault,
    Run,
    RunDay,
    SyncRecord,
)
from devices.machines import CommandLog, Device, Lease, RateBucket  # noqa: E402

__all__ = [
    "AccountStatus",
    "ArchiveVersion",
    "CloudAccount",
    "CommandLog",
    "Device",
    "DeviceStats",
    "Fault",
    "Lease",
    "LinkMethod",
    "RateBucket",
    "Run",
    "RunDay",
    "SyncRecord",
    "Vendor",
]
