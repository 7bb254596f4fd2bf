"""Benchmark 3: the report pages of a household with 100,000 runs.

    .venv/bin/python -m bench.pages [--db sqlite|postgres] [--runs 100000] [--repeat 40]

Seeded with bulk_create (not through the simulator): a 360 account with two vacuums and
a Mammotion account with one mower, runs spread over five years (vacuums 3 a day in all,
the mower 1 a day), vendor totals and a few faults. A second household with 1% of the
runs checks that query counts do not depend on the data size; a third with 10% of
the runs is exported to compare memory peaks.

Measured in-process with Django's test Client, signed in as the owner (the full
middleware stack, sessions and all): SQL queries per page, and server time p50/p95 over
`--repeat` requests after 3 warm-ups, for the overview, the history's first page, a deep
history page (90% down, keyset cursor), a device page and a trivial view (HttpResponse
"ok" behind the same middleware), which is the baseline. The CSV export of every run is
timed and its Python heap peak taken with tracemalloc, at 10% and at 100% of the runs:
equal peaks mean the export streams in constant memory.

Goal: a constant query count; p95 within 3x of the trivial view's p95.
"""

from __future__ import annotations

import time
import tracemalloc
from datetime import timedelta

from django.http import HttpResponse
from django.urls import include, path

from bench.common import Report, household_with_owner, parse_args, percentile, prepare

GOAL_RATIO = 3.0


def trivial(request):
    return HttpResponse("ok")


def __getattr__(name: str):
    """ROOT_URLCONF of this benchmark: the project's URLs plus the trivial baseline view
    (built lazily: the project's views need settings, which exist only after prepare)."""
    if name == "urlpatterns":
        return [path("bench/trivial/", trivial), path("", include("dashboard.urls"))]
    raise AttributeError(name)


def seed(household, total: int, *, label: str):
    """Two vacuums and a mower sharing `total` runs, newest now, over five years."""
    from django.utils import timezone

    from devices.models import (
        CloudAccount,
        Device,
        DeviceStats,
        Fault,
        LinkMethod,
        Run,
        Vendor,
    )

    now = timezone.now()
    vac_account = CloudAccount.objects.create(
        household=household, vendor=Vendor.QIHOO360, method=LinkMethod.QIHOO360_SID,
        label=f"{label} 360", identity=f"{household.pk}",
    )  # fmt: skip
    mow_account = CloudAccount.objects.create(
        household=household, vendor=Vendor.MAMMOTION, method=LinkMethod.MAMMOTION_OPEN_API,
        label=f"{label} Mammotion", identity=f"m{household.pk}",
    )  # fmt: skip
    common = {"battery": 80, "status_observed_at": now, "first_seen_at": now - timedelta(days=1900)}
    devices = [
        Device.objects.create(account=vac_account, vendor="qihoo360", kind="vacuum",
                              remote_id=f"{label}-v1", name="Living room", model="S7",
                              state="charge", **common),
        Device.objects.create(account=vac_account, vendor="qihoo360", kind="vacuum",
                              remote_id=f"{label}-v2", name="Upstairs", model="S5",
                              state="fullcharge", **common),
        Device.objects.create(account=mow_account, vendor="mammotion", kind="mower",
                              remote_id=f"{label}-m1", name="Luba", model="Luba 2 AWD",
                              state="Standby", charge_status=1, **common),
    ]  # fmt: skip
    shares = [0.5, 0.3, 0.2]
    span = timedelta(days=5 * 365)
    for device, share in zip(devices, shares, strict=True):
        count = int(total * share)
        step = span / max(count, 1)
        batch = []
        for i in range(count):
            start = now - i * step - timedelta(minutes=7)
            batch.append(
                Run(
                    device=device,
                    remote_id=f"{device.remote_id}-{i}",
                    started_at=start,
                    ended_at=start + timedelta(minutes=30),
                    duration_s=1800,
                    area_m2=20.0 + i % 17,
                    mode="smartClean" if device.kind == "vacuum" else "",
                    result="completed" if i % 50 else "error",
                    error_code="" if i % 50 else "2101",
                    detail_synced_at=start + timedelta(hours=1),
                )
            )
            if len(batch) == 5000:
                Run.objects.bulk_create(batch)
                batch = []
        Run.objects.bulk_create(batch)
        DeviceStats.objects.create(
            device=device, area_m2=count * 25, runs=count, duration_s=count * 1800,
            extra={"mop_area_m2": 12.5, "carbon_g": 4200},
            week_series=[{"date": f"2026-11-{d:02d}", "area": 20 + d} for d in range(1, 8)],
            month_series=[{"date": f"2026-{m:02d}", "area": 300 + m} for m in range(1, 13)],
        )  # fmt: skip
        for day in range(5):
            Fault.objects.create(device=device, remote_id=f"f{day}", code="2101", level=2,
                                 occurred_at=now - timedelta(days=day), title="Low battery")  # fmt: skip
    return devices


def timed_get(client, url: str, params=None) -> tuple[float, int, int]:
    """(seconds, status, bytes) of one request, the body consumed (streams too)."""
    start = time.perf_counter()
    response = client.get(url, params or {})
    if response.streaming:
        size = sum(len(chunk) for chunk in response.streaming_content)
    else:
        size = len(response.content)
    return time.perf_counter() - start, response.status_code, size


