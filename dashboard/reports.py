"""Report queries: the one place that aggregates runs.

Everything here takes a household (or one of its devices) and reads only its rows. Numbers
come from our archive (Run rows); the vendor's own totals (DeviceStats) are shown beside
them, never mixed in. Periods are calendar weeks (Monday first) and months in the
household's time zone; a run counts where it started.

Query counts do not depend on how many runs there are, and neither does the work: the
sums come from per-day totals kept by the database (dashboard.run_totals), bucketed by
the boundaries dashboard.periods computes in the household's time zone.

For other apps:
    device_report(device, tz)     -> DeviceReport for templates/dashboard/_device_card.html,
                                     _device_totals.html and _device_charts.html
    household_report(household)   -> HouseholdReport for the overview
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cached_property

from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from dashboard import charts, periods, report_cache
from dashboard.run_totals import bucketed_totals
from dashboard.states import DeviceStatus, device_status
from dashboard.templatetags.report_format import age
from devices.models import AccountStatus, CloudAccount, Device, DeviceStats, Fault, Run

KIND_ORDER = {"vacuum": 0, "mower": 1, "station": 2}
PERIODS = ("This week", "This month", "All time")
# The order of every run list (history pages, exports): as dashboard.paging reads them.
NEWEST_FIRST = (F("started_at").desc(nulls_last=True), "pk")
# DeviceStats.extra keys (normalised: no underscores, lower case) -> (label, unit).
_EXTRAS = {
    "moparea": ("Mopped area", "m²"),
    "mopaream2": ("Mopped area", "m²"),
    "savetime": ("Time saved", "min"),
    "timesavedmin": ("Time saved", "min"),
    "carbonreduction": ("CO₂ saved", "g"),
    "carbong": ("CO₂ saved", "g"),
    "energyconsume": ("Energy used", "Wh"),
}


@dataclass
class Totals:
    runs: int = 0
    area_m2: float = 0.0
    duration_s: int = 0

    def add(self, row: dict) -> None:
        self.runs += row["runs"]
        self.area_m2 += row["area"] or 0
        self.duration_s += row["secs"] or 0

    @property
    def hours(self) -> float:
        return self.duration_s / 3600


@dataclass
class DeviceReport:
    device: Device
    status: DeviceStatus
    last_run: Run | None = None
    week: Totals = field(default_factory=Totals)
    month: Totals = field(default_factory=Totals)
    all_time: Totals = field(default_factory=Totals)
    vendor: DeviceStats | None = None
    chart_args: dict | None = None  # for charts.report_charts, when there are runs
    sections_key: str = ""  # names the rendered totals and charts in the cache
    live_key: str = ""  # the same for the device page's live block and its facts
    tz: tzinfo | None = None  # the household's, for {% timezone report.tz %}

    @cached_property
    def charts(self) -> list[charts.Chart]:
        """Built on first use: a page whose charts are cached never builds them."""
        return charts.report_charts(**self.chart_args) if self.chart_args else []

    @property
    def has_runs(self) -> bool:
        return self.device.kind != "station"

    @property
    def vendor_extras(self) -> list[tuple[str, str]]:
        """The vendor's other lifetime figures (DeviceStats.extra) in words; clues aside,
        zeros left out (a vacuum without a mop reports 0 m² mopped)."""
        extra = self.vendor.extra if self.vendor and isinstance(self.vendor.extra, dict) else {}
        rows = []
        for key, value in extra.items():
            if key == "clues" or value in (None, "", 0, [], {}):
                continue
            label, unit = _EXTRAS.get(key.replace("_", "").lower(), (None, ""))
            rows.append((label or key.replace("_", " ").capitalize(), _in_words(value, unit)))
        return rows


def _in_words(value, unit: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if unit == "min" and value >= 120:
        value, unit = value / 60, "h"
    elif unit == "g" and value >= 1000:
        value, unit = value / 1000, "kg"
    number = f"{value:,.0f}" if value >= 100 else f"{value:.1f}".removesuffix(".0")
    return f"{number} {unit}".strip()


@dataclass
class HouseholdReport:
    cards: list[DeviceReport]
    periods: list[dict]  # {"label", "all", "vacuum", "mower"}: Totals per kind
    chart_args: dict | None  # for charts.report_charts, when there are runs
    sections_key: str  # names the rendered totals and charts in the cache (report_cache)
    cards_key: str  # the same for the machine cards
    attention: list[CloudAccount]
    account_count: int

    @cached_property
    def charts(self) -> list[charts.Chart]:
        """Built on first use: a page whose charts are cached never builds them."""
        return charts.report_charts(**self.chart_args) if self.chart_args else []

    @property
    def kind_rows(self) -> list[tuple[str, str]]:
        """Row groups of the totals table: per kind only when both kinds are here."""
        kinds = {card.device.kind for card in self.cards}
        if {"vacuum", "mower"} <= kinds:
            return [("all", "All machines"), ("vacuum", "Vacuums"), ("mower", "Mowers")]
        return [("all", "")]


def _shown(card: DeviceReport, now: datetime) -> tuple:
    """What the totals and charts sections show of a device besides its runs: its name,
    kind and vendor, and the vendor's own totals with their age in words."""
    device, stats = card.device, card.vendor
    vendor = stats and (
        stats.area_m2,
        stats.runs,
        stats.duration_s,
        json.dumps(stats.extra, sort_keys=True, default=str),
        age(stats.updated_at, now),
    )
    return (device.pk, device.name, device.kind, device.vendor, vendor)


