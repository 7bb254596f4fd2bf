"""Operations on people and households that span models or must be safe under concurrency.

Each raises an `AccountsError` subclass with a message fit to show to the person.
"""

from __future__ import annotations

import logging
import smtplib

from django.db import transaction
from django.utils import timezone

from accounts import emails
from accounts.models import Household, Invitation, Membership, Role, SetupLock, User

log = logging.getLogger(__name__)


class AccountsError(Exception):
    """An operation that was refused; str(error) is a calm sentence for the person."""


class AlreadySetUp(AccountsError):
    pass


class LastOwner(AccountsError):
    pass


class InvitationUnavailable(AccountsError):
    pass


class AlreadyMember(AccountsError):
    pass


def set_up_first_owner(
    *, username: str, password: str, email: str, household_name: str, time_zone: str
) -> User:
    """Create the first person (owner and server admin) and their household, exactly once."""
    with transaction.atomic():
        SetupLock.hold()
        if User.objects.exists():
            raise AlreadySetUp("This dashboard is already set up. Sign in instead.")
        # The person who installs the server also administers it (Django admin).
        user = User.objects.create_user(username, email, password, is_staff=True, is_superuser=True)
        create_household(owner=user, name=household_name, time_zone=time_zone)
    return user


def create_household(*, owner: User, name: str, time_zone: str = "UTC") -> Household:
    with transaction.atomic():
        household = Household.objects.create(name=name, time_zone=time_zone)
        Membership.objects.create(user=owner, household=household, role=Role.OWNER)
    return household


def invite_member(
    *, household: Household, email: str, role: str, invited_by: User
) -> tuple[str, bool]:
    """Create an invitation and email its link.

    Returns the link (shown once to the owner, who may share it another way) and whether the
    email went out. A mail server that is down must not lose the invitation.
    """
    invitation, token = Invitation.issue(
        household=household, email=email, role=role, invited_by=invited_by
    )
    link = emails.invitation_link(token)
    try:
        emails.send_invitation(invitation, link)
    except (smtplib.SMTPException, OSError):
        log.warning("Could not send the invitation email (invitation %s)", invitation.pk)
        return link, False
    return link, True


def revoke_invitation(invitation: Invitation) -> bool:
    """Withdraw a pending invitation; False when it was no longer pending."""
    updated = (
        Invitation.objects.pending().filter(pk=invitation.pk).update(revoked_at=timezone.now())
    )
    return updated == 1


def accept_invitation(*, invitation: Invitation, user: User) -> Membership:
    """Join the household; the invitation is claimed atomically, so it works only once."""
    with transaction.atomic():
        if Membership.objects.filter(user=user, household=invitation.household_id).exists():
            raise AlreadyMember(f"You are already a member of {invitation.household.name}.")
        claimed = (
            Invitation.objects.pending()
            .filter(pk=invitation.pk)
            .update(accepted_at=timezone.now(), accepted_by=user)
        )
        if not claimed:
            raise InvitationUnavailable("This invitation has already been used or withdrawn.")
        return Membership.objects.create(
            user=user, household_id=invitation.household_id, role=invitation.role
        )


def sign_up_with_invitation(
    *, invitation: Invitation, username: str, password: str, email: str
) -> User:
    """Create a new person's account and join the household, or neither."""
    with transaction.atomic():
        user = User.objects.create_user(username, email, password)
        accept_invitation(invitation=invitation, user=user)
    return user


def change_role(*, membership: Membership, role: str) -> None:
    with transaction.atomic():
        owners = _lock_owners(membership.household_id)
        if role != Role.OWNER and owners == [membership.pk]:
            raise LastOwner(f"{membership.user} is the last owner of {membership.household}.")
        membership.role = role
        membership.save(update_fields=["role"])


def remove_member(membership: Membership) -> None:
    """Remove someone (or oneself) from a household; never its last owner."""
    with transaction.atomic():
        owners = _lock_owners(membership.household_id)
        if owners == [membership.pk]:
            raise LastOwner(f"{membership.user} is the last owner of {membership.household}.")
        membership.delete()


def _lock_owners(household_id: int) -> list[int]:
    """Lock the household's owner memberships so two demotions cannot both pass the check."""
    return list(
        Membership.objects.select_for_update()
        .filter(household_id=household_id, role=Role.OWNER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
