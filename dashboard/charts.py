"""Geometry for the server-rendered SVG charts (templates/dashboard/_chart.html draws them).

Pure functions: numbers in, coordinates and texts out. The SVG uses a viewBox about as wide
as a phone screen, so it scales to any width with text staying readable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT = 360, 200
LEFT, RIGHT, TOP, BOTTOM = 42, 8, 20, 34  # room for axis labels
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
BASELINE = TOP + PLOT_H


@dataclass
class Chart:
    id: str  # unique on the page: the SVG's <title>/<desc> ids derive from it
    kind: str  # "bar" or "line"
    title: str
    desc: str
    unit: str
    rows: list[tuple[str, str]]  # (full label, value text): the accessible table
    ticks: list[dict] = field(default_factory=list)  # {"y", "text"}
    bars: list[dict] = field(default_factory=list)
    xlabels: list[dict] = field(default_factory=list)  # {"x", "text", "sub"}
    points: str = ""  # polyline for line charts
    dots: list[dict] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    baseline: int = BASELINE
    top: int = TOP
    label_y: int = BASELINE + 13
    sub_y: int = BASELINE + 26
    unit_x: int = LEFT - 4
    unit_y: int = TOP - 8


def axis(value: float, *, whole: bool = False) -> tuple[float, float]:
    """(top, step) of the value axis: the smallest round step (1, 2, 2.5 or 5 x 10^k; no
    2.5 for whole numbers such as run counts) that reaches `value` in at most 5 steps."""
    if value <= 0:
        return 1, 1 if whole else 0.25
    magnitude = 10 ** math.floor(math.log10(value / 5))
    if whole:
        magnitude = max(magnitude, 1)
    for factor in (1, 2, 2.5, 5, 10, 20):
        step = factor * magnitude
        if (whole and step != int(step)) or math.ceil(value / step) > 5:
            continue
        return math.ceil(value / step) * step, step
    raise AssertionError("unreachable: 20 x magnitude always fits")  # pragma: no cover


def compact(value: float, decimals: int = 2) -> str:
    """Short number for labels inside a chart: 7, 12.5, 340, 1.2k, 12.5k, 150k, 1.25M."""
    for size, suffix in ((1_000_000, "M"), (1000, "k")):
        if value >= size:
            scaled = value / size
            text = (
                f"{scaled:.0f}"
                if scaled >= 100
                else f"{scaled:.{decimals}f}".rstrip("0").rstrip(".")
            )
            return text + suffix
    if value >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.1f}"


def _ticks(top: float, step: float) -> list[dict]:
    count = round(top / step)
    return [
        {
            "y": round(BASELINE - PLOT_H * i / count, 1),
            "text_y": round(BASELINE - PLOT_H * i / count + 3.5, 1),
            "text": compact(step * i),
        }
        for i in range(count + 1)
    ]


def _scale(value: float, top_value: float) -> float:
    return PLOT_H * value / top_value


def bar_chart(
    *,
    id: str,
    title: str,
    desc: str,
    unit: str,
    labels: Sequence[str],
    sublabels: Sequence[str],
    full_labels: Sequence[str],
    values: Sequence[float],
    value_text: Callable[[float], str],
    whole: bool = False,
) -> Chart:
    top_value, step = axis(max(values, default=0), whole=whole)
    slot = PLOT_W / max(len(values), 1)
    bars = []
    for i, value in enumerate(values):
        height = round(_scale(value, top_value), 1)
        x = LEFT + i * slot
        bars.append(
            {
                "x": round(x + slot * 0.15, 1),
                "y": round(BASELINE - height, 1),
                "width": round(slot * 0.7, 1),
                "height": height,
                "cx": round(x + slot / 2, 1),
                "text_y": round(BASELINE - height - 3, 1),
                "label": labels[i],
                "sub": sublabels[i],
                "value": value,
                "text": compact(value, decimals=1) if value else "",  # fits above a bar
                "title": f"{full_labels[i]}: {value_text(value)}",
                "current": i == len(values) - 1,
            }
        )
    return Chart(
        id=id,
        kind="bar",
        title=title,
        desc=desc,
        unit=unit,
        rows=[(full_labels[i], value_text(v)) for i, v in enumerate(values)],
        ticks=_ticks(top_value, step),
        bars=bars,
    )


def line_chart(
    *,
    id: str,
    title: str,
    desc: str,
    unit: str,
    labels: Sequence[str],
    full_labels: Sequence[str],
    values: Sequence[float],
    value_text: Callable[[float], str],
    max_xlabels: int = 5,
) -> Chart:
    top_value, tick_step = axis(max(values, default=0))
    count = len(values)
    step = PLOT_W / max(count - 1, 1)
    coords = [
        (round(LEFT + i * step, 1), round(BASELINE - _scale(v, top_value), 1))
        for i, v in enumerate(values)
    ]
    if count == 1:  # a single point: draw it in the middle
        coords = [(LEFT + PLOT_W / 2, coords[0][1])]
    shown = sorted({round(i * (count - 1) / (max_xlabels - 1)) for i in range(max_xlabels)})
    return Chart(
        id=id,
        kind="line",
        title=title,
        desc=desc,
        unit=unit,
        rows=[(full_labels[i], value_text(v)) for i, v in enumerate(values)],
        ticks=_ticks(top_value, tick_step),
        points=" ".join(f"{x},{y}" for x, y in coords),
        dots=[
            {"x": x, "y": y, "title": f"{full_labels[i]}: {value_text(values[i])}"}
            for i, (x, y) in enumerate(coords)
        ]
        if count <= 36
        else [],
        xlabels=[
            {"x": coords[i][0], "text": labels[i], "sub": "", "anchor": _anchor(i, count)}
            for i in shown
            if count
        ],
    )


def _anchor(index: int, count: int) -> str:
    """Keep the outermost labels inside the viewBox."""
    if count > 1 and index == 0:
        return "start"
    if count > 1 and index == count - 1:
        return "end"
    return "middle"


# --- The report's charts ---------------------------------------------------------------


def area_text(value: float) -> str:
    return f"{value:,.0f} m²" if value >= 10 or value == int(value) else f"{value:.1f} m²"


def runs_text(value: float) -> str:
    return f"{value:.0f} run" if value == 1 else f"{value:.0f} runs"


def _week_labels(starts):
    labels = [f"{d.day}" for d in starts]
    subs = [
        f"{d:%b}" if i == 0 or d.month != starts[i - 1].month else "" for i, d in enumerate(starts)
    ]
    return labels, subs, [f"Week of {d.day} {d:%b %Y}" for d in starts]


def _month_labels(starts):
    # The year under each January, and under the first bar unless January follows at once.
    subs = [
        f"{d:%Y}" if d.month == 1 or (i == 0 and d.month != 12) else ""
        for i, d in enumerate(starts)
    ]
    return [f"{d:%b}" for d in starts], subs, [f"{d:%B %Y}" for d in starts]


def report_charts(*, prefix, subject, weeks, months, lifetime, lifetime_step) -> list[Chart]:
    """The four charts of a report. weeks/months/lifetime: lists of (local start date,
    runs, area) per bucket, oldest first; lifetime_step "month" or "year"."""
    week_labels, week_subs, week_full = _week_labels([w[0] for w in weeks])
    month_labels, month_subs, month_full = _month_labels([m[0] for m in months])
    week_area = [w[2] for w in weeks]
    month_area = [m[2] for m in months]
    charts = [
        bar_chart(
            id=f"{prefix}-area-week",
            title=f"Area per week, {subject}",
            desc=f"Area covered in each of the last {len(weeks)} weeks (weeks start on "
            f"Monday): {area_text(sum(week_area))} in total.",
            unit="m²",
            labels=week_labels,
            sublabels=week_subs,
            full_labels=week_full,
            values=week_area,
            value_text=area_text,
        ),
        bar_chart(
            id=f"{prefix}-runs-week",
            title=f"Runs per week, {subject}",
            desc=f"Runs in each of the last {len(weeks)} weeks: "
            f"{runs_text(sum(w[1] for w in weeks))} in total.",
            unit="runs",
            labels=week_labels,
            sublabels=week_subs,
            full_labels=week_full,
            values=[w[1] for w in weeks],
            value_text=runs_text,
            whole=True,
        ),
        bar_chart(
            id=f"{prefix}-area-month",
            title=f"Area per month, {subject}",
            desc=f"Area covered in each of the last {len(months)} months: "
            f"{area_text(sum(month_area))} in total.",
            unit="m²",
            labels=month_labels,
            sublabels=month_subs,
            full_labels=month_full,
            values=month_area,
            value_text=area_text,
        ),
    ]
    if lifetime:
        running, values = 0.0, []
        for bucket in lifetime:
            running += bucket[2]
            values.append(running)
        starts = [b[0] for b in lifetime]
        if lifetime_step == "year":
            labels = full = [f"{d:%Y}" for d in starts]
        else:
            labels, full = [f"{d:%b %Y}" for d in starts], [f"End of {d:%B %Y}" for d in starts]
        charts.append(
            line_chart(
                id=f"{prefix}-area-lifetime",
                title=f"Total area over time, {subject}",
                desc=f"Area covered since the first archived run, added up by {lifetime_step}:"
                f" {area_text(running)} from {full[0].removeprefix('End of ')} to "
                f"{full[-1].removeprefix('End of ')}.",
                unit="m²",
                labels=labels,
                full_labels=full,
                values=values,
                value_text=area_text,
            )
        )
    return charts
