"""What the run detail page shows from `Run.detail`: the Mammotion timeline and the work
parameters (cloud-apis.md 4.4.9, 4.4.11, 4.5.5). Both tolerate missing or odd data: the
detail is whatever the vendor sent, parsed by sync."""

from __future__ import annotations

import json
from datetime import datetime, tzinfo

EVENT_LABELS = {
    0: "None",
    1: "Started automatically",
    2: "Started by hand",
    3: "Resumed automatically",
    4: "Resumed by hand",
    5: "Paused automatically",
    6: "Paused by hand",
    7: "Night animal protection",
    8: "Bad-weather protection",
    9: "Do not disturb",
    10: "Low battery, recharging",
    11: "No night work",
    12: "Completed",
    13: "Interrupted",
    14: "Stopped by user",
}

# Work parameters: normalised key -> (label, {raw value: words}).
_PARAMS = {
    "jobcontent": ("Job", {8: "Mow", 10: "Collect", 12: "Mow and collect"}),
    "knifeheight": ("Blade height", {}),
    "speed": ("Speed", {}),
    "channelmode": (
        "Path pattern",
        {0: "Single bow (zigzag)", 1: "Cross", 2: "Zoned bow", 3: "None"},
    ),
    "channelwidth": ("Line spacing", {}),
    "edgemode": ("Edge laps", {}),
    "rideboundarydistance": ("Edge overlap", {}),
    "toward": ("Direction", {}),
    "towardmode": ("Direction mode", {0: "Relative", 1: "Absolute", 2: "Random"}),
    "towardincludedangle": ("Second-bow angle", {}),
    "boundaryzigzagorder": ("Order", {0: "Border first", 1: "Bow first"}),
    "ultrawave": (
        "Obstacle mode",
        {0: "Slow touch", 1: "Slow touch", 10: "No touch", 11: "No touch, stay on lawn"},
    ),
    "forbiddenareacircletimes": ("Laps around obstacles", {}),
    "dumpperiodsqm": ("Grass collection every (m²)", {}),
}


def _parse_time(value, tz: tzinfo) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz)
    elif isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        return None
    return value.astimezone(tz)


def timeline(run, tz: tzinfo) -> list[dict]:
    """[{"at": local datetime or None, "label": str}], from run.detail["events"]."""
    events = (run.detail or {}).get("events") if isinstance(run.detail, dict) else None
    if not isinstance(events, list):
        return []
    rows = []
    for event in events:
        if not isinstance(event, dict):
            continue
        code = event.get("code")
        label = event.get("label") or EVENT_LABELS.get(code) or f"Event {code}"
        rows.append({"at": _parse_time(event.get("at"), tz), "label": str(label)})
    # In time order; events without a time keep their place at the end.
    return sorted(rows, key=lambda row: (row["at"] is None, row["at"] or 0))


def _words(value) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def work_params(run) -> list[tuple[str, str]]:
    """(label, value in words) for each work parameter; unknown keys shown as they are."""
    detail = run.detail if isinstance(run.detail, dict) else {}
    params = detail.get("work_params")
    if not isinstance(params, dict):
        return []
    rows = []
    for key, value in params.items():
        if value is None or key in ("extra", "commandResult", "resultMessage"):
            continue
        label, names = _PARAMS.get(key.replace("_", "").lower(), (None, {}))
        if label is None:
            label = key.replace("_", " ").capitalize()
        named = names.get(value) if isinstance(value, int | float | str) else None
        rows.append((label, named or _words(value)))
    if isinstance(params.get("extra"), dict):
        rows += [(k.replace("_", " ").capitalize(), _words(v)) for k, v in params["extra"].items()]
    return rows
