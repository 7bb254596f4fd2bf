"""Every model is in the admin, and its list and detail pages open for staff."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from devices.history import Run
from devices.machines import Device
from devices.models import CloudAccount

pytestmark = pytest.mark.django_db

# Models that are bookkeeping of libraries or of one operation, not data staff manage.
NOT_IN_ADMIN = {"accounts.setuplock"}


def test_every_project_model_is_registered():
    missing = [
        model._meta.label_lower
        for config in (apps.get_app_config("accounts"), apps.get_app_config("devices"))
        for model in config.get_models()
        if model not in admin.site._registry and model._meta.label_lower not in NOT_IN_ADMIN
    ]
    assert missing == []


def test_device_and_run_pages_open_for_staff(admin_client, home):
    account = CloudAccount.objects.create(
        household=home, vendor="qihoo360", method="qihoo360_sid", label="360"
    )
    device = Device.objects.create(
        account=account, vendor="qihoo360", kind="vacuum", remote_id="SN1", name="Hall"
    )
    run = Run.objects.create(device=device, remote_id="SN1-1")
    for name, obj in (("device", device), ("run", run)):
        assert admin_client.get(reverse(f"admin:devices_{name}_changelist")).status_code == 200
        page = admin_client.get(reverse(f"admin:devices_{name}_change", args=[obj.pk]))
        assert page.status_code == 200
    changelist = admin_client.get(reverse("admin:devices_run_changelist") + "?q=SN1-1")
    assert "SN1-1" in changelist.content.decode()
