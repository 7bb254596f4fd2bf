"""Command buttons (POST), their no-JavaScript confirmation page, and the command logs."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.access import require_role
from accounts.models import Role, User
from dashboard.paging import keyset_page
from devices import commands
from devices.command_catalogue import (
    OUTCOME_LABELS,
    all_command_choices,
    confirm_question,
    describe,
    known_state,
    needs_confirmation,
    spec_for,
)
from devices.machines import CommandLog, Device
from devices.views.devices import (
    MESSAGE_LEVELS,
    RECENT_COMMANDS,
    annotate_commands,
    device_for,
    live_context,
)

OPTION_FIELDS = ("level", "volume", "task")


def _spec_or_404(device: Device, command: str):
    spec = spec_for(device, command)
    if spec is None or device.is_gone:
        raise Http404("This machine has no such control.")
    return spec


@require_POST
def send(request, pk: int, command: str):
    device, membership = device_for(request, pk, Role.OPERATOR)
    spec = _spec_or_404(device, command)
    recent = list(device.commands.all()[:RECENT_COMMANDS])
    state = known_state(device, recent)
    if needs_confirmation(device, spec, state) and request.POST.get("confirm") != "1":
        options = {k: request.POST[k] for k in OPTION_FIELDS if request.POST.get(k)}
        url = reverse("devices:command_confirm", args=[device.pk, spec.key])
        url += f"?{urlencode(options)}" if options else ""
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    outcome = commands.send_command(
        device=device, command=spec.key, user=request.user, params=request.POST
    )
    if request.htmx:
        context = live_context(device, membership, outcome=outcome)
        return render(request, "devices/_device_status.html", context)
    messages.add_message(request, MESSAGE_LEVELS[outcome.level], outcome.message)
    return redirect("devices:device", pk=device.pk)


@require_GET
def confirm(request, pk: int, command: str):
    """ "Are you sure?" for people without JavaScript; its form POSTs with confirm=1."""
    device, membership = device_for(request, pk, Role.OPERATOR)
    spec = _spec_or_404(device, command)
    params = {k: request.GET[k][:100] for k in OPTION_FIELDS if request.GET.get(k)}
    context = {
        "device": device,
        "spec": spec,
        "params": params,
        "question": confirm_question(device, spec, params),
        "what": describe(spec, params),
    }
    return render(request, "devices/commands_confirm.html", context)


class CommandFilterForm(forms.Form):
    device = forms.ModelChoiceField(
        queryset=Device.objects.none(), required=False, empty_label="All", label="Machine"
    )
    command = forms.ChoiceField(required=False)
    status = forms.ChoiceField(
        choices=[("", "Any"), *OUTCOME_LABELS.items()], required=False, label="Outcome"
    )
    user = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Anyone", label="Sent by"
    )

    def __init__(self, data, *, household, device=None):
        super().__init__(data)
        self.fields["command"].choices = [("", "Any"), *all_command_choices()]
        if device is not None:
            del self.fields["device"]
        else:
            self.fields["device"].queryset = Device.objects.for_household(household)
        self.fields["user"].queryset = User.objects.filter(
            memberships__household=household
        ).order_by("username")

    def filters(self) -> dict:
        """The valid filters; an invalid one is dropped (and shown as an error)."""
        self.is_valid()
        return {
            name: value
            for name, value in getattr(self, "cleaned_data", {}).items()
            if value not in (None, "")
        }


def _cursor(rows, value: str | None):
    if not value or not value.isdigit() or len(value) > 18:
        return None
    return rows.filter(pk=int(value)).first()


def _log_page(request, membership, device=None):
    household = membership.household
    form = CommandFilterForm(request.GET, household=household, device=device)
    rows = CommandLog.objects.filter(device__account__household=household)
    if device is not None:
        rows = rows.filter(device=device)
    rows = rows.filter(**form.filters()).select_related("device", "user")
    page = keyset_page(
        rows,
        field="created_at",
        before=_cursor(rows, request.GET.get("before")),
        after=_cursor(rows, request.GET.get("after")),
    )
    page.rows = annotate_commands(page.rows)
    context = {"form": form, "page": page, "device": device, "tz": household.tz}
    return render(request, "devices/commands.html", context)


@require_GET
def household_log(request):
    return _log_page(request, require_role(request, Role.VIEWER))


@require_GET
def device_log(request, pk: int):
    device, membership = device_for(request, pk)
    return _log_page(request, membership, device)
