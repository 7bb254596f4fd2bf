from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.access import require_role
from accounts.models import Role
from dashboard import exports, health, report_cache, reports, runs, states
from dashboard.forms import FaultFilterForm, HistoryFilterForm
from dashboard.paging import keyset_page


@require_GET
@never_cache
@login_not_required
def healthz(request):
    checks = {"database": health.database_ok(), "broker": health.broker_ok()}
    ok = all(checks.values())
    # Reported, not judged: an install with no linked account has never synced.
    age = health.last_sync_age_seconds() if checks["database"] else None
    body = {"ok": ok, **checks, "last_sync_age_seconds": None if age is None else round(age)}
    return JsonResponse(body, status=200 if ok else 503)


@require_GET
def overview(request):
    if getattr(request, "membership", None) is None:  # signed in, in no household yet
        return render(request, "dashboard/overview.html", {"overview": None})
    membership = require_role(request, Role.VIEWER)
    overview = reports.household_report(membership.household)
    return render(
        request,
        "dashboard/overview.html",
        {"overview": overview, "membership": membership, "tz": membership.household.tz},
    )


def _cursor(rows, value: str | None):
    """The row a page cursor names, looked up in the scoped (and filtered) rows only."""
    if not value or not value.isdigit() or len(value) > 18:
        return None
    return rows.filter(pk=int(value)).first()


@require_GET
def history(request):
    household = require_role(request, Role.VIEWER).household
    form = HistoryFilterForm(request.GET, household=household)

    def read_page():
        rows = reports.history_runs(household, **form.filters())
        return keyset_page(
            rows,
            field="started_at",
            before=_cursor(rows, request.GET.get("before")),
            after=_cursor(rows, request.GET.get("after")),
        )

    # The page is read only when its rendering is not cached (see the template): the key
    # holds everything the rendering shows (the runs' archive versions, device names, the
    # time zone and the whole query string).
    page_key = report_cache.key(
        "history",
        (
            household.pk,
            household.time_zone,
            report_cache.household_stamp(household),
            sorted(request.GET.lists()),
        ),
    )
    context = {
        "form": form,
        "page": SimpleLazyObject(read_page),
        "tz": household.tz,
        "page_key": page_key,
    }
    return render(request, "dashboard/history.html", context)


@require_GET
def history_export(request):
    household = require_role(request, Role.VIEWER).household
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "json"):
        return HttpResponseBadRequest("format must be csv or json")
    form = HistoryFilterForm(request.GET, household=household)
    rows = reports.history_runs(household, **form.filters()).order_by(*reports.NEWEST_FIRST)
    return exports.export_response(rows, tz=household.tz, fmt=fmt, name="runs")


@require_GET
def run_detail(request, pk: int):
    household = require_role(request, Role.VIEWER).household
    run = get_object_or_404(
        reports.household_runs(household).select_related("device__account"), pk=pk
    )
    context = {
        "run": run,
        "tz": household.tz,
        "timeline": runs.timeline(run, household.tz),
        "params": runs.work_params(run),
        "error": states.error_text(run.device.vendor, run.error_code),
    }
    return render(request, "dashboard/run.html", context)


def _stored_file(name: str) -> Path | None:
    """A file under MEDIA_ROOT named by a stored relative path; None if it leaves the root."""
    if not name:
        return None
    root = Path(settings.MEDIA_ROOT).resolve()
    try:
        path = (root / name).resolve()
    except (OSError, ValueError):
        return None
    return path if path.is_relative_to(root) and path.is_file() else None


@require_GET
def run_map(request, pk: int):
    household = require_role(request, Role.VIEWER).household
    run = get_object_or_404(reports.household_runs(household), pk=pk)
    path = _stored_file(run.map_file)
    if path is None:
        raise Http404("No map stored for this run.")
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_GET
def faults(request):
    household = require_role(request, Role.VIEWER).household
    form = FaultFilterForm(request.GET, household=household)
    rows = reports.household_faults(household, **form.filters())
    page = keyset_page(
        rows,
        field="occurred_at",
        before=_cursor(rows, request.GET.get("before")),
        after=_cursor(rows, request.GET.get("after")),
    )
    return render(
        request, "dashboard/faults.html", {"form": form, "page": page, "tz": household.tz}
    )
