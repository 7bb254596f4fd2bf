"""Typed results shared by the vendor clients, and the error tree (re-exported).

Every vendor response is parsed into these dataclasses at the edge; raw vendor dicts
never reach views or templates (docs/design.md). Times are aware UTC datetimes, areas
m², durations seconds. ``extra`` keeps vendor fields without a shared meaning, so the
service layer can store or show them without the clients growing a field per vendor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from .errors import (
    AccountDeactivated,
    AuthExpired,
    BadResponse,
    CloudError,
    CommandRejected,
    DeviceOffline,
    InvalidCredentials,
    LoginUnavailable,
    NoPermission,
    NotFound,
    RateLimited,
    RegistrationError,
    Unavailable,
)

__all__ = [
    "AccountDeactivated",
    "AuthExpired",
    "BadResponse",
    "CloudError",
    "CommandRejected",
    "DeviceOffline",
    "InvalidCredentials",
    "LoginUnavailable",
    "NoPermission",
    "NotFound",
    "RateLimited",
    "RegistrationError",
    "Unavailable",
]

QIHOO360 = "qihoo360"
MAMMOTION = "mammotion"

Point = tuple[float, float]


class RunResult(StrEnum):
    """How a run ended, normalised across vendors (the raw value stays in result_raw)."""

    COMPLETED = "completed"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"
    ERROR = "error"
    RUNNING = "running"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class RemoteDevice:
    """One machine in a vendor account (360 GetList item, Mammotion DeviceInfo)."""

    vendor: str
    remote_id: str
    name: str
    model: str | None = None
    firmware: str | None = None
    online: bool | None = None
    icon_url: str | None = None
    # Feature flags (360 ``support``): True available, False hidden (cloud-apis.md 3.6.1).
    capabilities: Mapping[str, bool] = field(default_factory=dict)
    capabilities_known: bool = False
    is_station: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def supports(self, flag: str) -> bool:
        """D-360-6: a missing or unknown flag means "available"; only an explicit 0 hides."""
        return self.capabilities.get(flag, True)


@dataclass(frozen=True)
class RemoteRun:
    """One cleaning or mowing run as listed by the vendor's history endpoint."""

    vendor: str
    remote_id: str
    device_id: str
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: int | None = None
    area_m2: float | None = None
    mode: str | None = None
    result: RunResult = RunResult.UNKNOWN
    result_raw: str | None = None
    error_code: int | None = None
    progress: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ClueText:
    """360 ``clues`` text: ``segments`` are (text, bold) pairs, ``((…))`` markers removed."""

    text: str
    segments: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True)
class LifetimeTotals:
    """Totals of one device or a whole account. Fields a vendor lacks stay None."""

    run_count: int | None = None
    area_m2: float | None = None
    duration_s: int | None = None
    mop_area_m2: float | None = None
    device_count: int | None = None
    time_saved_min: float | None = None
    carbon_g: float | None = None
    clues: ClueText | None = None


@dataclass(frozen=True)
class PeriodPoint:
    label: str
    day: date | None
    area_m2: float


@dataclass(frozen=True)
class PeriodSeries:
    """Weekly and monthly area history; a series is None when its shape was unknown
    (hide that chart, cloud-apis.md 3.5.9)."""

    week: tuple[PeriodPoint, ...] | None = None
    month: tuple[PeriodPoint, ...] | None = None


@dataclass(frozen=True)
class Attachment:
    kind: str | None
    name: str | None
    url: str
    sort: int | None = None


