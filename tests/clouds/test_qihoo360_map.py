"""360 run map decoding (cloud-apis.md 3.5.6)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import lz4.block
import pytest

from devices.clouds.qihoo360_map import decode_grid, parse_run_map

from . import samples
from .conftest import API

WIDTH, HEIGHT = 240, 200  # the simulator's 12 m × 10 m floor at 5 cm


def make_grid() -> bytes:
    """Walls around, unknown outside a margin, four rooms with values 1..4."""
    rows = []
    for y in range(HEIGHT):
        row = bytearray()
        for x in range(WIDTH):
            if x < 5 or y < 5 or x >= WIDTH - 5 or y >= HEIGHT - 5:
                row.append(0x7F)
            elif x in (5, WIDTH - 6) or y in (5, HEIGHT - 6):
                row.append(0x00)
            else:
                row.append(1 + (x >= WIDTH // 2) + 2 * (y >= HEIGHT // 2))
        rows.append(bytes(row))
    return b"".join(rows)


def encode(cells: bytes) -> str:
    return base64.b64encode(lz4.block.compress(cells, store_size=False)).decode()


def record(cells: bytes | None = None, **overrides) -> dict:
    cells = make_grid() if cells is None else cells
    encoded = encode(cells)
    body = {
        "start": 1700000000,
        "end": 1700001800,
        "width": WIDTH,
        "height": HEIGHT,
        "resolution": 0.05,
        "x_min": -6.0,
        "y_min": -5.0,
        "map": encoded,
        "base64_len": len(encoded),
        "lz4_len": len(cells),
        "chargeHandlePos": [-450, 1200],
        "posArray": [[540, -483], [560, -470], ["bad"], [1, None], [0, 0]],
        "smartArea": {
            "activeIds": [1, 6],
            "value": [
                {
                    "id": 1,
                    "name": base64.b64encode("Küche".encode()).decode(),
                    "cleanTimes": 1,
                    "windMode": "strong",
                    "waterPump": 2,
                    "vertexs": [[0, 0], [1000, 0], [1000, 1000]],
                },
                {"id": 2, "name": "not base64!", "vertexs": []},
                "junk",
            ],
        },
        "area": [
            {
                "id": 3,
                "active": "forbid",
                "forbidType": "all",
                "name": "Rug",
                "tag": "t",
                "vertexs": [[100, 100], [200, 100], [200, 200], [0, 0], [0, 0]],
            },
            {"id": 4, "active": "line", "vertexs": [[0, 0], [300, 300], [400, 400]]},
        ],
    }
    body.update(overrides)
    return body


def test_grid_decodes_to_the_original_cells():
    cells = make_grid()
    grid, error = decode_grid(record(cells))
    assert error is None
    assert (grid.width, grid.height, grid.resolution, grid.x_min, grid.y_min) == (
        240,
        200,
        0.05,
        -6.0,
        -5.0,
    )
    assert grid.cells == cells
    assert grid.cell(0, 0) == 0x7F and grid.cell(5, 50) == 0x00
    assert grid.cell(10, 10) == 1 and grid.cell(200, 10) == 2 and grid.cell(10, 150) == 3
    assert grid.cell(200, 150) == 4


def test_world_millimetres_map_to_cells():
    grid, _ = decode_grid(record())
    assert grid.world_to_cell(-6000, -5000) == (0, 0)
    assert grid.world_to_cell(0, 0) == (120, 100)
    assert grid.world_to_cell(540, -483) == (130, 90)


def test_full_record_with_path_charger_rooms_and_zones():
    run = parse_run_map({"record": record()}, samples.SN, "C-1")
    assert run.grid is not None and run.map_error is None
    assert run.started_at == datetime.fromtimestamp(1700000000, UTC)
    assert run.ended_at == datetime.fromtimestamp(1700001800, UTC)
    assert run.path == ((540.0, -483.0), (560.0, -470.0), (0.0, 0.0))
    assert run.charger == (1200.0, -450.0)  # [y, x] on the wire
    first, second = run.rooms
    assert (first.id, first.name, first.active, first.wind_mode, first.water_pump) == (
        1,
        "Küche",
        True,
        "strong",
        2,
    )
    assert first.vertices[0] == (0.0, 0.0)  # rooms keep a real origin vertex
    assert (second.name, second.active) == ("not base64!", False)
    forbid, line = run.zones
    assert (forbid.kind, forbid.forbid_type, forbid.name) == ("forbid", "all", "Rug")
    assert forbid.vertices == ((100.0, 100.0), (200.0, 100.0), (200.0, 200.0))
    assert line.kind == "line" and line.vertices == ((300.0, 300.0), (400.0, 400.0))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"base64_len": 5}, "base64_len"),
        ({"lz4_len": 100}, "lz4_len"),
        ({"width": 100}, "lz4_len"),
        ({"width": 0}, "grid size"),
        ({"height": -3}, "grid size"),
        ({"width": 100000, "height": 100000}, "grid size"),
        ({"map": "!!!not-base64!!!", "base64_len": None}, "decode"),
        ({"map": base64.b64encode(b"\xff" * 40).decode(), "base64_len": None}, "decode"),
        ({"map": ""}, "no map"),
        ({"map": None}, "no map"),
        ({"resolution": 0}, "resolution"),
        ({"x_min": "west"}, "resolution or origin"),
    ],
)
def test_a_bad_map_is_unavailable_not_a_crash(overrides, reason):
    run = parse_run_map({"record": record(**overrides)}, samples.SN, "C-1")
    assert run.grid is None
    assert reason in run.map_error
    assert run.path  # the rest of the record is still there


def test_a_short_decoded_grid_is_unavailable():
    cells = make_grid()[:-240]  # one row missing
    body = record(cells, lz4_len=None)
    grid, error = decode_grid(body)
    assert grid is None and "decoded" in error


def test_length_fields_are_optional():
    body = record()
    del body["base64_len"], body["lz4_len"]
    grid, error = decode_grid(body)
    assert error is None and grid.cells == make_grid()


def test_get_one_over_http(mocked, qclient):
    mocked.post(
        f"{API}/clean/record/getOne",
        json={"errno": 0, "errmsg": "Succeeded", "data": {"record": record()}},
    )
    run = qclient.get_run(samples.SN, "361TY000003000000-1700000000")
    assert run.clean_id == "361TY000003000000-1700000000" and run.grid.width == WIDTH
