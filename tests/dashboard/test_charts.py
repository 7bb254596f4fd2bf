"""SVG charts: the drawn bars and labels say what the data says, and are accessible."""

import re
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from dashboard import charts
from dashboard.reports import device_report
from tests.dashboard.conftest import BERLIN, local, make_run

SVG = "{http://www.w3.org/2000/svg}"


def _svgs(html: str) -> dict[str, ET.Element]:
    """Every inline SVG of a page, parsed, by the id of its <title>."""
    found = {}
    for text in re.findall(r"<svg\b.*?</svg>", html, flags=re.S):
        svg = ET.fromstring(text)  # noqa: S314 (our own page)
        found[svg.find(f"{SVG}title").get("id").removesuffix("-title")] = svg
    return found


def _bars(svg):
    return [
        (float(rect.get("height")), rect.find(f"{SVG}title").text)
        for rect in svg.iter(f"{SVG}rect")
        if "chart-bar" in rect.get("class", "")
    ]


@pytest.mark.parametrize(
    ("value", "whole", "top", "step"),
    [
        (0, False, 1, 0.25),
        (1, False, 1, 0.2),
        (7, False, 8, 2),
        (11, False, 12.5, 2.5),
        (11, True, 15, 5),  # run counts: no 2.5 steps
        (3, True, 3, 1),
        (0.3, True, 1, 1),
        (240, False, 250, 50),
        (1615, False, 2000, 500),
        (47000, False, 50000, 10000),
    ],
)
def test_the_value_axis_ends_on_a_round_step(value, whole, top, step):
    assert charts.axis(value, whole=whole) == (pytest.approx(top), pytest.approx(step))


def test_bar_heights_are_proportional_and_the_top_tick_is_the_scale():
    chart = charts.bar_chart(
        id="t", title="T", desc="D", unit="m²", labels=list("abcd"), sublabels=[""] * 4,
        full_labels=list("ABCD"), values=[0, 25, 50, 100], value_text=charts.area_text,
    )  # fmt: skip
    heights = [bar["height"] for bar in chart.bars]
    assert heights[0] == 0 and heights[3] == charts.PLOT_H
    assert heights[1] * 4 == pytest.approx(heights[3]) and heights[2] * 2 == pytest.approx(
        heights[3]
    )
    assert [t["text"] for t in chart.ticks] == ["0", "20", "40", "60", "80", "100"]
    assert all(bar["y"] + bar["height"] == pytest.approx(charts.BASELINE) for bar in chart.bars)


def test_overview_svg_bars_match_the_weekly_numbers(vacuum, alice, login):
    with time_machine.travel(local(2025, 11, 5, 12, 0), tick=False):
        make_run(vacuum, local(2025, 11, 3, 0, 30), area=30)  # this week
        make_run(vacuum, local(2025, 11, 2, 23, 30), area=60)  # last week (Sunday)
        make_run(vacuum, local(2025, 11, 2, 10, 0), area=60)
        make_run(vacuum, local(2025, 10, 20, 8, 0), area=15)  # three weeks ago
        html = login(alice).get(reverse("dashboard:overview")).content.decode()
    svg = _svgs(html)["household-area-week"]
    assert svg.get("role") == "img" and svg.get("viewBox") == "0 0 360 200"
    assert svg.find(f"{SVG}title").text == "Area per week, all machines"
    assert "165 m² in total" in svg.find(f"{SVG}desc").text
    bars = _bars(svg)
    assert len(bars) == 12
    assert [title for _, title in bars[-3:]] == [
        "Week of 20 Oct 2025: 15 m²", "Week of 27 Oct 2025: 120 m²", "Week of 3 Nov 2025: 30 m²",
    ]  # fmt: skip
    top = charts.PLOT_H  # 120 m² -> the axis goes to 125: heights scale with the values
    assert [h for h, _ in bars[-3:]] == pytest.approx(
        [top * 15 / 125, top * 120 / 125, top * 30 / 125], abs=0.1
    )
    ticks = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-tick"]
    assert ticks == ["0", "25", "50", "75", "100", "125"]
    assert all(h == 0 for h, _ in bars[:-4])
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-label"]
    assert labels[-3:] == ["20", "27", "3"]
    values = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-value"]
    assert values == ["15", "120", "30"]


def test_every_chart_has_a_title_a_description_and_a_numbers_table(vacuum, alice, login):
    make_run(vacuum, timezone.now(), area=12)
    html = login(alice).get(reverse("dashboard:overview")).content.decode()
    svgs = _svgs(html)
    assert set(svgs) == {
        "household-area-week", "household-runs-week", "household-area-month",
        "household-area-lifetime",
    }  # fmt: skip
    for chart_id, svg in svgs.items():
        assert svg.get("aria-labelledby") == f"{chart_id}-title {chart_id}-desc"
        assert svg.find(f"{SVG}desc").text
    assert html.count('<details class="chart-numbers">') == 4


def test_lifetime_line_ends_at_the_total(vacuum, alice, login):
    with time_machine.travel(local(2025, 11, 5, 12, 0), tick=False):
        make_run(vacuum, local(2025, 9, 10, 10, 0), area=100)
        make_run(vacuum, local(2025, 11, 1, 10, 0), area=50)
        html = login(alice).get(reverse("dashboard:overview")).content.decode()
    svg = _svgs(html)["household-area-lifetime"]
    dots = [c.find(f"{SVG}title").text for c in svg.iter(f"{SVG}circle")]
    assert dots == ["End of September 2025: 100 m²", "End of October 2025: 100 m²",
                    "End of November 2025: 150 m²"]  # fmt: skip
    points = [
        tuple(map(float, p.split(","))) for p in svg.find(f"{SVG}polyline").get("points").split()
    ]
    scale = charts.PLOT_H / 150  # 150 m² -> the axis goes to 150
    assert [y for _, y in points] == pytest.approx(
        [
            charts.BASELINE - 100 * scale,
            charts.BASELINE - 100 * scale,
            charts.BASELINE - 150 * scale,
        ],
        abs=0.1,
    )


def test_device_report_charts_for_the_device_page(vacuum, mower):
    with time_machine.travel(local(2025, 11, 5, 12, 0), tick=False):
        make_run(vacuum, local(2025, 11, 4, 10, 0), area=40, duration=1800)
        make_run(mower, local(2025, 11, 4, 10, 0), area=400)
        report = device_report(vacuum, BERLIN)
    assert [c.id for c in report.charts] == [
        f"device-{vacuum.pk}-area-week", f"device-{vacuum.pk}-runs-week",
        f"device-{vacuum.pk}-area-month", f"device-{vacuum.pk}-area-lifetime",
    ]  # fmt: skip
    assert report.charts[0].rows[-1] == ("Week of 3 Nov 2025", "40 m²")
    assert (report.week.runs, report.month.area_m2, report.all_time.duration_s) == (1, 40, 1800)
