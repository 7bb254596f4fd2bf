"""Run maps archived at sync time, as PNG files under MEDIA_ROOT.

- 360: the record's occupancy grid (cloud-apis.md 3.5.6) is rendered here: cell values
  through the palette 0x00 wall / 0x7F unknown / 0xFF floor / room colours (other
  values as grey), mirrored horizontally like the app, with the cleaning path, the
  zones and the charger drawn on top. The grid is mapped by Pillow's palette (C code),
  never pixel by pixel in Python: a 240 x 200 floor renders in a few milliseconds.
- Mammotion: the job map is downloaded from the short-lived `mapFilePath` of the work
  report detail (4.4.9) and stored as PNG. The URL itself is never stored.

Files are `runs/<device_pk>/<run_pk>.png`; `Run.map_file` holds that relative path.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import requests
from django.conf import settings
from PIL import Image, ImageDraw, UnidentifiedImageError

from devices.clouds.base import RunMap, Unavailable

log = logging.getLogger(__name__)

SCALE = 2  # output pixels per grid cell
MAX_DOWNLOAD_BYTES = 8 * 1024 * 1024
MAX_DOWNLOAD_PIXELS = 16_000_000

WALL = (55, 60, 70)
UNKNOWN = (222, 224, 228)
FLOOR = (250, 250, 250)
ROOM_COLOURS = [
    (166, 206, 227),
    (178, 223, 138),
    (251, 154, 153),
    (253, 191, 111),
    (202, 178, 214),
    (255, 255, 153),
    (141, 211, 199),
    (190, 186, 218),
]
PATH = (31, 120, 180)
CHARGER = (51, 160, 44)
NO_GO = (227, 26, 28)
DEEP_CLEAN = (255, 127, 0)


class MapError(Exception):
    """The map could not be rendered or read (a run without a map is still a run)."""


def palette(room_ids) -> list[int]:
    """256 RGB entries: walls, unknown, floor, a colour per room label, grey otherwise."""
    colours = [(value, value, value) for value in range(256)]
    colours[0x00], colours[0x7F], colours[0xFF] = WALL, UNKNOWN, FLOOR
    labels = sorted({i for i in room_ids if isinstance(i, int) and 0 < i < 255 and i != 0x7F})
    for index, label in enumerate(labels or range(1, 33)):
        colours[label] = ROOM_COLOURS[index % len(ROOM_COLOURS)]
    return [channel for colour in colours for channel in colour]


def render_run_map(run_map: RunMap, *, scale: int = SCALE) -> bytes:
    """The 360 run map as PNG bytes (size: grid width x height, times `scale`)."""
    grid = run_map.grid
    if grid is None:
        raise MapError(run_map.map_error or "the record has no map")
    image = Image.frombytes("P", (grid.width, grid.height), grid.cells)
    image.putpalette(palette(room.id for room in run_map.rooms))
    # 3.5.6 step 5: mirror horizontally for display; the overlays below do the same.
    image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).convert("RGB")
    if scale != 1:
        image = image.resize((grid.width * scale, grid.height * scale), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(image)

    def to_pixel(point) -> tuple[float, float]:
        x_mm, y_mm = point
        cx = (x_mm / 1000 - grid.x_min) / grid.resolution
        cy = (y_mm / 1000 - grid.y_min) / grid.resolution
        return (grid.width - cx) * scale, cy * scale

    for zone in run_map.zones:
        points = [to_pixel(p) for p in zone.vertices]
        colour = DEEP_CLEAN if zone.kind == "depth" else NO_GO
        if zone.kind == "line" or len(points) == 2:
            draw.line(points, fill=colour, width=2)
        elif len(points) >= 3:
            draw.polygon(points, outline=colour, width=2)
    if len(run_map.path) >= 2:
        draw.line([to_pixel(p) for p in run_map.path], fill=PATH, width=1)
    if run_map.charger is not None:
        x, y = to_pixel(run_map.charger)
        radius = 2 * scale + 1
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=CHARGER, outline=WALL)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


def download_map(session: requests.Session, url: str, *, timeout) -> bytes:
    """GET a Mammotion job map from its signed URL and return it as PNG bytes.

    Raises Unavailable for transient failures (retry the run next time) and MapError
    when the answer is not an image (store the run without a map)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise MapError("the map URL is not http(s)")
    try:
        with session.get(url, timeout=timeout, stream=True, allow_redirects=False) as response:
            if response.status_code in (408, 429) or response.status_code >= 500:
                raise Unavailable(f"map download answered HTTP {response.status_code}")
            if response.status_code != 200:
                # 403: the signed URL expired between the detail and the download.
                raise Unavailable(f"map download answered HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_DOWNLOAD_BYTES:
                    raise MapError("the map file is too large")
    except requests.RequestException as exc:
        raise Unavailable(f"map download failed ({type(exc).__name__})") from None
    return as_png(bytes(body))


def as_png(data: bytes) -> bytes:
    """The image as PNG (unchanged when it already is one); MapError when not an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_DOWNLOAD_PIXELS:
                raise MapError("the map image is too large")
            if image.format == "PNG":
                image.verify()
                return data
            out = io.BytesIO()
            image.convert("RGBA").save(out, "PNG")
            return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise MapError(f"the map is not a readable image ({type(exc).__name__})") from None


def map_path(run) -> str:
    return f"runs/{run.device_id}/{run.pk}.png"


def store_map(run, png: bytes) -> str:
    """Write the PNG atomically under MEDIA_ROOT; returns the relative path to store."""
    relative = map_path(run)
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(png)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return relative
