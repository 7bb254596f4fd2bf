"""Changing roles, removing members and leaving a household."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.access import get_membership
from accounts.forms import RoleForm
from accounts.models import Role
from accounts.sudo import sudo_required
from accounts.views.wording import a_role


def last_owner_message(household, action: str) -> str:
    # Only the last owner themselves can hit this: whoever acts is an owner.
    return (
        f"You are the last owner of {household}, so you cannot {action}. "
        "Make another member an owner first."
    )


@require_POST
def member_role(request, household_id, membership_id):
    own = get_membership(request.user, household_id, minimum=Role.OWNER)
    member = get_object_or_404(own.household.memberships.select_related("user"), pk=membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose owner, operator or viewer.")
        return redirect("accounts:household")
    role = form.cleaned_data["role"]
    try:
        services.change_role(membership=member, role=role)
    except services.LastOwner:
        messages.error(request, last_owner_message(own.household, "change your role"))
    else:
        who = "You are" if member.pk == own.pk else f"{member.user} is"
        messages.success(request, f"{who} now {a_role(role)}.")
    return redirect("accounts:household")


@require_http_methods(["GET", "POST"])
@sudo_required
def member_remove(request, household_id, membership_id):
    own = get_membership(request.user, household_id, minimum=Role.OWNER)
    member = get_object_or_404(own.household.memberships.select_related("user"), pk=membership_id)
    if request.method == "POST":
        try:
            services.remove_member(member)
        except services.LastOwner:
            messages.error(request, last_owner_message(own.household, "remove yourself"))
        else:
            who = "You no longer have" if member.pk == own.pk else f"{member.user} no longer has"
            messages.success(request, f"{who} access to {own.household}.")
        return redirect("accounts:household")
    context = {"member": member, "household": own.household, "is_self": member.pk == own.pk}
    return render(request, "accounts/member_remove.html", context)


@require_http_methods(["GET", "POST"])
def household_leave(request, household_id):
    own = get_membership(request.user, household_id)
    if request.method == "POST":
        try:
            services.remove_member(own)
        except services.LastOwner:
            messages.error(request, last_owner_message(own.household, "leave"))
            return redirect("accounts:household")
        messages.success(request, f"You have left {own.household}.")
        return redirect("accounts:household")
    # The last owner cannot leave; the page explains that instead of offering the button.
    owners = own.household.owner_count() if own.is_owner else None
    context = {
        "household": own.household,
        "only_owner": owners == 1,
        "alone": owners == 1 and own.household.memberships.count() == 1,
    }
    return render(request, "accounts/household_leave.html", context)