def _card_inputs(card: DeviceReport, now: datetime) -> tuple:
    """What a machine card shows besides its runs' totals: every field of the device row,
    its status with the ages in words (the only part that changes with the clock alone)
    and its last run's age in words."""
    device, status, run = card.device, card.status, card.last_run
    row = tuple(getattr(device, f.attname) for f in Device._meta.concrete_fields)
    shown = {**status.__dict__, "age": age(status.observed_at, now)}
    return (row, tuple(sorted(shown.items())), run and (run.pk, age(run.started_at, now)))


def household_runs(household):
    """Every archived run of the household, also of devices that are gone."""
    return Run.objects.filter(device__account__household=household)


def _series(rows, boundaries: list[datetime], tz: tzinfo) -> list[tuple]:
    """(local start date, runs, area, seconds) per bucket, oldest first, gaps as zeros."""
    totals = [Totals() for _ in boundaries[1:]]
    for row in rows:
        if row["bucket"] is not None:
            totals[row["bucket"]].add(row)
    return [
        (b.astimezone(tz).date(), t.runs, t.area_m2, t.duration_s)
        for b, t in zip(boundaries, totals, strict=False)
    ]


def _vendor_stats(device: Device) -> DeviceStats | None:
    try:
        return device.vendor_stats
    except DeviceStats.DoesNotExist:
        return None


def _devices(household, now: datetime, tz: tzinfo):
    """Every device of the household (gone ones too: their runs still count), and a card
    per present device (its last run is added from the archive part)."""
    devices = list(
        Device.objects.for_household(household).select_related("account", "vendor_stats")
    )
    present = sorted(
        (d for d in devices if d.gone_at is None),
        key=lambda d: (KIND_ORDER.get(d.kind, 9), d.name.lower(), d.pk),
    )
    cards = {
        d.pk: DeviceReport(device=d, status=device_status(d, now), vendor=_vendor_stats(d), tz=tz)
        for d in present
    }
    return devices, cards


@dataclass
class _Archive:
    """What a report shows of the runs of its devices, worked out once per archive stamp
    (report_cache): last runs, totals per device and kind, the charts' series."""

    last_runs: dict[int, Run]
    per_device: dict[int, dict[str, Totals]]  # week, month, all_time
    periods: list[dict]  # {"label", "all", "vacuum", "mower"}: Totals per kind
    series: dict | None  # weeks, months, lifetime, lifetime_step for charts.report_charts


def _archive(kinds: dict[int, str], now: datetime, tz: tzinfo) -> _Archive:
    """`kinds`: device id -> kind, of every device whose runs count."""
    dated = Run.objects.filter(device=OuterRef("pk"), started_at__isnull=False)
    firsts = Device.objects.filter(pk__in=list(kinds)).annotate(
        first_start=Subquery(dated.order_by("started_at").values("started_at")[:1]),
        # Dated runs only, so a plain "-started_at" (index order on Postgres too) is enough.
        last_run_pk=Subquery(dated.order_by("-started_at", "pk").values("pk")[:1]),
    )
    found = list(firsts.values_list("pk", "first_start", "last_run_pk"))
    runs = Run.objects.in_bulk([last for _, _, last in found if last])
    first = min((start for _, start, _ in found if start), default=None)
    weeks = periods.week_boundaries(now, tz)
    months = periods.month_boundaries(now, tz)
    lifetime, step = periods.lifetime_boundaries(first, now, tz) if first else ([], "month")
    week_rows, month_rows, all_rows = bucketed_totals(list(kinds), weeks, months, lifetime)
    per_device = {pk: {"week": Totals(), "month": Totals(), "all_time": Totals()} for pk in kinds}
    totals = {
        PERIODS[0]: _add_up(week_rows, len(weeks) - 2, kinds, per_device, "week"),
        PERIODS[1]: _add_up(month_rows, len(months) - 2, kinds, per_device, "month"),
        PERIODS[2]: _add_up(all_rows, None, kinds, per_device, "all_time"),
    }
    series = {
        "weeks": _series(week_rows, weeks, tz),
        "months": _series(month_rows, months, tz),
        "lifetime": _series(all_rows, lifetime, tz),
        "lifetime_step": step,
    }
    return _Archive(
        last_runs={pk: runs[last] for pk, _, last in found if last in runs},
        per_device=per_device,
        periods=[{"label": label, **by_kind} for label, by_kind in totals.items()],
        series=series if all_rows else None,
    )


