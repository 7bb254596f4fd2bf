from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dashboard import health


@require_GET
@never_cache
@login_not_required
def healthz(request):
    checks = {"database": health.database_ok(), "broker": health.broker_ok()}
    ok = all(checks.values())
    return JsonResponse({"ok": ok, **checks}, status=200 if ok else 503)


@require_GET
def overview(request):
    return render(request, "dashboard/overview.html", {})
