"""People, households and what each person may do in each household."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

INVITATION_LIFETIME = timedelta(days=7)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/Berlin).")


class User(AbstractUser):
    """The project's user model (custom from day one, so it can grow without pain)."""

    def memberships_with_households(self):
        return self.memberships.select_related("household").order_by("household__name")


class Household(models.Model):
    name = models.CharField(max_length=100)
    # Reports bucket runs into days, weeks and months in this zone.
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def owner_count(self) -> int:
        return self.memberships.filter(role=Role.OWNER).count()


class Role(models.TextChoices):
    # Ordered from least to most powerful; see Role.rank().
    VIEWER = "viewer", "Viewer"
    OPERATOR = "operator", "Operator"
    OWNER = "owner", "Owner"

    @classmethod
    def rank(cls, role: str) -> int:
        return [cls.VIEWER, cls.OPERATOR, cls.OWNER].index(role)


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "household"], name="one_membership_per_household"
            )
        ]
        ordering = ["household__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.household} ({self.role})"

    def has_role(self, minimum: str) -> bool:
        return Role.rank(self.role) >= Role.rank(minimum)

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def can_operate(self) -> bool:
        return self.has_role(Role.OPERATOR)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def pending(self, now=None):
        now = now or timezone.now()
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class Invitation(models.Model):
    """A single-use, expiring link to join a household. Only the token's hash is stored."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.household} as {self.role}"

    @classmethod
    def issue(cls, *, household, email: str, role: str, invited_by) -> tuple[Invitation, str]:
        """Create an invitation; returns it with the raw token (shown once, in the link)."""
        token = secrets.token_urlsafe(32)
        invitation = cls.objects.create(
            household=household,
            email=email,
            role=role,
            invited_by=invited_by,
            token_hash=hash_token(token),
            expires_at=timezone.now() + INVITATION_LIFETIME,
        )
        return invitation, token

    @classmethod
    def find_pending(cls, token: str) -> Invitation | None:
        return (
            cls.objects.pending()
            .select_related("household")
            .filter(token_hash=hash_token(token))
            .first()
        )

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class SetupLock(models.Model):
    """One row that first-run set-up locks, so two concurrent submissions make one owner.

    A row lock (not a check of "no user yet" alone) because two requests can both see an
    empty user table; the second waits on this row and then sees the first one's owner.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)

    def __str__(self) -> str:
        return "First-run set-up lock"

    @classmethod
    def hold(cls) -> None:
        """Lock the row until the surrounding transaction ends (call inside atomic())."""
        cls.objects.get_or_create(pk=1)
        cls.objects.select_for_update().get(pk=1)