def count_queries(client, url: str, params=None) -> int:
    from bench.common import SqlCounter

    with SqlCounter() as counter:
        _, status, _ = timed_get(client, url, params)
    if status != 200:
        raise SystemExit(f"{url} answered {status}")
    return counter.queries


def export_peak(client) -> tuple[int, int]:
    """(Python heap peak in bytes, bytes exported) of one full CSV export."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    _, status, size = timed_get(client, "/history/export", {"format": "csv"})
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert status == 200
    return peak, size


def main() -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        extra=[
            ("--runs", {"type": int, "default": 100_000}),
            ("--repeat", {"type": int, "default": 40}),
        ],
    )
    environment = prepare(args.db, "pages", keep=args.keep)
    from django.conf import settings
    from django.test import Client
    from django.urls import clear_url_caches

    from dashboard.reports import NEWEST_FIRST, household_runs

    settings.ROOT_URLCONF = "bench.pages"
    clear_url_caches()

    started = time.perf_counter()
    big, big_owner = household_with_owner("Big home")
    big_devices = seed(big, args.runs, label="big")
    small, small_owner = household_with_owner("Small home")
    small_devices = seed(small, args.runs // 100, label="small")
    mid, mid_owner = household_with_owner("Mid home")
    seed(mid, args.runs // 10, label="mid")
    seeded_s = time.perf_counter() - started
    if args.db == "postgres":  # what autovacuum does within a minute of such a bulk load
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def pages_of(household, devices):
        ids = household_runs(household).order_by(*NEWEST_FIRST).values_list("pk", flat=True)
        deep = ids[int(ids.count() * 0.9)]
        return {
            "overview": ("/", None),
            "history first page": ("/history/", None),
            "history deep page (90%)": ("/history/", {"before": deep}),
            "device page": (f"/devices/{devices[0].pk}/", None),
        }

    clients = {}
    for name, user in (("big", big_owner), ("small", small_owner), ("mid", mid_owner)):
        clients[name] = Client()
        clients[name].force_login(user)
    big_pages = pages_of(big, big_devices)
    small_pages = pages_of(small, small_devices)

    report = Report(f"pages with {args.runs:,} runs", args.db)
    report.figure("seeding (bulk_create)", seeded_s, "s")

    # Query counts: the same with 1% and 100% of the runs.
    for name, (url, params) in big_pages.items():
        many = count_queries(clients["big"], url, params)
        few = count_queries(clients["small"], *small_pages[name])
        report.figure(
            f"queries: {name}", f"{many} (with 1% of the runs: {few})", "", "constant", many == few
        )
    few_export = count_queries(clients["small"], "/history/export", {"format": "csv"})
    many_export = count_queries(clients["big"], "/history/export", {"format": "csv"})
    report.figure(
        "queries: CSV export",
        f"{many_export} (with 1% of the runs: {few_export})",
        "",
        "",
    )

    # Server time, the trivial view first and last (a drifting machine shows up there).
    client = clients["big"]
    timings: dict[str, list[float]] = {}
    sequence = [("trivial view", ("/bench/trivial/", None)), *big_pages.items()]
    for _name, (url, params) in sequence:
        for _ in range(3):
            timed_get(client, url, params)
    for _ in range(args.repeat):  # interleaved, so noise hits every page alike
        for name, (url, params) in sequence:
            seconds, status, _ = timed_get(client, url, params)
            assert status == 200, (name, status)
            timings.setdefault(name, []).append(seconds)
    trivial_p95 = percentile(timings["trivial view"], 95)
    for name, values in timings.items():
        p50, p95 = percentile(values, 50) * 1000, percentile(values, 95) * 1000
        ratio = p95 / (trivial_p95 * 1000)
        if name == "trivial view":
            report.figure(f"time: {name}", f"p50 {p50:.1f} / p95 {p95:.1f}", "ms", "baseline")
        else:
            report.figure(
                f"time: {name}",
                f"p50 {p50:.1f} / p95 {p95:.1f} ms, p95 {ratio:.1f}x",
                "",
                f"<= {GOAL_RATIO:.0f}x",
                ratio <= GOAL_RATIO,
            )

    # The export: time, and its heap peak at 1% and 100% of the runs.
    export_times = []
    for _ in range(3):
        seconds, status, size = timed_get(client, "/history/export", {"format": "csv"})
        export_times.append(seconds)
    export_s = sorted(export_times)[1]
    report.figure(
        "CSV export of every run",
        f"{export_s:.2f} s, {args.runs / export_s:,.0f} rows/s, {size / 1e6:.1f} MB",
    )
    mid_peak, mid_size = export_peak(clients["mid"])
    big_peak, big_size = export_peak(client)
    report.figure(
        "export heap peak (tracemalloc)",
        f"{big_peak / 1e6:.2f} MB for {big_size / 1e6:.1f} MB of CSV; "
        f"{mid_peak / 1e6:.2f} MB for {mid_size / 1e6:.2f} MB with 10% of the runs",
        "",
        "constant (< 1.5x the 10% peak)",
        big_peak < 1.5 * mid_peak,
    )
    report.note(f"DATA_DIR {environment.data_dir}")
    report.print()


if __name__ == "__main__":
    main()
