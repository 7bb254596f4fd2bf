def household(request):
    """The current household and role, for the navigation bar and role-aware templates."""
    membership = getattr(request, "membership", None)
    return {
        "current_household": getattr(request, "household", None),
        "current_membership": membership,
    }
