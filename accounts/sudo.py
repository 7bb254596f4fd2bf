"""Sudo mode: a short window after re-entering one's password, for dangerous actions.

Owners confirm their password before adding or changing cloud credentials and before
removing members. Use it on a view like this (below the method decorator, above nothing
else; the view still does its own role check):

    @require_http_methods(["GET", "POST"])
    @sudo_required
    def link_account(request, household_id): ...

Without a recent confirmation the person is sent to `accounts:sudo`, which explains why and
returns them to the page they came from. For a POST the form cannot be replayed, so they
return to the page that held the form (the same-site Referer) and press the button again.
"""

from __future__ import annotations

import functools
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

SESSION_KEY = "sudo"


def in_sudo_mode(request) -> bool:
    """Whether this person confirmed their password in this session within the window."""
    data = request.session.get(SESSION_KEY)
    if not request.user.is_authenticated or not isinstance(data, dict):
        return False
    if data.get("user") != request.user.pk:
        return False
    age = timezone.now().timestamp() - float(data.get("at", 0))
    return 0 <= age < settings.SUDO_MODE_SECONDS


def enter_sudo_mode(request) -> None:
    request.session[SESSION_KEY] = {"user": request.user.pk, "at": timezone.now().timestamp()}


def leave_sudo_mode(request) -> None:
    request.session.pop(SESSION_KEY, None)


def is_safe_next(request, url: str | None) -> bool:
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def return_path(request) -> str:
    """Where to come back to after confirming: this page for GET, the form's page for POST."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = request.headers.get("Referer", "")
    if is_safe_next(request, referer):
        return referer
    return reverse("accounts:household")


def sudo_url(request) -> str:
    return f"{reverse('accounts:sudo')}?{urlencode({'next': return_path(request)})}"


def sudo_required(view):
    """Let the view run only in sudo mode; otherwise send the person to confirm first."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if in_sudo_mode(request):
            return view(request, *args, **kwargs)
        url = sudo_url(request)
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(url)
        return HttpResponseRedirect(url)

    return wrapped