@dataclass(frozen=True)
class RemoteFault:
    """One fault record (Mammotion error-codes search). ``remote_id`` is synthesised
    from code and time because the vendor gives the record no id."""

    vendor: str
    remote_id: str
    device_id: str
    code: int | None
    title: str | None = None
    solution: str | None = None
    occurred_at: datetime | None = None
    created_at: datetime | None = None
    level: int | None = None
    priority: int | None = None
    attachments: tuple[Attachment, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CommandResult:
    """The vendor accepted a command. 360 only acknowledges: the outcome arrives on the
    push channel, correlated by ``task_id`` (cloud-apis.md 3.5.4)."""

    accepted: bool
    task_id: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class NetworkInfo:
    used_network: str | None = None  # "wifi", "cellular" or the raw value
    wifi_available: bool | None = None
    wifi_rssi: int | None = None
    wifi_ip: str | None = None
    cellular_available: bool | None = None
    cellular_rssi: int | None = None


@dataclass(frozen=True)
class DeviceStatus:
    """Mammotion device detail (cloud-apis.md 4.4.4). ``status`` is an open set kept
    raw; compare through ``state`` (lower-cased, 4.5.1)."""

    device_id: str
    name: str | None = None
    model: str | None = None
    firmware: str | None = None
    online: bool | None = None
    status: str | None = None
    battery: int | None = None
    charge_status: int | None = None
    network: NetworkInfo | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return (self.status or "").strip().lower()

    @property
    def is_charging(self) -> bool:
        """4.5.2: 2 = actively charging (observed); 1 = documented "charging"."""
        return self.charge_status in (1, 2)

    @property
    def is_docked(self) -> bool:
        """4.5.2: docked = Standby and chargeStatus 1 or 2."""
        return self.state == "standby" and self.charge_status in (1, 2)


@dataclass(frozen=True)
class SavedTask:
    task_id: str | None
    name: str


@dataclass(frozen=True)
class ShareEntry:
    """One account a 360 device is shared with (cloud-apis.md 3.5.10)."""

    qid: str | None
    nick_name: str | None = None
    image_url: str | None = None
    status: int | None = None
    created_at: datetime | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        return self.nick_name or self.qid or "?"


@dataclass(frozen=True)
class ErrorText:
    code: int | str
    title: str
    detail: str | None = None


# --- 360 run record with its map (cloud-apis.md 3.5.6) -------------------------------


@dataclass(frozen=True)
class GridMap:
    """Occupancy grid: ``height`` rows of ``width`` bytes, row 0 at ``y_min``."""

    width: int
    height: int
    resolution: float
    x_min: float
    y_min: float
    cells: bytes = field(repr=False)

    def cell(self, cx: int, cy: int) -> int:
        return self.cells[cy * self.width + cx]

    def world_to_cell(self, x_mm: float, y_mm: float) -> tuple[int, int]:
        """3.5.6 step 4 (no mirroring; a renderer mirrors with ``width - 1 - cx``).
        The epsilon keeps exact cell borders in their cell (6.0 / 0.05 is 119.99…)."""
        cx = math.floor((x_mm / 1000 - self.x_min) / self.resolution + 1e-9)
        cy = math.floor((y_mm / 1000 - self.y_min) / self.resolution + 1e-9)
        return cx, cy


@dataclass(frozen=True)
class Room:
    id: int | None
    name: str
    active: bool = False
    clean_times: int | None = None
    wind_mode: str | None = None
    water_pump: int | None = None
    vertices: tuple[Point, ...] = ()


@dataclass(frozen=True)
class Zone:
    id: int | None
    kind: str | None  # "forbid" no-go, "line" virtual wall, "depth" deep clean
    forbid_type: str | None = None  # "all", "sweep", "mop"
    name: str | None = None
    tag: str | None = None
    vertices: tuple[Point, ...] = ()


@dataclass(frozen=True)
class RunMap:
    """A 360 run with its map. ``grid`` is None when the map is missing or fails the
    checks of 3.5.6; ``map_error`` then says why (for logs, not users)."""

    clean_id: str
    device_id: str
    started_at: datetime | None = None
    ended_at: datetime | None = None
    grid: GridMap | None = None
    map_error: str | None = None
    path: tuple[Point, ...] = ()
    charger: Point | None = None  # (x, y) in mm, already swapped from [y, x]
    rooms: tuple[Room, ...] = ()
    zones: tuple[Zone, ...] = ()


# --- Mammotion work report detail (cloud-apis.md 4.4.9) ------------------------------


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime | None
    code: int | None
    label: str


@dataclass(frozen=True)
class WorkParams:
    """The job's parameters (4.4.11 schema), read-only; unknown keys stay in ``extra``."""

    job_content: int | None = None
    knife_height: float | None = None
    speed: float | None = None
    channel_mode: int | None = None
    channel_width: float | None = None
    edge_mode: int | None = None
    toward: float | None = None
    toward_mode: int | None = None
    ultra_wave: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MowerRunDetail:
    """One Mammotion job. ``map_url`` is short-lived: never store it (4.4.9)."""

    run: RemoteRun
    energy_wh: float | None = None
    time_saved_min: float | None = None
    carbon_g: float | None = None
    job_content: int | None = None
    events: tuple[TimelineEvent, ...] = ()
    work_params: WorkParams | None = None
    map_url: str | None = None
