"""Keep a household's Device rows in step with an account's device list: new machines
appear, renamed ones update, vanished ones are marked gone (their history stays)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from devices.clouds.base import RemoteDevice
from devices.machines import Device, DeviceKind
from devices.models import CloudAccount, Vendor

# The 360 model-alias table (cloud-apis.md 3.5.12), cached by the catalogue refresh.
MODEL_ALIASES_CACHE_KEY = "catalogue:qihoo360:model_aliases"


@dataclass(frozen=True)
class DiscoveryResult:
    added: int
    updated: int
    gone: int
    present: int


def kind_of(account: CloudAccount, remote: RemoteDevice) -> str:
    if account.vendor == Vendor.QIHOO360:
        return DeviceKind.VACUUM
    return DeviceKind.STATION if remote.is_station else DeviceKind.MOWER


def model_name(account: CloudAccount, remote: RemoteDevice) -> str:
    model = remote.model or ""
    if account.vendor == Vendor.QIHOO360:
        aliases = cache.get(MODEL_ALIASES_CACHE_KEY) or {}
        return aliases.get(model) or model
    return model


def apply_device_list(account: CloudAccount, remotes: list[RemoteDevice]) -> DiscoveryResult:
    """Upsert the account's devices from a complete, already parsed device list."""
    now = timezone.now()
    added = updated = 0
    with transaction.atomic():
        existing = {d.remote_id: d for d in Device.objects.filter(account=account)}
        for remote in remotes:
            fields = {
                "vendor": account.vendor,
                "kind": kind_of(account, remote),
                "name": (remote.name or remote.remote_id)[:100],
                "model": (remote.model or "")[:100],
                "model_name": model_name(account, remote)[:100],
                "firmware": (remote.firmware or "")[:64],
                "icon_url": (remote.icon_url or "")[:500],
                "online": remote.online is not False,
                "capabilities": dict(remote.capabilities) if remote.capabilities_known else {},
                "gone_at": None,
            }
            device = existing.get(remote.remote_id)
            if device is None:
                Device.objects.create(account=account, remote_id=remote.remote_id, **fields)
                added += 1
                continue
            if device.renamed_locally:
                del fields["name"]  # the vendor cannot know the name given here
            changed = [name for name, value in fields.items() if getattr(device, name) != value]
            if changed:
                for name in changed:
                    setattr(device, name, fields[name])
                device.save(update_fields=changed)
                updated += 1
        seen = {remote.remote_id for remote in remotes}
        gone = (
            Device.objects.filter(account=account, gone_at__isnull=True)
            .exclude(remote_id__in=seen)
            .update(gone_at=now)
        )
    return DiscoveryResult(added=added, updated=updated, gone=gone, present=len(remotes))


def discover_devices(account: CloudAccount, client) -> DiscoveryResult:
    """Fetch the device list with `client` (one request) and apply it."""
    return apply_device_list(account, client.list_devices())
