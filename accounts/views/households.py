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
from accounts.views.wording import (
    NO_MAIL_INVITE_HELP,
    a_role,
    either_of,
    expires_in,
    mail_is_configured,
)

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
    members = list(home.memberships.select_related("user").order_by(ROLE_ORDER, "user__username"))
    owners = [m for m in members if m.role == Role.OWNER]
    # The last owner can neither change their own role nor leave: don't offer it.
    only_owner = membership.is_owner and len(owners) == 1
    rows = [
        {
            "member": m,
            "is_you": m.pk == membership.pk,
            "role_locked": only_owner and m.pk == membership.pk,
            "can_remove": membership.is_owner and m.pk != membership.pk,
        }
        for m in members
    ]
    invitations = []
    if membership.is_owner:
        invitations = [
            {"invitation": i, "role": a_role(i.role), "expires_in": expires_in(i.expires_at)}
            for i in home.invitations.pending().select_related("invited_by")
        ]
    context = {
        "membership": membership,
        "household": home,
        "rows": rows,
        "invitations": invitations,
        "you_are": a_role(membership.role),
        "only_owner": only_owner,
        "alone": len(members) == 1,
        "owner_names": either_of([str(m.user) for m in owners if m.pk != membership.pk]),
        "role_form": RoleForm(),
        "invite_form": _invite_form(home) if membership.is_owner else None,
    }
    return render(request, "accounts/household.html", context)


def _invite_form(home):
    form = InviteForm(household=home)
    if not mail_is_configured():
        form.fields["email"].help_text = NO_MAIL_INVITE_HELP
    return form


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
    # A new household most likely lies in the same time zone as the current one.
    current = getattr(request, "household", None)
    initial = {"time_zone": current.time_zone} if current else None
    form = HouseholdForm(request.POST or None, initial=initial)
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
