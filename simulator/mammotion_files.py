"""Signed job-map files and fault images of the Mammotion simulator (§4.4.9, §5.4.4).

`mapFilePath` is a short-lived signed URL on the simulator's own origin, standing in for
the vendor's CDN: `<origin>/_sim/mammotion/files/map/<workId>.png?expires=<ms>&sig=<hex>`.
The PNGs are tiny and built with zlib alone, so no imaging library is needed.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import zlib

from simulator.mammotion_model import World

MAP_URL_SECONDS = 15 * 60
_EXPIRED_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    "<Message>{message}</Message></Error>"
)


def sign(world: World, work_id: str, expires_ms: int) -> str:
    message = f"{work_id}.png:{expires_ms}".encode()
    return hmac.new(world.file_key, message, hashlib.sha256).hexdigest()


def map_url(world: World, work_id: str) -> str:
    expires = world.now_ms() + MAP_URL_SECONDS * 1000
    signature = sign(world, work_id, expires)
    base = world.origin().rstrip("/")
    return f"{base}/_sim/mammotion/files/map/{work_id}.png?expires={expires}&sig={signature}"


def check_signature(world: World, work_id: str, query: dict[str, str]) -> str | None:
    """None when the URL is valid now; otherwise the reason for a 403."""
    try:
        expires = int(query.get("expires", ""))
    except ValueError:
        return "Invalid signature."
    expected = sign(world, work_id, expires)
    if not hmac.compare_digest(expected, query.get("sig", "")):
        return "Invalid signature."
    if world.now_ms() > expires:
        return "Request has expired."
    return None


def denied_body(reason: str) -> str:
    return _EXPIRED_XML.format(message=reason)


def map_png(work_id: str) -> bytes:
    """A small lawn picture: mowing stripes whose angle and colours depend on the job."""
    digest = hashlib.sha256(work_id.encode()).digest()
    width, height, stripe = 96, 72, 6 + digest[0] % 6
    light = (96 + digest[1] % 40, 170 + digest[2] % 40, 80)
    dark = (light[0] - 30, light[1] - 40, 60)
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter byte: none
        for x in range(width):
            border = x < 3 or y < 3 or x >= width - 3 or y >= height - 3
            if border:
                row += bytes((70, 70, 70))
            else:
                row += bytes(light if ((x + y * (digest[3] % 3)) // stripe) % 2 else dark)
        rows.append(bytes(row))
    return png(width, height, b"".join(rows))


def fault_png(code: int) -> bytes:
    """A 32x32 warning-coloured square standing in for a fault illustration."""
    shade = 120 + code % 100
    row = b"\x00" + bytes((230, shade, 40)) * 32
    return png(32, 32, row * 32)


def png(width: int, height: int, raw_rows: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw_rows, 6))
        + chunk(b"IEND", b"")
    )