def _add_up(rows, bucket: int | None, kinds: dict, per_device: dict, attr: str) -> dict:
    """Totals per kind ("all", "vacuum", "mower") of the rows in `bucket` (None: all rows),
    also added to each device's `attr` (week, month or all_time)."""
    totals = {kind: Totals() for kind in ("all", "vacuum", "mower")}
    for row in rows:
        if bucket is None or row["bucket"] == bucket:
            for kind in {"all", kinds[row["device_id"]]} & totals.keys():
                totals[kind].add(row)
            per_device[row["device_id"]][attr].add(row)
    return totals


def _report_archive(kinds: dict[int, str], tz: tzinfo, now: datetime) -> tuple[tuple, _Archive]:
    """(cache key parts, _Archive) of these devices: from the cache while their runs (their
    archive stamp), kinds, the time zone and the local date (the periods' boundaries) are
    what they were."""
    stamp = report_cache.archive_stamp(list(kinds))
    parts = (stamp, sorted(kinds.items()), str(tz), now.astimezone(tz).date())
    return parts, report_cache.cached("archive", parts, lambda: _archive(kinds, now, tz))


def _fill(card: DeviceReport, archive: _Archive) -> None:
    card.last_run = archive.last_runs.get(card.device.pk)
    totals = archive.per_device.get(card.device.pk, {})
    card.week = totals.get("week", Totals())
    card.month = totals.get("month", Totals())
    card.all_time = totals.get("all_time", Totals())


def household_report(household, now: datetime | None = None) -> HouseholdReport:
    now = now or timezone.now()
    tz = household.tz
    devices, cards = _devices(household, now, tz)
    parts, archive = _report_archive({d.pk: d.kind for d in devices}, tz, now)
    for card in cards.values():
        _fill(card, archive)
    accounts = list(CloudAccount.objects.for_household(household).linked())
    chart_args = archive.series and {
        "prefix": "household",
        "subject": "all machines",
        **archive.series,
    }
    return HouseholdReport(
        cards=list(cards.values()),
        periods=archive.periods,
        chart_args=chart_args,
        sections_key=report_cache.key(
            "household-sections", (*parts, *(_shown(card, now) for card in cards.values()))
        ),
        cards_key=report_cache.key(
            "household-cards", (*parts, *(_card_inputs(card, now) for card in cards.values()))
        ),
        attention=[a for a in accounts if a.status != AccountStatus.OK],
        account_count=len(accounts),
    )


def device_report(device: Device, tz: tzinfo, now: datetime | None = None) -> DeviceReport:
    """One device's status, last run, this week's/month's/all-time totals from our archive,
    the vendor's own totals and its charts (a constant number of queries)."""
    now = now or timezone.now()
    parts, archive = _report_archive({device.pk: device.kind}, tz, now)
    report = DeviceReport(
        device=device,
        status=device_status(device, now),
        vendor=_vendor_stats(device),  # loaded with the device by the device page
        tz=tz,
    )
    _fill(report, archive)
    report.sections_key = report_cache.key("device-sections", (*parts, _shown(report, now)))
    # The live block and "About this machine": the device row, its status with ages in
    # words, its account's name (_card_inputs, as the overview's cards).
    report.live_key = report_cache.key(
        "device-live", (_card_inputs(report, now), device.account.label)
    )
    if device.kind != "station" and report.all_time.runs and archive.series:
        report.chart_args = {
            "prefix": f"device-{device.pk}",
            "subject": device.name,
            **archive.series,
        }
    return report


def history_runs(household, *, device=None, vendor="", date_from=None, date_to=None, result=""):
    """The household's runs narrowed by the history filters (dates are local, inclusive)."""
    runs = household_runs(household).select_related("device")
    if device is not None:
        runs = runs.filter(device=device)
    if vendor:
        runs = runs.filter(device__vendor=vendor)
    if result:
        runs = runs.filter(result=result)
    start, end = periods.day_span(date_from, date_to, household.tz)
    if start is not None:
        runs = runs.filter(started_at__gte=start)
    if end is not None:
        runs = runs.filter(started_at__lt=end)
    return runs


def household_faults(household, *, device=None, code="", level=None, date_from=None, date_to=None):
    """The household's faults narrowed by the fault list's filters."""
    faults = Fault.objects.filter(device__account__household=household).select_related("device")
    if device is not None:
        faults = faults.filter(device=device)
    if code:
        faults = faults.filter(code=code.strip())
    if level is not None:
        faults = faults.filter(level=level)
    start, end = periods.day_span(date_from, date_to, household.tz)
    if start is not None:
        faults = faults.filter(occurred_at__gte=start)
    if end is not None:
        faults = faults.filter(occurred_at__lt=end)
    return faults
