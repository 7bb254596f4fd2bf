"""The one place that decides who may see and do what in a household.

Outsiders get 404 (a household they are not in does not exist for them); members whose
role is too low get 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Membership, Role


def get_membership(user, household_id, *, minimum: str = Role.VIEWER) -> Membership:
    """The user's membership of the household, checked against a minimum role."""
    if not user.is_authenticated:
        raise Http404
    membership = (
        Membership.objects.select_related("household")
        .filter(user=user, household_id=household_id)
        .first()
    )
    if membership is None:
        raise Http404
    if not membership.has_role(minimum):
        raise PermissionDenied
    return membership


def require_role(request, minimum: str) -> Membership:
    """The membership of the household the request is working in, at least `minimum`."""
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404
    if not membership.has_role(minimum):
        raise PermissionDenied
    return membership
