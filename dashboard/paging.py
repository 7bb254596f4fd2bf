"""Keyset pagination ("older" / "newer" than a row), so a deep page costs what the first does.

Order, newest first: rows with a time by (time descending, pk ascending), then rows without
a time by pk. Rows with and without a time are read by two small queries, each an index
range in index order: (device, started_at DESC) indexes keep the pk ascending within equal
times on SQLite, and Postgres sorts the few ties incrementally. A single query with
"... OR started_at IS NULL" would make both databases walk every row instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

from django.db.models import Q

PAGE_SIZE = 50


@dataclass
class KeysetPage:
    rows: list = dataclass_field(default_factory=list)
    has_newer: bool = False
    has_older: bool = False

    @property
    def newer_cursor(self):
        return self.rows[0].pk if self.rows and self.has_newer else None

    @property
    def older_cursor(self):
        return self.rows[-1].pk if self.rows and self.has_older else None


def _split(qs, field: str):
    return qs.filter(**{f"{field}__isnull": False}), qs.filter(**{f"{field}__isnull": True})


def _older(qs, field: str, cursor):
    """(timed, untimed) rows after the cursor in newest-first order."""
    timed, untimed = _split(qs, field)
    value = getattr(cursor, field)
    if value is None:
        return timed.none(), untimed.filter(pk__gt=cursor.pk)
    after_cursor = Q(**{f"{field}__lt": value}) | Q(pk__gt=cursor.pk)
    return timed.filter(Q(**{f"{field}__lte": value}) & after_cursor), untimed


def _newer(qs, field: str, cursor):
    """(timed, untimed) rows before the cursor in newest-first order."""
    timed, untimed = _split(qs, field)
    value = getattr(cursor, field)
    if value is None:
        return timed, untimed.filter(pk__lt=cursor.pk)
    before_cursor = Q(**{f"{field}__gt": value}) | Q(pk__lt=cursor.pk)
    return timed.filter(Q(**{f"{field}__gte": value}) & before_cursor), untimed.none()


def keyset_page(qs, *, field: str, before=None, after=None, size: int = PAGE_SIZE) -> KeysetPage:
    """One page of `qs`: the newest rows, or those older than row `before`, or those newer
    than row `after` (cursor rows come from the same scoped, filtered queryset)."""
    if after is not None:
        timed, untimed = _newer(qs, field, after)
        # Read away from the cursor (oldest first), then turn the page around.
        rows = list(untimed.order_by("-pk")[: size + 1])
        rows += list(timed.order_by(field, "-pk")[: size + 1])
        return KeysetPage(rows=rows[:size][::-1], has_newer=len(rows) > size, has_older=True)
    if before is not None:
        timed, untimed = _older(qs, field, before)
    else:
        timed, untimed = _split(qs, field)
    # Both queries always run (each small), so the query count never depends on the data.
    rows = list(timed.order_by(f"-{field}", "pk")[: size + 1])
    rows += list(untimed.order_by("pk")[: size + 1])
    return KeysetPage(rows=rows[:size], has_newer=before is not None, has_older=len(rows) > size)
