"""The per-run map of ``clean/record/getOne`` (cloud-apis.md 3.5.6, 5.3.1).

A 12 m x 10 m flat: four rooms (cell values 1-4) around a hallway, free floor 0xFF,
walls 0x00, unknown 0x7F outside. The layout is the same for every run of a device (it is
one home); furniture, the path and its length vary per run. Everything is derived from
the seed and the cleanId, so a record can be rebuilt at any time and is only cached.
"""

from __future__ import annotations

import base64
import math
import random

import lz4.block

WIDTH, HEIGHT = 240, 200
RESOLUTION = 0.05
X_MIN, Y_MIN = -6.0, -5.0
FREE, WALL, UNKNOWN = 0xFF, 0x00, 0x7F

# Rooms as cell rectangles (x0, y0, x1, y1), inclusive-exclusive, inside the outer wall
# (cells 10..230 x 10..190). Row y=96..104 is the hallway (free floor, no room).
ROOMS = {
    1: (12, 12, 118, 96),
    2: (122, 12, 228, 96),
    3: (12, 104, 118, 188),
    4: (122, 104, 228, 188),
}
# Base64 of UTF-8 on the wire; one non-ASCII name on purpose (decode tests).
ROOM_NAMES = {1: "Living room", 2: "Kitchen", 3: "Bedroom", 4: "Büro"}
WIND_MODES = {1: "strong", 2: "auto", 3: "quiet", 4: "max"}
CHARGER_CELL = (20, 100)  # in the hallway, against the west wall (x, y)
PATH_POINTS = 500


def cell_to_mm(cx: float, cy: float) -> tuple[int, int]:
    return round((X_MIN + cx * RESOLUTION) * 1000), round((Y_MIN + cy * RESOLUTION) * 1000)


def charger_mm() -> tuple[int, int]:
    return cell_to_mm(*CHARGER_CELL)


def build_grid(rng: random.Random) -> bytes:
    grid = bytearray([UNKNOWN]) * (WIDTH * HEIGHT)

    def fill(x0: int, y0: int, x1: int, y1: int, value: int) -> None:
        for y in range(y0, y1):
            grid[y * WIDTH + x0 : y * WIDTH + x1] = bytes([value]) * (x1 - x0)

    fill(10, 10, 230, 190, WALL)  # the outer wall, 2 cells thick
    fill(12, 96, 228, 104, FREE)  # the hallway
    for room_id, (x0, y0, x1, y1) in ROOMS.items():
        fill(x0, y0, x1, y1, room_id)
    for x0 in (50, 160):  # doors from the hallway into each room
        fill(x0, 94, x0 + 16, 96, FREE)
        fill(x0, 104, x0 + 16, 106, FREE)
    for _ in range(rng.randint(3, 6)):  # furniture legs and boxes differ per run
        room = ROOMS[rng.randint(1, 4)]
        x = rng.randint(room[0] + 4, room[2] - 12)
        y = rng.randint(room[1] + 4, room[3] - 12)
        fill(x, y, x + rng.randint(2, 8), y + rng.randint(2, 8), WALL)
    return bytes(grid)


def zigzag_path(rng: random.Random, points: int = PATH_POINTS) -> list[list[int]]:
    """A boustrophedon over the flat in mm, starting at the charger."""
    lanes = 20
    per_lane = max(2, points // lanes)
    x0, x1 = 16, 224
    path = [list(charger_mm())]
    for lane in range(lanes):
        cy = 16 + lane * (168 / (lanes - 1))
        for step in range(per_lane):
            fraction = step / (per_lane - 1)
            if lane % 2:
                fraction = 1 - fraction
            cx = x0 + fraction * (x1 - x0)
            x, y = cell_to_mm(cx + rng.uniform(-0.4, 0.4), cy + rng.uniform(-0.4, 0.4))
            path.append([x, y])
    return path[:points]


def rectangle_mm(x0: float, y0: float, x1: float, y1: float) -> list[list[int]]:
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    return [list(cell_to_mm(x, y)) for x, y in corners]


def padded(vertices: list[list[int]], length: int = 6) -> list[list[int]]:
    """Zones come padded with [0,0] vertices, which clients must skip (3.5.6)."""
    return vertices + [[0, 0]] * (length - len(vertices))


def smart_area() -> dict:
    rooms = []
    for room_id, rect in ROOMS.items():
        rooms.append(
            {
                "id": room_id,
                "name": base64.b64encode(ROOM_NAMES[room_id].encode("utf-8")).decode("ascii"),
                "cleanTimes": 1,
                "windMode": WIND_MODES[room_id],
                "waterPump": 2,
                "vertexs": rectangle_mm(*rect),
            }
        )
    return {"activeIds": [], "value": rooms}


def zones() -> list[dict]:
    forbid = rectangle_mm(150, 130, 190, 160)  # under the desk in the office
    wall = [list(cell_to_mm(60, 20)), list(cell_to_mm(60, 80))]  # a virtual wall
    return [
        {"id": 1, "active": "forbid", "forbidType": "all", "name": "Desk", "tag": "",
         "vertexs": padded(forbid)},
        {"id": 2, "active": "line", "forbidType": "all", "name": "Rug edge", "tag": "",
         "vertexs": padded(wall)},
    ]  # fmt: skip


def build_record(seed: int, clean_id: str, start: int, end: int, area: float) -> dict:
    """The ``data.record`` object of getOne for one run."""
    rng = random.Random(f"{seed}:qihoo360:map:{clean_id}")
    grid = build_grid(rng)
    block = lz4.block.compress(grid, store_size=False)
    encoded = base64.b64encode(block).decode("ascii")
    # Longer runs leave longer paths; a typical 45 m2 run has about 500 points.
    points = max(20, min(2 * PATH_POINTS, math.ceil(PATH_POINTS * max(area, 1) / 45)))
    x_mm, y_mm = charger_mm()
    return {
        "start": start,
        "end": end,
        "width": WIDTH,
        "height": HEIGHT,
        "resolution": RESOLUTION,
        "x_min": X_MIN,
        "y_min": Y_MIN,
        "map": encoded,
        "base64_len": len(encoded),
        "lz4_len": len(block),
        "chargeHandlePos": [y_mm, x_mm],  # [y, x], as the validated renderer reads it
        "posArray": zigzag_path(rng, points),
        "smartArea": smart_area(),
        "area": zones(),
    }
