"""Sums of runs per device and period bucket, read from per-day totals instead of the runs.

    bucketed_totals(device_ids, weeks, months, lifetime) -> (week rows, month rows, all rows)

Each row is {"device_id", "bucket", "runs", "area", "secs"}: the rows dashboard.reports
used to get from one GROUP BY over every run, now computed from RunDay (per device and
UTC day, kept exact by database triggers on devices_run, migration devices 0003), so a
household with 100,000 runs costs what one with 100 does.

The periods are local (the household's time zone) and RunDay's days are UTC, so a UTC day
that a local midnight cuts in two is split with the runs themselves: the runs of its
shorter part are summed in SQL (index range scans), the longer part is the day's total
minus them. Every other UTC day lies whole in one bucket.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

from django.db import connection
from django.db.models import Q, Sum

from devices.models import Run, RunDay

ONE_DAY = timedelta(days=1)


class _Sums:
    """Runs, area and seconds per (device, bucket), turned into rows for _series/_add_up."""

    def __init__(self):
        self.sums: dict[tuple[int, int | None], list] = {}

    def add(self, device_id: int, bucket: int | None, runs: int, area, secs) -> None:
        total = self.sums.setdefault((device_id, bucket), [0, 0.0, 0])
        total[0] += runs
        total[1] += area or 0
        total[2] += secs or 0

    def rows(self) -> list[dict]:
        # Days whose runs were all deleted or moved keep a row of zeros: not a bucket.
        return [
            {"device_id": device_id, "bucket": bucket, "runs": n, "area": area, "secs": secs}
            for (device_id, bucket), (n, area, secs) in self.sums.items()
            if n
        ]


def _bucket(bounds: list[datetime], moment: datetime) -> int | None:
    """Index of the bucket [bounds[i], bounds[i + 1]) holding `moment`, else None."""
    index = bisect_right(bounds, moment) - 1
    return index if 0 <= index < len(bounds) - 1 else None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, dtime(0), tzinfo=UTC)


def _cuts(*boundary_lists: list[datetime]) -> dict[date, list[datetime]]:
    """UTC day -> the boundaries inside it (local midnights that are not UTC midnight).
    Every other UTC day lies whole in one bucket of each list."""
    cuts: dict[date, set[datetime]] = {}
    for boundaries in boundary_lists:
        for boundary in boundaries:
            utc = boundary.astimezone(UTC)
            if utc != _day_start(utc.date()):
                cuts.setdefault(utc.date(), set()).add(utc)
    return {day: sorted(inside) for day, inside in cuts.items()}


def _segments(day: date, inside: list[datetime]) -> list[tuple[datetime, datetime]]:
    """The parts a cut UTC day falls into, split at the boundaries inside it."""
    edges = [_day_start(day), *inside, _day_start(day + ONE_DAY)]
    return list(zip(edges, edges[1:], strict=False))


def _longest(segments: list[tuple[datetime, datetime]]) -> int:
    return max(range(len(segments)), key=lambda i: segments[i][1] - segments[i][0])


def _short_segments(cuts: dict[date, list[datetime]]) -> list[tuple]:
    """(day, i, start, end) of every part of a cut day but its longest."""
    found = []
    for day, inside in sorted(cuts.items()):
        parts = _segments(day, inside)
        longest = _longest(parts)
        found += [(day, i, low, high) for i, (low, high) in enumerate(parts) if i != longest]
    return found


def _split_sql(segments: int, devices: int) -> str:
    """The statement of _split_sums: only placeholders and numbers go into the text."""
    table = connection.ops.quote_name(Run._meta.db_table)
    ids = ", ".join(["%s"] * devices)
    sums = "COUNT(*), SUM(r.area_m2), SUM(r.duration_s)"
    undated = (
        f"SELECT r.device_id, 0, {sums} FROM {table} r "  # noqa: S608
        f"WHERE r.device_id IN ({ids}) AND r.started_at IS NULL GROUP BY r.device_id"
    )
    if not segments:
        return undated
    values = ", ".join(f"({k}, %s, %s)" for k in range(1, segments + 1))
    if connection.vendor == "postgresql":
        # LATERAL, and OFFSET 0 so that Postgres does not flatten it: each segment is an
        # index range scan on (device, started_at) whatever the statistics say (flattened,
        # a table not analyzed yet was scanned once per segment).
        runs = (
            f"CROSS JOIN LATERAL (SELECT device_id, area_m2, duration_s FROM {table} "  # noqa: S608
            f"WHERE device_id IN ({ids}) AND started_at >= cut.low AND started_at < cut.high "
            "OFFSET 0) r"
        )
    else:  # SQLite loops over the segments and searches the index for each
        runs = (
            f"JOIN {table} r ON r.started_at >= cut.low AND r.started_at < cut.high "
            f"AND r.device_id IN ({ids})"
        )
    return (
        f"WITH cut (k, low, high) AS (VALUES {values}) "  # noqa: S608
        f"SELECT r.device_id, cut.k, {sums} FROM cut {runs} "
        f"GROUP BY r.device_id, cut.k UNION ALL {undated}"
    )


def _split_sums(device_ids: list[int], cuts: dict[date, list[datetime]]) -> dict[tuple, tuple]:
    """(device id, (day, i)) -> (runs, area, seconds) of the runs in segment i of each cut
    day, except its longest segment (the day's total minus the others), and (device id,
    None) -> the same of the undated runs. One statement: the segments are a VALUES list
    joined to the runs (as ORM querysets, 60 range queries would take longer to compile
    than the database takes to run them)."""
    segments = _short_segments(cuts)
    adapt = connection.ops.adapt_datetimefield_value
    params = [adapt(moment) for *_, low, high in segments for moment in (low, high)]
    params += [*device_ids, *device_ids] if segments else [*device_ids]
    with connection.cursor() as cursor:
        cursor.execute(_split_sql(len(segments), len(device_ids)), params)
        rows = cursor.fetchall()
    keys = [None, *((day, i) for day, i, *_ in segments)]
    return {(device_id, keys[key]): (n, area, secs) for device_id, key, n, area, secs in rows}


def bucketed_totals(
    device_ids: list[int], weeks: list[datetime], months: list[datetime], lifetime: list[datetime]
) -> tuple[list[dict], list[dict], list[dict]]:
    """Sums per device and bucket of the weeks and months (runs inside them only) and of
    the lifetime (every run; outside its buckets or undated: bucket None), in three
    queries whose cost does not grow with the number of runs:

    - RunDay (per device and UTC day, kept by triggers) summed per UTC month, without
      the UTC days a local midnight cuts (_cuts): every other day of a UTC month lies
      in the local month of that name, and in one lifetime bucket;
    - RunDay rows of the 12 weeks and of the cut days;
    - per cut day, the runs before its local midnight (the rest of the day is the day's
      total minus them), and the undated runs (_split_sums).
    """
    sets = {"weeks": weeks, "months": months, "lifetime": lifetime}
    bounds = {name: [b.astimezone(UTC) for b in value] for name, value in sets.items()}
    sums = {name: _Sums() for name in sets}
    cuts = _cuts(weeks, months, lifetime)
    if not device_ids:
        return [], [], []

    def add(device_id: int, moment: datetime | None, n: int, area, secs) -> None:
        for name in sets:
            index = None if moment is None else _bucket(bounds[name], moment)
            if index is not None or name == "lifetime":
                sums[name].add(device_id, index, n, area, secs)

    days = RunDay.objects.filter(device_id__in=device_ids)
    per_month = (
        days.exclude(day__in=sorted(cuts))
        .values_list("device_id", "month")
        .annotate(n=Sum("runs"), area=Sum("area_m2"), secs=Sum("duration_s"))
        .order_by()
    )
    for device_id, month, n, area, secs in per_month:
        middle = datetime.combine(month.replace(day=15), dtime(12), tzinfo=UTC)
        for name in ("months", "lifetime"):  # the 12 weeks come from the day rows below
            index = _bucket(bounds[name], middle)
            if index is not None or name == "lifetime":
                sums[name].add(device_id, index, n, area, secs)
    first_week, end_week = bounds["weeks"][0].date(), bounds["weeks"][-1].date()
    split = _split_sums(device_ids, cuts)
    for device_id, day, n, area, secs in (
        days.filter(Q(day__gte=first_week, day__lte=end_week) | Q(day__in=sorted(cuts)))
        .values_list("device_id", "day", "runs", "area_m2", "duration_s")
        .order_by()
    ):
        if day not in cuts:
            index = _bucket(bounds["weeks"], _day_start(day))
            if index is not None:
                sums["weeks"].add(device_id, index, n, area, secs)
            continue
        segments = _segments(day, cuts[day])
        longest = _longest(segments)
        rest = [n, area or 0, secs or 0]
        for i, (start, _) in enumerate(segments):
            if i != longest:
                part = split.get((device_id, (day, i)), (0, 0, 0))
                add(device_id, start, *part)
                rest = [rest[0] - part[0], rest[1] - (part[1] or 0), rest[2] - (part[2] or 0)]
        add(device_id, segments[longest][0], *rest)
    for (device_id, segment), part in split.items():
        if segment is None:  # undated: all-time totals only
            add(device_id, None, *part)
    return sums["weeks"].rows(), sums["months"].rows(), sums["lifetime"].rows()
