"""Inviting people by email, withdrawing invitations and accepting them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.access import get_membership
from accounts.forms import InvitationSignUpForm, InviteForm
from accounts.middleware import SESSION_KEY
from accounts.models import Invitation, Role, hash_token
from accounts.views.auth import MODEL_BACKEND
from accounts.views.wording import (
    NO_MAIL_INVITE_HELP,
    a_role,
    mail_is_configured,
    site_url_mismatch,
)

INVALID = {
    "unknown": "This invitation link is not valid. Check that you copied all of it.",
    "expired": "This invitation has expired. Ask an owner of the household for a new one.",
    "accepted": "This invitation has already been used. Sign in to reach the household.",
    "revoked": "This invitation was withdrawn. Ask an owner of the household for a new one.",
}


@require_http_methods(["GET", "POST"])
@never_cache
def invite(request, household_id):
    own = get_membership(request.user, household_id, minimum=Role.OWNER)
    form = InviteForm(request.POST or None, household=own.household)
    if not mail_is_configured():
        form.fields["email"].help_text = NO_MAIL_INVITE_HELP
    if request.method == "POST" and form.is_valid():
        link, emailed = services.invite_member(
            household=own.household,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=request.user,
        )
        # Rendered, not redirected: the link is shown this once and stored nowhere.
        context = {
            "email": form.cleaned_data["email"],
            "link": link,
            "emailed": emailed,
            "mail_configured": mail_is_configured(),
            "opened_at": site_url_mismatch(request),
            "household": own.household,
        }
        return render(request, "accounts/invitation_sent.html", context)
    context = {"form": form, "household": own.household, "mail_configured": mail_is_configured()}
    return render(request, "accounts/invite.html", context)


@require_POST
def invitation_revoke(request, household_id, invitation_id):
    own = get_membership(request.user, household_id, minimum=Role.OWNER)
    invitation = get_object_or_404(own.household.invitations, pk=invitation_id)
    if services.revoke_invitation(invitation):
        messages.success(request, f"The invitation for {invitation.email} is withdrawn.")
    else:
        messages.info(request, f"The invitation for {invitation.email} was no longer pending.")
    return redirect("accounts:household")


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("password1", "password2")
@never_cache
@login_not_required
def invitation_accept(request, token):
    """Join by link: signed-in people join; anyone else creates an account and joins."""
    invitation = (
        Invitation.objects.select_related("household", "invited_by")
        .filter(token_hash=hash_token(token))
        .first()
    )
    status = invitation.status if invitation else "unknown"
    if status != "pending":
        context = {"reason": INVALID[status]}
        code = 404 if status == "unknown" else 410
        return render(request, "accounts/invitation_invalid.html", context, status=code)
    if request.user.is_authenticated:
        return _accept_signed_in(request, invitation)
    form = InvitationSignUpForm(request.POST or None, initial={"email": invitation.email})
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_up_with_invitation(
                invitation=invitation,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                email=form.cleaned_data["email"],
            )
        except services.AccountsError as e:
            return render(request, "accounts/invitation_invalid.html", {"reason": str(e)}, 410)
        login(request, user, backend=MODEL_BACKEND)
        return _joined(request, invitation)
    return render(request, "accounts/invitation_accept.html", _context(invitation, form))


def _accept_signed_in(request, invitation):
    is_member = request.user.memberships.filter(household=invitation.household_id).exists()
    if request.method == "POST" and not is_member:
        try:
            services.accept_invitation(invitation=invitation, user=request.user)
        except services.AccountsError as e:
            return render(request, "accounts/invitation_invalid.html", {"reason": str(e)}, 410)
        return _joined(request, invitation)
    context = _context(invitation, None) | {"is_member": is_member}
    return render(request, "accounts/invitation_accept.html", context)


def _context(invitation, form):
    return {
        "invitation": invitation,
        "household": invitation.household,
        "form": form,
        "as_role": a_role(invitation.role),
    }


def _joined(request, invitation):
    request.session[SESSION_KEY] = invitation.household_id
    role = a_role(invitation.role)
    messages.success(request, f"Welcome to {invitation.household.name}. You joined as {role}.")
    return redirect("dashboard:overview")
