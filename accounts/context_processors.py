def household(request):
    """The current household and role, for the navigation bar and role-aware templates;
    `household_memberships`: all of the person's households, for the switcher (read by
    accounts.middleware with the current one, in the same query)."""
    return {
        "current_household": getattr(request, "household", None),
        "current_membership": getattr(request, "membership", None),
        "household_memberships": getattr(request, "memberships", []),
    }
