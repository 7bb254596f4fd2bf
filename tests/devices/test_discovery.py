"""Device discovery: new machines appear, renamed ones update, vanished ones are marked
gone with their history kept, and a name given in the dashboard survives."""

import pytest

from devices.clouds.base import RemoteDevice
from devices.discovery import apply_device_list
from devices.history import Run
from devices.machines import Device
from devices.models import CloudAccount, LinkMethod, Vendor

pytestmark = pytest.mark.django_db


@pytest.fixture
def mower_account(home):
    return CloudAccount.objects.create(
        household=home, vendor=Vendor.MAMMOTION, method=LinkMethod.MAMMOTION_OPEN_API, label="m"
    )


def remote(remote_id, name, **kw):
    return RemoteDevice(vendor="mammotion", remote_id=remote_id, name=name, online=True, **kw)


def test_new_renamed_and_vanished_devices(mower_account):
    first = apply_device_list(mower_account, [remote("a", "Luba"), remote("b", "Yuka")])
    assert (first.added, first.updated, first.gone) == (2, 0, 0)

    luba = Device.objects.get(remote_id="a")
    Run.objects.create(device=luba, remote_id="w1")
    second = apply_device_list(mower_account, [remote("b", "Yuka front")])

    assert (second.added, second.updated, second.gone) == (0, 1, 1)
    luba.refresh_from_db()
    assert luba.gone_at is not None and luba.runs.count() == 1
    assert Device.objects.get(remote_id="b").name == "Yuka front"

    third = apply_device_list(mower_account, [remote("a", "Luba"), remote("b", "Yuka front")])
    assert third.updated == 1  # Luba is back
    luba.refresh_from_db()
    assert luba.gone_at is None


def test_unchanged_list_writes_nothing(mower_account):
    apply_device_list(mower_account, [remote("a", "Luba")])
    result = apply_device_list(mower_account, [remote("a", "Luba")])
    assert (result.added, result.updated, result.gone) == (0, 0, 0)


def test_a_name_given_in_the_dashboard_is_kept(mower_account):
    apply_device_list(mower_account, [remote("a", "Luba-VS5K8D2M1", firmware="1.0")])
    Device.objects.filter(remote_id="a").update(name="Back garden", renamed_locally=True)

    apply_device_list(mower_account, [remote("a", "Luba-VS5K8D2M1", firmware="1.1")])

    device = Device.objects.get(remote_id="a")
    assert device.name == "Back garden"
    assert device.firmware == "1.1"
