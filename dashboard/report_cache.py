"""Cached parts of the report pages, keyed so that they are never stale.

    with_versions(devices)               -> the queryset annotated with archive_version
    stamp(pairs), archive_stamp(ids)     -> "<pk>.<version>/..." of those devices' archives
    household_stamp(household)           -> the same of all its devices (gone ones too),
                                            with their names
    cached(name, parts, compute)         -> compute()'s value, kept a day under a key made
                                            of name, parts and the code stamp
    key(name, parts)                     -> that key (for {% cache %} in templates)

Totals, charts and history pages are made from the runs, which only change when a sync
(or an admin, or a cascade) writes them. Every such write raises the device's
ArchiveVersion (database triggers, migration devices 0004), so a key holding the
versions of the devices a part is made from changes with every write that could change
the part. The callers add the rest of what the part depends on: the household's time
zone and local date (week and month boundaries move at local midnight), device names,
the query string. The code stamp (the size and modification time of the templates and
Python files) makes a new release render afresh rather than serve an old rendering.

Nothing here holds a secret, a CSRF token or a CSP nonce: only archive figures and
markup built from them, which every member of the household may see.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from functools import cache as once
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db.models import OuterRef, Subquery

from devices.models import ArchiveVersion, Device

KEEP_S = 24 * 3600
T = TypeVar("T")


@once
def code_stamp() -> str:
    """Size and mtime of every template and Python file of the apps that render reports,
    hashed: it changes with any deployment that could change a rendering."""
    digest = hashlib.sha256()
    root = Path(settings.BASE_DIR)
    for folder, pattern in (("templates", "*.html"), ("dashboard", "*.py"), ("devices", "*.py")):
        for path in sorted((root / folder).rglob(pattern)):
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:12]


def with_versions(devices):
    """The devices queryset with each one's `archive_version` (None: no run written)."""
    version = ArchiveVersion.objects.filter(device=OuterRef("pk")).values("version")
    return devices.annotate(archive_version=Subquery(version))


def stamp(versions: Iterable[tuple[int, int | None]]) -> str:
    """ "<pk>.<version>/..." of (device id, archive version) pairs, in id order."""
    return "/".join(f"{pk}.{version or 0}" for pk, version in sorted(versions))


def archive_stamp(device_ids: Iterable[int]) -> str:
    """The stamp of these devices' archives, in one indexed query."""
    ids = set(device_ids)
    versions = dict(
        ArchiveVersion.objects.filter(device_id__in=ids).values_list("device_id", "version")
    )
    return stamp((pk, versions.get(pk)) for pk in ids)


def household_stamp(household) -> str:
    """The stamp of every device of the household (gone ones too), with their names."""
    rows = with_versions(Device.objects.for_household(household)).values_list(
        "pk", "archive_version", "name"
    )
    return stamp((pk, version) for pk, version, _ in rows) + repr(
        sorted((pk, name) for pk, _, name in rows)
    )


def key(name: str, parts: Iterable) -> str:
    text = "\x1f".join(str(part) for part in (code_stamp(), *parts))
    return f"report:{name}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def cached(name: str, parts: Iterable, compute: Callable[[], T]) -> T:
    """compute(), or its value cached under name and parts (kept a day)."""
    full = key(name, parts)
    value = cache.get(full)
    if value is None:
        value = compute()
        cache.set(full, value, KEEP_S)
    return value
