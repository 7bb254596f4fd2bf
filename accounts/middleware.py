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
        if request.user.is_authenticated:
            membership = current_membership(request)
            if membership is not None:
                request.membership = membership
                request.household = membership.household
        return self.get_response(request)


def current_membership(request) -> Membership | None:
    memberships = Membership.objects.select_related("household").filter(user=request.user)
    chosen = request.session.get(SESSION_KEY)
    membership = memberships.filter(household_id=chosen).first() if chosen else None
    if membership is None:
        membership = memberships.order_by("created_at", "pk").first()
        if membership is not None:
            request.session[SESSION_KEY] = membership.household_id
    return membership
