"""Tolerant readers for vendor JSON values (cloud-apis.md D-X-3).

Vendors send numbers as strings, ints as floats and booleans as 0/1. These helpers
turn any JSON value into the wanted type or None; they never raise.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any


def as_int(value: Any) -> int | None:
    """An integer from an int, an integral float or a numeric string; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            number = as_float(text)
            return int(number) if number is not None and number.is_integer() else None
    return None


def as_float(value: Any) -> float | None:
    """A finite float from a number or a numeric string; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_str(value: Any) -> str | None:
    """A string from a string or a number (ids arrive as either); else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return str(value)
    return None


def as_text(value: Any) -> str | None:
    """Like ``as_str`` but an empty or blank string is None."""
    text = as_str(value)
    return text if text and text.strip() else None


def as_bool(value: Any) -> bool | None:
    """A boolean from true/false, 1/0 or "true"/"false"/"1"/"0"; else None."""
    if isinstance(value, bool):
        return value
    number = as_int(value)
    if number in (0, 1):
        return bool(number)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def from_unix_seconds(value: Any) -> datetime | None:
    """An aware UTC datetime from Unix seconds (360, cloud-apis.md 0.2)."""
    return _from_unix(as_float(value), 1)


def from_unix_ms(value: Any) -> datetime | None:
    """An aware UTC datetime from Unix milliseconds (Mammotion, cloud-apis.md 4.5.7)."""
    return _from_unix(as_float(value), 1000)


def _from_unix(number: float | None, divisor: int) -> datetime | None:
    if number is None or number <= 0:
        return None
    try:
        return datetime.fromtimestamp(number / divisor, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def to_unix_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
