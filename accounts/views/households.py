"""The household page, its settings, creating households and switching between them."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services
from accounts.access import get_membership
from accounts.forms import HouseholdForm, InviteForm, RoleForm
from accounts.middleware import SESSION_KEY
from accounts.models import Role
from accounts.sudo import is_safe_next

# Owners first, then operators, then viewers.
ROLE_ORDER = Case(
    When(role=Role.OWNER, then=Value(0)),
    When(role=Role.OPERATOR, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


@require_GET
def household(request):
    """Members and roles of the current household; owners also see pending invitations."""
    membership = request.membership
    if membership is None:
        return render(request, "accounts/no_household.html")
    home = membership.household
    members = home.memberships.select_related("user").order_by(ROLE_ORDER, "user__username")
    invitations = []
    if membership.is_owner:
        invitations = home.invitations.pending().select_related("invited_by")
    context = {
        "membership": membership,
        "household": home,
        "members": members,
        "invitations": invitations,
        "owner_count": sum(1 for m in members if m.role == Role.OWNER),
        "role_form": RoleForm(),
        "invite_form": InviteForm(household=home) if membership.is_owner else None,
    }
    return render(request, "accounts/household.html", context)


@require_http_methods(["GET", "POST"])
def household_settings(request, household_id):
    membership = get_membership(request.user, household_id, minimum=Role.OWNER)
    form = HouseholdForm(request.POST or None, instance=membership.household)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Household settings saved.")
        return redirect("accounts:household")
    return render(
        request, "accounts/household_settings.html", {"form": form, "household": form.instance}
    )


@require_http_methods(["GET", "POST"])
def household_create(request):
    """Anyone signed in may start another household, which they then own."""
    form = HouseholdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = services.create_household(
            owner=request.user,
            name=form.cleaned_data["name"],
            time_zone=form.cleaned_data["time_zone"],
        )
        request.session[SESSION_KEY] = created.pk
        messages.success(request, f"{created.name} is ready. Invite people to join it below.")
        return redirect("accounts:household")
    return render(request, "accounts/household_create.html", {"form": form})


@require_POST
def household_switch(request, household_id):
    """Work in another of one's own households from now on."""
    membership = get_membership(request.user, household_id)
    request.session[SESSION_KEY] = membership.household_id
    messages.success(request, f"You are now in {membership.household.name}.")
    next_url = request.POST.get("next")
    return redirect(next_url if is_safe_next(request, next_url) else "dashboard:overview")
