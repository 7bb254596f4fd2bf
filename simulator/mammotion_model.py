"""In-memory state of the Mammotion simulator: plain dataclasses, no behaviour beyond helpers.

Times are Unix seconds (floats) inside the model and 13-digit milliseconds on the wire
(docs/cloud-apis.md §4.2).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.interface import Clock, ViolationRecorder

VENDOR = "mammotion"

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def stable_id(seed: int, *parts: object, length: int = 22) -> str:
    """An opaque base62 id derived from the seed, like the Open API's device ids (§4.4.3)."""
    digest = hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, rest = divmod(number, 62)
        chars.append(_BASE62[rest])
    return "".join(chars)


def stable_number(seed: int, *parts: object, digits: int = 19) -> str:
    """A numeric id string (snowflake-like), e.g. for workId and userId."""
    digest = hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).digest()
    low = 10 ** (digits - 1)
    return str(low + int.from_bytes(digest, "big") % (9 * low))


def ms(seconds: float) -> int:
    return int(round(seconds * 1000))


@dataclass
class Account:
    """A Mammotion app account (surface A)."""

    email: str
    password: str
    area_code: str
    domain: str
    user_id: str
    full_name: str = ""
    created: float = 0.0
    deactivated: bool = False
    failures: int = 0
    locked_until: float = 0.0


@dataclass
class Credential:
    """Open API client credentials; `account` links them to an app account (or None)."""

    client_id: str
    secret: str
    account: str | None
    device_ids: list[str]
    disabled: bool = False


@dataclass
class Token:
    value: str
    owner: str  # account email (surface A) or client_id (token host)
    expires_at: float
    revoked: bool = False

    def live(self, now: float) -> bool:
        return not self.revoked and now < self.expires_at


@dataclass
class Mail:
    code: str
    sent: float


@dataclass
class Task:
    task_id: str
    name: str
    area: float  # m²


@dataclass
class Report:
    """One finished job. Detail fields (timeline, workParam) of seeded reports are derived
    on demand from `detail_seed`, which keeps history generation cheap."""

    work_id: str
    start: float
    end: float
    work_type: int
    work_result: int
    progress: float
    area: float
    time_used: int
    job_content: int  # 0 mow, 1 collect, 2 mow and collect (report numbering)
    detail_seed: int
    events: list[tuple[int, int]] | None = None  # (ms, eventCode) for live jobs


@dataclass
class FaultRecord:
    code: int
    level: int
    occurred: float
    created: float
    with_image: bool = False


@dataclass
class Job:
    work_id: str
    task_name: str | None
    area: float
    duration: float
    start: float
    work_type: int
    job_content: int = 0
    worked: float = 0.0
    events: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Mower:
    """A device of the Open API (mower or RTK station) with its state-machine fields."""

    id: str
    name: str
    model: str
    kind: str  # "mower" or "station"
    version: str
    nickname: str = ""
    online: bool = True
    status: str = "Standby"
    battery: int = 100
    charge_status: int = 1
    docked: bool = True
    network: dict[str, Any] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)
    collector: bool = False
    job: Job | None = None
    resume_at_80: bool = False  # a job is suspended for a low-battery recharge
    return_due: float = 0.0
    acc: float = 0.0  # seconds accumulated towards the next battery step
    t: float = 0.0  # simulated time the state was last advanced to
    history_reports: int | None = None  # None: the seasonal 180-day history
    seeded: list[Report] | None = None  # lazily generated history
    seeded_faults: list[FaultRecord] | None = None
    live_reports: list[Report] = field(default_factory=list)
    live_faults: list[FaultRecord] = field(default_factory=list)
    job_counter: int = 0

    def task(self, name: str) -> Task | None:
        return next((task for task in self.tasks if task.name == name), None)


DEFAULT_KNOBS: dict[str, Any] = {
    "success_code": 0,
    "detail_as_list": False,
    "extra_statuses": False,
    "request_id_as_number": False,
    "token_ttl": 3600,
    "login_token_ttl": 1295999,
    "oauth_check": "ok",
    "legacy_login": "ok",
    "single_session": True,
    "reject_report_forms": [],
    "strict_actions": True,
}


@dataclass
class World:
    """Everything `reset()` rebuilds. Handlers receive it instead of the cloud object."""

    clock: Clock
    seed: int
    origin: Callable[[], str]
    record_violation: ViolationRecorder
    anchor: float  # end of seeded history: the clock's time at construction/reset
    knobs: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_KNOBS))
    accounts: dict[str, Account] = field(default_factory=dict)
    credentials: dict[str, Credential] = field(default_factory=dict)
    devices: dict[str, Mower] = field(default_factory=dict)
    active: set[str] = field(default_factory=set)  # mowers whose state moves with time
    user_tokens: dict[str, Token] = field(default_factory=dict)
    open_tokens: dict[str, Token] = field(default_factory=dict)
    refresh_tokens: dict[str, Token] = field(default_factory=dict)
    mailbox: dict[str, list[Mail]] = field(default_factory=dict)
    reject_next_refresh: bool = False
    file_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    request_counter: int = 0
    generated: int = 0  # generated credential sets (control `generate`)

    def now(self) -> float:
        return self.clock.now()

    def now_ms(self) -> int:
        return ms(self.clock.now())

    def account_of_client(self, client_id: str) -> Account | None:
        credential = self.credentials.get(client_id)
        if credential is None or credential.account is None:
            return None
        return self.accounts.get(credential.account)
