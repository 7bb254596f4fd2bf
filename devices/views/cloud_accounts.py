"""Cloud accounts: the list, one account's page, linking (360 Smart, Mammotion), re-link,
remove, and "sync now".

Who may do what: any member sees the list and the account pages; operators and owners
press "Sync now"; only owners link, re-link and remove, and only in sudo mode (they
confirm their password first). Outsiders get 404, lower roles 403 (before any password
prompt).
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_membership, require_role
from accounts.models import Role
from accounts.sudo import sudo_required
from devices import linking
from devices.clouds.mammotion_account import ONE_SESSION_WARNING
from devices.forms import (
    MammotionApiForm,
    MammotionAppForm,
    Qihoo360CookieForm,
    Qihoo360SidForm,
    RemoveAccountForm,
)
from devices.linking import LinkError, has_machines, is_removed
from devices.linking_mammotion import link_mammotion_app, mammotion_regions
from devices.models import AccountStatus, CloudAccount, LinkMethod, Vendor


def account_for(request, pk: int, minimum: str):
    """The account and the person's membership of its household, at least `minimum`."""
    account = get_object_or_404(CloudAccount.objects.select_related("household"), pk=pk)
    return account, get_membership(request.user, account.household_id, minimum=minimum)


def owner_in_sudo_mode(view):
    """Owners only, and in sudo mode. The role is checked first, so an outsider gets
    404 and a viewer 403 at once instead of a password prompt."""
    sudo_view = sudo_required(view)

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if "pk" in kwargs:
            account_for(request, kwargs["pk"], Role.OWNER)
        else:
            require_role(request, Role.OWNER)
        return sudo_view(request, *args, **kwargs)

    return wrapped


def posted(request):
    """The form data of a POST (even an empty one, unlike `request.POST or None`)."""
    return request.POST if request.method == "POST" else None


def relinking(account) -> dict:
    """Template context of a link page: the account being re-linked, if any."""
    return {"account": account, "removed": account is not None and is_removed(account)}


def try_link(request, membership, account, form, service):
    """Run a linking service with the form's values: the response on success, else None
    with the vendor's message added to the form (nothing was stored)."""
    try:
        result = service(
            household=membership.household,
            user=request.user,
            account=account,
            **form.link_args(),
        )
    except LinkError as error:
        form.add_link_error(error)
        return None
    return linked(request, result)


def linked(request, result: linking.LinkResult):
    messages.success(request, result.summary())
    for note in result.notes:
        messages.info(request, note)
    return redirect("devices:account", result.account.pk)


# --- reading -----------------------------------------------------------------------------


@require_GET
def account_list(request):
    membership = require_role(request, Role.VIEWER)
    accounts = CloudAccount.objects.for_household(membership.household).annotate(
        machine_count=Count("devices", filter=Q(devices__gone_at__isnull=True))
    )
    linked_accounts = sorted(
        (a for a in accounts if not is_removed(a)),
        key=lambda a: (not a.needs_attention, a.label.casefold()),
    )
    removed = [a for a in accounts if is_removed(a)]
    context = {"membership": membership, "accounts": linked_accounts, "removed": removed}
    return render(request, "devices/accounts/list.html", context)


@require_GET
def account_detail(request, pk):
    account, membership = account_for(request, pk, Role.VIEWER)
    devices = sorted(account.devices.all(), key=lambda d: (d.is_gone, d.name.casefold()))
    context = {
        "account": account,
        "membership": membership,
        "devices": devices,
        "removed": is_removed(account),
        "has_machines": has_machines(account),
        # A sync of an account waiting for a re-link would not run: no button for it.
        "can_sync": membership.can_operate
        and has_machines(account)
        and account.status != AccountStatus.REAUTH_REQUIRED,
    }
    return render(request, "devices/accounts/detail.html", context)


# --- actions -------------------------------------------------------------------------------


@require_POST
def account_sync(request, pk):
    account, _ = account_for(request, pk, Role.OPERATOR)
    if not has_machines(account):
        messages.error(request, f"{account.label} has no machines to sync.")
    elif linking.queue_sync(account, trigger="manual"):
        messages.success(request, f"Sync of {account.label} requested. Progress shows below.")
    else:
        messages.warning(
            request,
            f"A sync of {account.label} could not be started now (one may be running "
            "already); the next scheduled sync runs as usual.",
        )
    return redirect("devices:account", account.pk)


