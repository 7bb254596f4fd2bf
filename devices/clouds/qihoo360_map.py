"""Decoding a 360 run record with its map (cloud-apis.md 3.5.6).

The grid is Base64 of a raw LZ4 block of ``width × height`` bytes. Every length check
that fails makes the map "unavailable" (``RunMap.grid`` None with ``map_error``), never
an exception: a run without a map is still a run.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import lz4.block

from ._coerce import as_dict, as_float, as_int, as_list, as_str, as_text, from_unix_seconds
from .base import GridMap, Point, Room, RunMap, Zone
from .qihoo360_parse import bad_shape

# Guard against absurd sizes before allocating (a 12 m × 10 m floor at 5 cm is 48,000
# cells; 5,000 × 5,000 is far beyond any home).
MAX_CELLS = 25_000_000


def decode_grid(record: dict) -> tuple[GridMap | None, str | None]:
    """(grid, None) or (None, reason). Steps 1-3 of 3.5.6."""
    encoded = record.get("map")
    if not isinstance(encoded, str) or not encoded:
        return None, "no map in the record"
    expected_b64 = as_int(record.get("base64_len"))
    if expected_b64 is not None and expected_b64 != len(encoded):
        return None, f"base64_len {expected_b64} != map length {len(encoded)}"
    width, height = as_int(record.get("width")), as_int(record.get("height"))
    resolution = as_float(record.get("resolution"))
    x_min, y_min = as_float(record.get("x_min")), as_float(record.get("y_min"))
    if not width or not height or width < 0 or height < 0 or width * height > MAX_CELLS:
        return None, f"bad grid size {width}x{height}"
    if resolution is None or resolution <= 0 or x_min is None or y_min is None:
        return None, "missing resolution or origin"
    size = width * height
    try:
        compressed = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        return None, f"map does not decode ({type(exc).__name__})"
    # lz4_len is the length of the Base64-decoded LZ4 block (the validated renderer
    # checks exactly that); width*height is tolerated too, as the wording is ambiguous.
    expected_lz4 = as_int(record.get("lz4_len"))
    if expected_lz4 is not None and expected_lz4 not in (len(compressed), size):
        return None, f"lz4_len {expected_lz4} != block length {len(compressed)}"
    try:
        cells = lz4.block.decompress(compressed, uncompressed_size=size)
    except (ValueError, lz4.block.LZ4BlockError) as exc:
        return None, f"map does not decode ({type(exc).__name__})"
    if len(cells) != size:
        return None, f"decoded {len(cells)} bytes, expected {size}"
    return GridMap(width, height, resolution, x_min, y_min, cells), None


def _point(value: Any) -> Point | None:
    if not isinstance(value, list | tuple) or len(value) < 2:
        return None
    x, y = as_float(value[0]), as_float(value[1])
    return None if x is None or y is None else (x, y)


def parse_points(value: Any, *, skip_padding: bool = False) -> tuple[Point, ...]:
    """``[[x, y], …]`` in mm; bad points dropped; ``[0,0]`` padding dropped for zones."""
    points = (_point(item) for item in as_list(value))
    return tuple(p for p in points if p is not None and not (skip_padding and p == (0.0, 0.0)))


def parse_charger(value: Any) -> Point | None:
    """``chargeHandlePos`` is read as ``[y, x]`` like the only validated renderer (3.5.6)."""
    point = _point(value)
    return None if point is None else (point[1], point[0])


def decode_room_name(value: Any) -> str:
    """Room names are Base64 of UTF-8; fall back to the raw text when they are not."""
    text = as_str(value) or ""
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return text


def parse_rooms(smart_area: Any) -> tuple[Room, ...]:
    smart_area = as_dict(smart_area)
    active_ids = {as_int(i) for i in as_list(smart_area.get("activeIds"))}
    rooms = []
    for item in as_list(smart_area.get("value")):
        if not isinstance(item, dict):
            continue
        room_id = as_int(item.get("id"))
        rooms.append(
            Room(
                id=room_id,
                name=decode_room_name(item.get("name")),
                active=room_id is not None and room_id in active_ids,
                clean_times=as_int(item.get("cleanTimes")),
                wind_mode=as_text(item.get("windMode")),
                water_pump=as_int(item.get("waterPump")),
                vertices=parse_points(item.get("vertexs")),
            )
        )
    return tuple(rooms)


def parse_zones(area: Any) -> tuple[Zone, ...]:
    zones = []
    for item in as_list(area):
        if not isinstance(item, dict):
            continue
        zones.append(
            Zone(
                id=as_int(item.get("id")),
                kind=as_text(item.get("active")),
                forbid_type=as_text(item.get("forbidType")),
                name=as_text(item.get("name")),
                tag=as_text(item.get("tag")),
                vertices=parse_points(item.get("vertexs"), skip_padding=True),
            )
        )
    return tuple(zones)


def parse_run_map(data: Any, sn: str, clean_id: str) -> RunMap:
    """``data.record`` of getOne (or ``data`` itself when the record is not wrapped)."""
    if not isinstance(data, dict):
        raise bad_shape("getOne: data is not an object", data)
    record = data.get("record", data)
    if not isinstance(record, dict):
        raise bad_shape("getOne: data.record is not an object", data)
    grid, error = decode_grid(record)
    return RunMap(
        clean_id=clean_id,
        device_id=sn,
        started_at=from_unix_seconds(record.get("start")),
        ended_at=from_unix_seconds(record.get("end")),
        grid=grid,
        map_error=error,
        path=parse_points(record.get("posArray")),
        charger=parse_charger(record.get("chargeHandlePos")),
        rooms=parse_rooms(record.get("smartArea")),
        zones=parse_zones(record.get("area")),
    )
