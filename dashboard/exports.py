"""Streaming CSV and JSON exports of the run history, in constant memory.

Rows are read with QuerySet.iterator(chunk_size) and written one at a time; times are
ISO 8601 in the household's time zone (with its UTC offset at that moment).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime, tzinfo

from django.http import StreamingHttpResponse
from django.utils import timezone

from devices.models import Vendor

COLUMNS = [
    "device",
    "vendor",
    "run_id",
    "start",
    "end",
    "duration_s",
    "area_m2",
    "mode",
    "result",
    "error_code",
]
CHUNK_SIZE = 2000
_VENDORS = dict(Vendor.choices)
# Free-text columns a spreadsheet could mistake for a formula (CSV injection).
_TEXT_COLUMNS = {"device", "mode"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _iso(when: datetime | None, tz: tzinfo) -> str | None:
    return when.astimezone(tz).isoformat() if when else None


def export_rows(runs, tz: tzinfo) -> Iterator[dict]:
    fields = ["device__name", "device__vendor", "remote_id", "started_at", "ended_at",
              "duration_s", "area_m2", "mode", "result", "error_code"]  # fmt: skip
    for row in runs.values_list(*fields).iterator(chunk_size=CHUNK_SIZE):
        name, vendor, remote_id, start, end, secs, area, mode, result, error = row
        yield {
            "device": name,
            "vendor": _VENDORS.get(vendor, vendor),
            "run_id": remote_id,
            "start": _iso(start, tz),
            "end": _iso(end, tz),
            "duration_s": secs,
            "area_m2": area,
            "mode": mode,
            "result": result,
            "error_code": error,
        }


class _Line:
    """A file-like object for csv.writer that hands back each line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _cell(column: str, value) -> str:
    if value is None:
        return ""
    if column in _TEXT_COLUMNS and str(value).startswith(_FORMULA_START):
        return "'" + str(value)
    return value


def _csv(rows: Iterator[dict]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    for row in rows:
        yield writer.writerow([_cell(c, row[c]) for c in COLUMNS])


def _json(rows: Iterator[dict]) -> Iterator[str]:
    yield "["
    separator = "\n"
    for row in rows:
        yield separator + json.dumps(row, ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"


def export_response(runs, *, tz: tzinfo, fmt: str, name: str) -> StreamingHttpResponse:
    """fmt is "csv" or "json"; the runs come ordered and scoped by the caller."""
    rows = export_rows(runs, tz)
    if fmt == "json":
        body, content_type = _json(rows), "application/json"
    else:
        body, content_type = _csv(rows), "text/csv; charset=utf-8"
    response = StreamingHttpResponse(body, content_type=content_type)
    stamp = timezone.now().astimezone(tz).strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    return response
