"""360 device commands, built exactly as the app builds them (cloud-apis.md 3.6).

``build_command`` is pure: it returns the ``infoType`` (decimal string) and ``data``
(compact JSON text, or "" for the status request) that ``clean/cmd/send`` carries.
Only the buttons of D-360-5 exist here, so no caller can build a never-call command
(Appendix A.3: Wi-Fi reset, factory reset, OTA, map deletion, ...).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any


class Command(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    DOCK = "dock"
    CANCEL_DOCK = "cancel_dock"
    FIND = "find"
    SUCTION = "suction"
    VOLUME = "volume"
    SPOT = "spot"
    EDGE = "edge"
    STATUS = "status"


SUCTION_LEVELS = ("quiet", "auto", "strong", "max")
CLEAN_TYPES = ("total", "area")

# 3.6 table: infoType and data of the commands that take no arguments. Key order of
# each dict is the order the app serialises (compact JSON keeps it).
_FIXED: dict[Command, tuple[str, dict[str, Any] | None]] = {
    Command.START: ("21005", {"mode": "smartClean", "globalCleanTimes": 1}),
    Command.PAUSE: ("21017", {"cmd": "pause"}),
    Command.RESUME: ("21017", {"cmd": "continue"}),
    Command.STOP: ("21017", {"cmd": "stop"}),
    Command.DOCK: ("21012", {"cmd": "start"}),
    Command.CANCEL_DOCK: ("21012", {"cmd": "stop"}),
    Command.FIND: ("21020", {"ctrlCode": 3010}),
    Command.SPOT: ("21005", {"mode": "pointClean", "count": 1, "style": 0}),
    Command.EDGE: ("21005", {"mode": "edgeClean"}),
    Command.STATUS: ("20001", None),  # data is the empty string
}

# Support flags that gate a command or one of its options (3.6.1).
GATING_FLAGS: dict[Command, str] = {Command.VOLUME: "volume"}
MAX_SUCTION_FLAG = "maxMode"


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def build_command(
    command: Command | str,
    *,
    level: str | None = None,
    clean_type: str = "total",
    volume: int | None = None,
) -> tuple[str, str]:
    """(infoType, data) for one button of 3.6. Raises ValueError on a bad argument.

    ``clean_type`` for suction is ``area`` while an area/room job runs, else ``total``
    (3.6 details); the caller knows the last pushed ``subMode``.
    """
    command = Command(command)
    if command in _FIXED:
        info_type, data = _FIXED[command]
        return info_type, "" if data is None else compact_json(data)
    if command is Command.SUCTION:
        if level not in SUCTION_LEVELS:
            raise ValueError(f"suction level must be one of {', '.join(SUCTION_LEVELS)}")
        if clean_type not in CLEAN_TYPES:
            raise ValueError("cleanType must be 'total' or 'area'")
        return "21022", compact_json({"cmd": level, "cleanType": clean_type})
    # Command.VOLUME: the only one left.
    if not isinstance(volume, int) or isinstance(volume, bool) or not 0 <= volume <= 10:
        raise ValueError("volume must be an integer from 0 to 10")
    return "21024", compact_json({"cmd": "setVolume", "value": volume})
