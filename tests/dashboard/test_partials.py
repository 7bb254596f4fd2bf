"""The partials other pages include (the device page), and the strict CSP of every page."""

import re
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from dashboard.reports import device_report
from devices.models import DeviceStats
from tests.dashboard.conftest import BERLIN, local, make_device, make_fault, make_run


def test_device_page_partials_render_from_device_report(vacuum):
    make_run(vacuum, timezone.now() - timedelta(hours=2), area=42, duration=2700)
    DeviceStats.objects.create(device=vacuum, area_m2=594, runs=22, duration_s=44175)
    report = device_report(vacuum, BERLIN)
    card = render_to_string("dashboard/_device_card.html", {"report": report})
    totals = render_to_string("dashboard/_device_totals.html", {"report": report})
    charts = render_to_string("dashboard/_device_charts.html", {"report": report})
    assert "Robbie" in card and "42 m²" in card and "45 min" in card
    assert "594 m²" in totals and "Archived here" in totals and "0.8 h" in totals
    assert charts.count("<svg") == 4 and f'id="device-{vacuum.pk}-area-week-title"' in charts


def test_device_card_shows_times_in_the_households_zone(vacuum):
    make_run(vacuum, local(2025, 7, 1, 23, 30))
    card = render_to_string(
        "dashboard/_device_card.html", {"report": device_report(vacuum, BERLIN)}
    )
    assert "Tue 1 Jul, 23:30" in card  # 21:30 UTC


def test_a_device_without_runs_says_so_instead_of_empty_charts(vacuum):
    charts = render_to_string(
        "dashboard/_device_charts.html", {"report": device_report(vacuum, BERLIN)}
    )
    assert "<svg" not in charts and "No runs archived yet" in charts


def test_a_station_card_has_no_run_figures(mower_account):
    station = make_device(mower_account, kind="station", name="RTK base", state="")
    card = render_to_string(
        "dashboard/_device_card.html", {"report": device_report(station, BERLIN)}
    )
    assert "RTK base" in card and "Last run" not in card and "This week" not in card


INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),  # inline script
    re.compile(r"\sstyle\s*=", re.I),  # style attribute
    re.compile(r"\son[a-z]+\s*=", re.I),  # event handler attribute
]


@pytest.mark.parametrize("page", ["overview", "history", "faults", "run"])
def test_pages_obey_the_strict_csp(vacuum, mower, alice, login, page):
    run = make_run(mower, timezone.now(), detail={"events": [{"at": None, "code": 1}]})
    make_run(vacuum, timezone.now() - timedelta(days=40), map_file="maps/x.png")
    make_fault(mower, timezone.now())
    url = reverse(f"dashboard:{page}", args=[run.pk] if page == "run" else [])
    body = login(alice).get(url).content.decode()
    for pattern in INLINE:
        assert not pattern.search(body), pattern.pattern
