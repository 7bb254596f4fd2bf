from django.utils.functional import SimpleLazyObject


def household(request):
    """The current household and role, for the navigation bar and role-aware templates.

    `household_memberships` (all of the person's households, for the switcher) is lazy: it
    costs a query only on pages that show it.
    """
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    memberships = []
    if user is not None and user.is_authenticated:
        memberships = SimpleLazyObject(lambda: list(user.memberships_with_households()))
    return {
        "current_household": getattr(request, "household", None),
        "current_membership": membership,
        "household_memberships": memberships,
    }
