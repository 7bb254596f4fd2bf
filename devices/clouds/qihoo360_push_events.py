"""Typed results of the 360 push channel (cloud-apis.md 3.7.7, 3.8).

``parse_event`` turns one decrypted event ``{sn, taskid, event, createTime, data}`` into:

- ``StatusMessage``: infoType 20001, with a parsed ``VacuumStatus`` (3.8.1);
- ``CommandAnswer``: any other infoType (the robot's answer to a command, a map, ...),
  its inner ``data`` kept raw;
- ``DataUrlEvent``: the event carries a ``pushDataUrl`` instead of ``data``; resolve it
  with ``resolve(fetch)`` (the connection does so itself when it has a fetch function);
- ``UnknownEvent``: no readable inner payload; the decrypted event kept raw.

Every field is optional (D-X-3): missing or odd values become None, never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ._coerce import as_bool, as_dict, as_int, as_list, as_str, as_text, from_unix_seconds
from .qihoo360_push_frames import GarbageMessage

STATUS_INFO_TYPE = "20001"
CHARGING_MODES = frozenset({"charge", "fullcharge"})
# 3.8.2: mode -> what the product shows; anything else is shown raw.
MODE_LABELS = {
    "sweep": "Cleaning",
    "pause": "Paused",
    "backcharge": "Returning to dock",
    "charge": "Charging (docked)",
    "fullcharge": "Docked, fully charged",
    "idle": "Idle",
    "dormant": "Sleeping",
    "fault": "Error",
    "rfctrl": "Remote control",
    "findchargerpause": "Return paused",
    "shutdown": "Off",
    "FindChargerAndWash": "Docked, station busy",
    "DustCenterWorking": "Docked, station busy",
}

# fetch(url) -> the JSON at pushDataUrl: a parsed object, or its text/bytes.
Fetch = Callable[[str], Any]


def mode_label(mode: str | None) -> str:
    if not mode:
        return ""
    return MODE_LABELS.get(mode, mode)


@dataclass(frozen=True)
class VacuumStatus:
    """infoType 20001 ``data`` (3.8.1). ``raw`` keeps every field as received."""

    mode: str | None = None
    sub_mode: str | None = None  # None for the string "null" (idle)
    last_sub_mode: str | None = None
    battery: int | None = None  # elecReal, else elec (%)
    fan_level: str | None = None  # workNoisy: quiet / auto / strong / max
    wind_power: int | None = None
    clean_area: int | None = None  # m2, current or last run
    clean_time: int | None = None  # s
    clean_id: str | None = None
    error_codes: tuple[int, ...] = ()  # the non-zero codes of errorState
    pos: tuple[int, int] | None = None  # mm, map frame
    heading: int | None = None  # phi, milliradians
    vol: int | None = None  # 0..10
    mop_status: int | None = None
    all_area: int | None = None
    all_time: int | None = None
    device_time: datetime | None = None  # timeStamp
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def error_code(self) -> int | None:
        """The effective error: the last non-zero element of ``errorState`` (3.8.1)."""
        return self.error_codes[-1] if self.error_codes else None

    @property
    def charging(self) -> bool:
        return self.mode in CHARGING_MODES

    @property
    def mode_label(self) -> str:
        return mode_label(self.mode)


@dataclass(frozen=True)
class PushEventBase:
    sn: str | None
    task_id: str | None
    created_at: datetime | None  # createTime, cloud time


@dataclass(frozen=True)
class StatusMessage(PushEventBase):
    """A 20001 push: the answer to a status request (``task_id`` echoes it) or an
    unsolicited report (numeric ``task_id``)."""

    info_type: str = STATUS_INFO_TYPE
    message: str | None = "ok"
    status: VacuumStatus = field(default_factory=VacuumStatus)
    event: int | None = None
    online: bool | None = None

    @property
    def ok(self) -> bool:
        return self.message in (None, "ok")


@dataclass(frozen=True)
class CommandAnswer(PushEventBase):
    """Any infoType but 20001. ``message`` other than "ok" is the robot's refusal
    (show it). ``data`` is the inner payload as received (kept raw for later use)."""

    info_type: str = ""
    message: str | None = "ok"
    data: Any = None
    event: int | None = None
    online: bool | None = None

    @property
    def ok(self) -> bool:
        return self.message in (None, "ok")


@dataclass(frozen=True)
class UnknownEvent(PushEventBase):
    """An event without a readable ``{message, infoType, data}``: kept raw."""

    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DataUrlEvent(PushEventBase):
    """The inner payload is at ``url`` (``pushDataUrl``, used as returned: 3.7.7)."""

    url: str = ""
    event: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, fetch: Fetch) -> StatusMessage | CommandAnswer | UnknownEvent:
        """GET the URL through ``fetch`` and parse it like an inline ``data``. Raises
        ``GarbageMessage`` when the answer is not a JSON object; ``fetch``'s own errors
        propagate."""
        answer = fetch(self.url)
        if isinstance(answer, bytes | bytearray):
            answer = answer.decode("utf-8", "replace")
        if isinstance(answer, str):
            try:
                answer = json.loads(answer)
            except ValueError:
                raise GarbageMessage("pushDataUrl answer is not JSON") from None
        if not isinstance(answer, dict):
            raise GarbageMessage("pushDataUrl answer is not a JSON object")
        return _from_inner(self, answer, self.event, self.raw)


PushMessage = StatusMessage | CommandAnswer | UnknownEvent | DataUrlEvent


def parse_event(event: Mapping[str, Any]) -> PushMessage:
    """One decrypted event (3.7.7) -> a typed message. Never raises on odd shapes."""
    base = PushEventBase(
        sn=as_text(event.get("sn")),
        task_id=as_text(event.get("taskid")),
        created_at=from_unix_seconds(event.get("createTime")),
    )
    kind = as_int(event.get("event"))
    inner = _json_object(event.get("data"))
    url = as_text(event.get("pushDataUrl"))
    if inner is None and url:
        return DataUrlEvent(base.sn, base.task_id, base.created_at, url, kind, dict(event))
    if inner is None:
        return UnknownEvent(base.sn, base.task_id, base.created_at, dict(event))
    return _from_inner(base, inner, kind, event)


def _from_inner(
    base: PushEventBase, inner: Mapping[str, Any], kind: int | None, event: Mapping[str, Any]
) -> StatusMessage | CommandAnswer | UnknownEvent:
    info_type = as_str(inner.get("infoType"))
    if info_type is None or not info_type.strip():
        return UnknownEvent(base.sn, base.task_id, base.created_at, dict(event))
    info_type = info_type.strip()
    message = as_str(inner.get("message"))
    online = as_bool(inner.get("online"))
    data = inner.get("data")
    if info_type == STATUS_INFO_TYPE:
        status = parse_status(_json_object(data) or {})
        return StatusMessage(base.sn, base.task_id, base.created_at, info_type, message,
                             status, kind, online)  # fmt: skip
    if isinstance(data, str):
        decoded = _json_value(data)
        data = data if decoded is None else decoded
    return CommandAnswer(base.sn, base.task_id, base.created_at, info_type, message, data,
                         kind, online)  # fmt: skip


def parse_status(data: Mapping[str, Any]) -> VacuumStatus:
    """infoType 20001 ``data`` -> ``VacuumStatus`` (3.8.1)."""
    battery = as_int(data.get("elecReal"))
    if battery is None:
        battery = as_int(data.get("elec"))
    errors = tuple(code for code in (as_int(v) for v in _listish(data.get("errorState"))) if code)
    sub_mode = as_text(data.get("subMode"))
    return VacuumStatus(
        mode=as_text(data.get("mode")),
        sub_mode=None if sub_mode == "null" else sub_mode,
        last_sub_mode=as_text(data.get("lastSubMode")),
        battery=battery,
        fan_level=as_text(data.get("workNoisy")),
        wind_power=as_int(data.get("windPower")),
        clean_area=as_int(data.get("cleanArea")),
        clean_time=as_int(data.get("cleanTime")),
        clean_id=as_text(data.get("cleanId")),
        error_codes=errors,
        pos=_position(data.get("pos")),
        heading=as_int(data.get("phi")),
        vol=as_int(data.get("vol")),
        mop_status=as_int(data.get("mopStatus")),
        all_area=as_int(data.get("allArea")),
        all_time=as_int(data.get("allTime")),
        device_time=from_unix_seconds(data.get("timeStamp")),
        raw=dict(data),
    )


def _listish(value: Any) -> list:
    """errorState is an int array; tolerate one number, or the array as a JSON string."""
    if isinstance(value, str):
        decoded = _json_value(value)
        value = decoded if decoded is not None else value
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _position(value: Any) -> tuple[int, int] | None:
    items = as_list(value)
    if len(items) < 2:
        return None
    x, y = as_int(items[0]), as_int(items[1])
    return None if x is None or y is None else (x, y)


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _json_object(value: Any) -> dict | None:
    """An object, or a JSON string holding one (double encoding, 3.7.7)."""
    if isinstance(value, str):
        value = _json_value(value)
    return as_dict(value) if isinstance(value, dict) else None
