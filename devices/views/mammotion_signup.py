"""The guided "create a dedicated dashboard account" wizard for Mammotion (cloud-apis.md
4.3.6): region, email and name -> a verification code by email (60 s cooldown) -> the
code and a password -> the account is created and a sign-in confirms it -> the manual
steps (share the mowers to it, create API credentials with it).

Owners only, in sudo mode, like linking. The session remembers the email, region and
name between the steps, never the password (the code step asks for it).
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from devices.forms import SignupCodeForm, SignupStartForm
from devices.linking_errors import LinkError
from devices.linking_mammotion import (
    CodeCooldown,
    code_cooldown_left,
    create_signup_account,
    mammotion_regions,
    send_signup_code,
)
from devices.views.cloud_accounts import owner_in_sudo_mode, posted

SESSION_KEY = "mammotion_signup"


@require_http_methods(["GET", "POST"])
@owner_in_sudo_mode
def signup_start(request):
    areas, areas_problem = [], ""
    try:
        areas = mammotion_regions()
    except LinkError as error:
        areas_problem = error.message
    initial = request.session.get(SESSION_KEY, {}).get("started", {})
    form = SignupStartForm(posted(request), initial=initial, areas=areas)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            send_signup_code(email=data["email"])
        except CodeCooldown:  # e.g. back from step 2: the code already sent still works
            sent = f"A code went to {data['email']} less than a minute ago: use that one."
        except LinkError as error:
            form.add_error(None, error.message)
            sent = None
        else:
            sent = f"Mammotion is emailing a verification code to {data['email']}."
        if sent:
            names = {area.iso_code: area.name for area in areas}
            started = {**data, "region_name": names.get(data["region"], data["region"])}
            request.session[SESSION_KEY] = {"started": started}
            messages.success(request, sent)
            return redirect("devices:mammotion_signup_code")
    context = {"form": form, "areas_problem": areas_problem}
    return render(request, "devices/accounts/signup_start.html", context)


@require_http_methods(["GET", "POST"])
@owner_in_sudo_mode
def signup_code(request):
    started = request.session.get(SESSION_KEY, {}).get("started")
    if not started:
        return redirect("devices:mammotion_signup")
    email = started["email"]
    if request.method == "POST" and request.POST.get("action") == "resend":
        try:
            send_signup_code(email=email)
        except LinkError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"A new code is on its way to {email}.")
        return redirect("devices:mammotion_signup_code")
    form = SignupCodeForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            result = create_signup_account(
                area_code=started["region"],
                email=email,
                full_name=started["full_name"],
                password=form.cleaned_data["password"],
                verification_code=form.cleaned_data["verification_code"],
            )
        except LinkError as error:
            form.add_link_error(error)
        else:
            request.session[SESSION_KEY] = {
                "done": {"email": result.email, "confirmed": result.confirmed, "note": result.note}
            }
            return redirect("devices:mammotion_signup_done")
    context = {"form": form, "started": started, "cooldown": code_cooldown_left(email)}
    return render(request, "devices/accounts/signup_code.html", context)


@require_GET
@owner_in_sudo_mode
def signup_done(request):
    done = request.session.get(SESSION_KEY, {}).get("done")
    if not done:
        return redirect("devices:mammotion_signup")
    return render(request, "devices/accounts/signup_done.html", {"done": done})
