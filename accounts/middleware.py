"""Attach the household a signed-in person is currently working in to each request."""

from __future__ import annotations

from accounts.models import Membership

SESSION_KEY = "household_id"


class CurrentHouseholdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.household = None
        request.memberships = []
        if request.user.is_authenticated:
            request.memberships = list(request.user.memberships_with_households())
            membership = current_membership(request, request.memberships)
            if membership is not None:
                request.membership = membership
                request.household = membership.household
        return self.get_response(request)


def current_membership(request, memberships: list[Membership]) -> Membership | None:
    """The membership of the household chosen in this session, else the oldest one (then
    remembered). `memberships`: all of the person's, with their households (one query,
    which the navigation's household switcher reuses)."""
    chosen = request.session.get(SESSION_KEY)
    membership = next((m for m in memberships if m.household_id == chosen), None)
    if membership is None and memberships:
        membership = min(memberships, key=lambda m: (m.created_at, m.pk))
        request.session[SESSION_KEY] = membership.household_id
    return membership
