"""Leases: named locks with an expiry, held in the database.

A lease is taken with one compare-and-swap UPDATE (or an INSERT the unique key lets only
one process win), never with a transaction held open across network calls, so a sync
or a token refresh that talks to a vendor for seconds does not block other writers on
SQLite. An expired lease (its holder crashed) is simply taken over.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from devices.machines import Lease


class LeaseBusy(Exception):
    """Someone else holds the lease."""


def acquire(key: str, ttl: timedelta, holder: str | None = None) -> str | None:
    """Take the lease `key` for `ttl`; returns the holder token, or None when it is held."""
    holder = holder or uuid.uuid4().hex
    now = timezone.now()
    taken = Lease.objects.filter(Q(until__lte=now) | Q(holder=""), key=key).update(
        holder=holder, until=now + ttl
    )
    if taken:
        return holder
    try:
        with transaction.atomic():
            Lease.objects.create(key=key, holder=holder, until=now + ttl)
    except IntegrityError:  # exists and is held by someone else
        return None
    return holder


def release(key: str, holder: str) -> None:
    Lease.objects.filter(key=key, holder=holder).update(holder="", until=timezone.now())


def extend(key: str, holder: str, ttl: timedelta) -> bool:
    return bool(Lease.objects.filter(key=key, holder=holder).update(until=timezone.now() + ttl))


@contextmanager
def held(key: str, ttl: timedelta, *, wait: float = 0.0, poll: float = 0.2) -> Iterator[str]:
    """Hold the lease for the block; wait up to `wait` seconds for it, else LeaseBusy."""
    deadline = time.monotonic() + wait
    while (holder := acquire(key, ttl)) is None:
        if time.monotonic() >= deadline:
            raise LeaseBusy(key)
        time.sleep(poll)
    try:
        yield holder
    finally:
        release(key, holder)
