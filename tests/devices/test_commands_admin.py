"""The command log in Django's admin: visible to staff, read-only."""

from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from devices.machines import CommandLog
from tests.conftest import PASSWORD
from tests.devices import make_account


def test_staff_see_the_command_log_read_only(home, alice, login):
    from devices.machines import Device

    device = Device.objects.create(
        account=make_account(home), vendor="qihoo360", kind="vacuum", remote_id="SN1", name="Robbie"
    )
    entry = CommandLog.objects.create(
        device=device,
        user=alice,
        command="start",
        status="failed",
        message="The device is offline.",
        deadline=timezone.now(),
    )
    staff = login(User.objects.create_superuser("root", "root@example.com", PASSWORD))

    listing = staff.get(reverse("admin:devices_commandlog_changelist"))
    assert listing.status_code == 200
    assert "The device is offline." in listing.content.decode()
    detail = staff.get(reverse("admin:devices_commandlog_change", args=[entry.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()  # view only
    assert staff.get(reverse("admin:devices_commandlog_add")).status_code == 403
    assert login(alice).get(reverse("admin:devices_commandlog_changelist")).status_code == 302
