"""Calendar boundaries in a household's time zone, as aware datetimes.

Reports bucket runs by comparing `started_at` with these boundaries in SQL, so a run at
23:30 local time lands in the local day, week and month on either side of a DST change,
on SQLite and Postgres alike (no per-row time zone conversion in the database).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

# Above this many months, the lifetime line steps by year instead (keeps the SVG small).
MAX_MONTH_POINTS = 120


def local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def week_boundaries(now: datetime, tz: tzinfo, count: int = 12) -> list[datetime]:
    """count + 1 boundaries: the Monday midnights of the last `count` weeks (this week
    last), then next Monday's midnight."""
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    return [local_midnight(monday - timedelta(weeks=count - 1 - i), tz) for i in range(count + 1)]


def month_boundaries(now: datetime, tz: tzinfo, count: int = 12) -> list[datetime]:
    """count + 1 boundaries: the first midnights of the last `count` months (this month
    last), then next month's first midnight."""
    first = now.astimezone(tz).date().replace(day=1)
    return [local_midnight(_add_months(first, i - count + 1), tz) for i in range(count + 1)]


def lifetime_boundaries(first: datetime, now: datetime, tz: tzinfo) -> tuple[list[datetime], str]:
    """Boundaries from the month of `first` to the end of this month, stepping by month,
    or by year when that would exceed MAX_MONTH_POINTS. Returns (boundaries, "month"|"year")."""
    start = first.astimezone(tz).date().replace(day=1)
    end = now.astimezone(tz).date().replace(day=1)
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months <= MAX_MONTH_POINTS:
        return [local_midnight(_add_months(start, i), tz) for i in range(months + 1)], "month"
    years = end.year - start.year + 1
    return [local_midnight(date(start.year + i, 1, 1), tz) for i in range(years + 1)], "year"


def day_span(date_from: date | None, date_to: date | None, tz: tzinfo):
    """[start, end) for an inclusive range of local dates; either side may be open (None)."""
    start = local_midnight(date_from, tz) if date_from else None
    end = local_midnight(date_to + timedelta(days=1), tz) if date_to else None
    return start, end
