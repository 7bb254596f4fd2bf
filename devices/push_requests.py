"""Pieces of the 360 push listener (devices.push_listener): the per-account and
per-device state its loop keeps, and the jobs its worker threads run (HTTP only: the 20001
status request of cloud-apis.md 3.6 and the session check after a rejected bind)."""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field

from django.db import connections
from django.utils import timezone

from devices import live_status
from devices.cloud import new_session, qihoo360_client
from devices.clouds.base import AuthExpired, CloudError, DeviceOffline
from devices.clouds.qihoo360_push import PushConnection, ReconnectBackoff
from devices.machines import Device, Lease
from devices.models import CloudAccount, Vendor

log = logging.getLogger("devices.push_listener")

STATUS_TIMEOUT = (3.05, 5)  # (connect, read): the loop must not wait long on a request
ANSWER_WAIT = 30.0  # how long an answer waits for its command's taskid to be stored


@dataclass(frozen=True)
class Intervals:
    """Seconds between status requests of one device (3.7.8 "Refresh")."""

    active: float = 60.0  # sweep, pause, backcharge
    idle: float = 600.0
    watched: float = 15.0
    min_spacing: float = 10.0  # never two requests of one device closer than this


@dataclass
class LiveDevice:
    pk: int
    sn: str
    online: bool
    mode: str
    last_status: float | None = None  # loop clock
    last_request: float | None = None
    watched: bool = False
    wanted: bool = True  # ask at the next chance (after a bind: pushes may have been missed)

    def due(self, now: float, intervals: Intervals) -> float | None:
        """How overdue a status request is (>= 0), or None when it is not due."""
        if not self.online:
            return None
        if self.last_request is not None and now - self.last_request < intervals.min_spacing:
            return None
        if self.wanted:
            return float("inf")
        if self.watched:
            every = intervals.watched
        elif self.mode in live_status.RUN_MODES:
            every = intervals.active
        else:
            every = intervals.idle
        seen = [t for t in (self.last_status, self.last_request) if t is not None]
        if not seen:
            return float("inf")
        late = now - max(seen) - every
        return late if late >= 0 else None


def most_due(devices, now: float, intervals: Intervals) -> LiveDevice | None:
    """The device of one account whose status request is most overdue, if any is due."""
    due = [(late, d) for d in devices if (late := d.due(now, intervals)) is not None]
    return max(due, key=lambda pair: pair[0])[1] if due else None


@dataclass
class AccountLink:
    account: CloudAccount
    sid: str
    push_key: str
    backoff: ReconnectBackoff
    conn: PushConnection | None = None
    reconnect_at: float | None = None
    busy: bool = False  # a request of this account is in flight
    devices: dict[str, LiveDevice] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"360 account {self.account.pk}"


class Answers:
    """Robots' answers to recorded commands (3.7.8 "Correlation"). An answer can arrive
    before the command service stored the taskid it got from the cloud: such answers are
    tried again every second for ANSWER_WAIT seconds. Answers to the listener's own
    status requests are not looked up."""

    def __init__(self, clock):
        self.clock = clock
        self._own: dict[str, float] = {}  # taskids of our status requests
        self._waiting: dict[tuple[int, str, str], tuple[str | None, float]] = {}
        self._next_retry = 0.0

    def own(self, task_id: str) -> None:
        self._own[task_id] = self.clock()

    def received(self, account_pk: int, sn: str, task_id: str | None, message) -> None:
        if not task_id or task_id.isdigit() or task_id in self._own:
            return  # unsolicited (numeric taskid), or the answer to our own request
        key = (account_pk, sn, task_id)
        if live_status.settle_command(*key, message) is None:
            self._waiting[key] = (message, self.clock())

    def retry(self, now: float) -> None:
        if now < self._next_retry:
            return
        self._next_retry = now + 1.0
        for key, (message, since) in list(self._waiting.items()):
            if key[2] in self._own or now - since > ANSWER_WAIT:
                del self._waiting[key]
            elif live_status.settle_command(*key, message) is not None:
                del self._waiting[key]
        for task_id, since in list(self._own.items()):
            if now - since > ANSWER_WAIT * 2:
                del self._own[task_id]


def load_devices(links: dict[int, AccountLink], now: float) -> None:
    """Bring each held account's robots up to date with the database (new ones are
    asked for their status at once; the loop's own timings of known ones are kept)."""
    rows = Device.objects.filter(
        account_id__in=list(links), vendor=Vendor.QIHOO360, gone_at__isnull=True
    ).values_list("pk", "account_id", "remote_id", "online", "state", "status_observed_at")
    found: dict[int, dict[str, tuple]] = {}
    for row in rows:
        found.setdefault(row[1], {})[row[2]] = row
    wall = timezone.now()
    for pk, link in links.items():
        rows_of = found.get(pk, {})
        for sn in set(link.devices) - set(rows_of):
            del link.devices[sn]
        for sn, (device_pk, _, _, online, state, observed) in rows_of.items():
            device = link.devices.get(sn)
            if device is None:
                seen = None if observed is None else now - (wall - observed).total_seconds()
                device = link.devices[sn] = LiveDevice(device_pk, sn, online, "", seen)
            device.online, device.mode = online, (state or "").lower()


def load_watched(links: dict[int, AccountLink]) -> None:
    """Which robots someone is looking at now (the live fragment marks them)."""
    devices = [d for link in links.values() for d in link.devices.values()]
    watched = live_status.watched([d.pk for d in devices])
    for device in devices:
        device.watched = device.pk in watched


def leased_elsewhere(account_pks: list[int], holder: str) -> set[int]:
    """Which of these accounts another listener holds (an unexpired `push:<pk>` lease)."""
    keys = {f"push:{pk}": pk for pk in account_pks}
    held = Lease.objects.filter(key__in=list(keys), until__gt=timezone.now()).exclude(
        holder__in=["", holder]
    )
    return {keys[key] for key in held.values_list("key", flat=True)}


# --- jobs of the worker threads: HTTP only, no loop state -----------------------------

_local = threading.local()


def in_worker(job, *args):
    if not hasattr(_local, "session"):
        _local.session = new_session()
    try:
        return job(_local.session, *args)
    except Exception as exc:  # reported to the loop, never raised there
        log.warning("push listener job failed: %s", type(exc).__name__, exc_info=True)
        return "error", type(exc).__name__
    finally:
        connections.close_all()  # this thread's connections only (renewals use the DB)


def request_status(session, account: CloudAccount, sn: str):
    """20001 "Request status" (3.6) for one device; the answer arrives as a push."""
    client = qihoo360_client(account, timeout=STATUS_TIMEOUT, session=session)
    try:
        result = client.send_command(sn, "status")
    except DeviceOffline:
        return "offline", None
    except AuthExpired:
        return "expired", None
    except CloudError as exc:
        return "error", str(exc)
    return "sent", (result.task_id or "", client.sid)


def check_session(session, account: CloudAccount, failed_sid: str):
    """After a rejected bind: does the SID still work over HTTP? Method 2 renews it there
    (the client calls devices.cloud.renew_sid on 102)."""
    client = qihoo360_client(account, timeout=STATUS_TIMEOUT, session=session)
    try:
        client.list_devices()
    except AuthExpired:
        return "expired", None
    except CloudError:
        return "unknown", None
    return ("renewed" if client.sid != failed_sid else "valid"), None


def fingerprint(push_key: str) -> str:
    return hashlib.sha256(push_key.encode()).hexdigest()[:16]