@require_http_methods(["GET", "POST"])
@owner_in_sudo_mode
def account_remove(request, pk):
    account, membership = account_for(request, pk, Role.OWNER)
    removed = is_removed(account)
    form = RemoveAccountForm(posted(request))
    if request.method == "POST" and form.is_valid():
        delete = removed or form.cleaned_data["delete_history"]
        label = account.label
        linking.remove_account(account=account, delete_history=delete)
        if delete:
            messages.success(request, f"Removed {label} and deleted its history.")
        else:
            messages.success(
                request,
                f"Removed {label}. Its credentials are erased; the runs and faults of its "
                "machines stay in History and Faults. Linking the same account again "
                "brings them back together.",
            )
        return redirect("devices:accounts")
    devices = account.devices.annotate(run_count=Count("runs")).order_by("name")
    context = {"account": account, "form": form, "removed": removed, "devices": devices}
    return render(request, "devices/accounts/remove.html", context)


# --- linking -------------------------------------------------------------------------------


@require_GET
@owner_in_sudo_mode
def link_start(request):
    return render(request, "devices/accounts/link_start.html")


@require_http_methods(["GET", "POST"])
@owner_in_sudo_mode
def link_qihoo360(request):
    return qihoo360_page(request, require_role(request, Role.OWNER))


@require_http_methods(["GET", "POST"])
@owner_in_sudo_mode
def link_mammotion(request):
    return mammotion_api_page(request, require_role(request, Role.OWNER))


@require_http_methods(["GET", "POST"])
@owner_in_sudo_mode
def link_mammotion_app_view(request):
    return mammotion_app_page(request, require_role(request, Role.OWNER))


@require_http_methods(["GET", "POST"])
@owner_in_sudo_mode
def account_relink(request, pk):
    """The same forms as linking; they update this account's credentials and keep its
    machines and history."""
    account, membership = account_for(request, pk, Role.OWNER)
    if account.vendor == Vendor.QIHOO360:
        return qihoo360_page(request, membership, account)
    if account.method == LinkMethod.MAMMOTION_APP:
        return mammotion_app_page(request, membership, account)
    return mammotion_api_page(request, membership, account)


def qihoo360_page(request, membership, account=None):
    """Two ways on one page: QID + SID, or Q and T cookies (or a whole Cookie header)."""
    initial = {"qid": account.identity} if account else {}
    sid_form = Qihoo360SidForm(prefix="sid", initial=initial)
    cookie_form = Qihoo360CookieForm(prefix="cookies", initial=initial)
    way = request.POST.get("way") if request.method == "POST" else None
    if way == "sid":
        sid_form = Qihoo360SidForm(request.POST, prefix="sid")
        form, service = sid_form, linking.link_qihoo360_sid
    elif way == "cookies":
        cookie_form = Qihoo360CookieForm(request.POST, prefix="cookies")
        form, service = cookie_form, None
    if way in ("sid", "cookies") and form.is_valid():
        if service is None:
            qt = form.cleaned_data["way"] == "qt"
            service = linking.link_qihoo360_qt if qt else linking.link_qihoo360_sid
        if response := try_link(request, membership, account, form, service):
            return response
    context = {"sid_form": sid_form, "cookie_form": cookie_form, "way": way, **relinking(account)}
    return render(request, "devices/accounts/link_qihoo360.html", context)


def mammotion_api_page(request, membership, account=None):
    initial = {"client_id": account.identity} if account else {}
    form = MammotionApiForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        service = linking.link_mammotion_open_api
        if response := try_link(request, membership, account, form, service):
            return response
    context = {"form": form, **relinking(account)}
    return render(request, "devices/accounts/link_mammotion.html", context)


def mammotion_app_page(request, membership, account=None):
    """Sign in with the app account, after the one-session warning (4.3.1)."""
    areas, areas_problem = [], ""
    try:
        areas = mammotion_regions()
    except LinkError as error:
        areas_problem = error.message
    initial = {"email": account.identity} if account else {}
    form = MammotionAppForm(posted(request), initial=initial, areas=areas)
    if request.method == "POST" and form.is_valid():
        if response := try_link(request, membership, account, form, link_mammotion_app):
            return response
    context = {
        "form": form,
        "areas_problem": areas_problem,
        "warning": ONE_SESSION_WARNING,
        **relinking(account),
    }
    return render(request, "devices/accounts/link_mammotion_app.html", context)
