"""The 360 Smart cloud model of the simulator (cloud-apis.md 3, 5.3).

Serves ``/common/...`` and ``/clean/...`` of ``q.smart.360.cn`` and the static JSON of
``smart.360.cn``. Session checks come first, as on the real service (5.1). Devices run
the state machine of ``qihoo360_machine``; their pushes go to ``self.pushes``, the seam
for the TCP push server of a later issue. The core holds a lock around every call.
"""

from __future__ import annotations

import itertools
import random
from collections import OrderedDict, deque
from collections.abc import Callable

from simulator import qihoo360_api as api
from simulator.interface import Clock, SimRequest, SimResponse, ViolationRecorder
from simulator.qihoo360_control import handle_control
from simulator.qihoo360_machine import Vacuum
from simulator.qihoo360_map import build_record
from simulator.qihoo360_push import PushBus, unsolicited_taskid
from simulator.qihoo360_seed import (
    DAY,
    Account,
    Device,
    add_generated,
    build_seed,
    error_info,
    model_alias,
)

STATIC = {"/clean/errorInfo_us.json": error_info, "/clean/modelalias.json": model_alias}
NEVER_CALL = {
    "/common/user/cancel": "account deletion",
    "/clean/bind/unbind": "unbind a device",
    "/common/share/cancelAccept": "remove a share",
    "/clean/record/delByIds": "delete cleaning records",
    "/clean/record/delMapByIds": "delete saved maps",
}
DEFAULT_KNOBS = {
    # Push-channel knobs (5.3.6), read by the TCP push server (qihoo360_pushserver).
    "push_encrypt": 1,
    "push_batch": False,
    "push_data_url": False,
    "push_bad_key": False,
    "push_malformed": False,
    "push_kick": False,
    "push_bind_reject": False,
    "push_slow": 0,  # extra: deliver pushes N simulated seconds late
}
MAP_CACHE_SIZE = 512


class Qihoo360Cloud:
    name = "qihoo360"
    control_prefix = "360"

    def __init__(
        self,
        clock: Clock,
        seed: int,
        origin: Callable[[], str],
        record_violation: ViolationRecorder,
    ):
        self.clock = clock
        self.seed = seed
        self.origin = origin
        self.record_violation = record_violation
        self.reset()

    # -- lifecycle ------------------------------------------------------------------------

    def reset(self) -> None:
        now = self.clock.now()
        self.anchor = int(now // DAY * DAY)  # seeded history ends at midnight UTC
        seed_data = build_seed(self.seed, self.anchor)
        self.accounts: dict[str, Account] = seed_data.accounts
        self.devices: dict[str, Device] = seed_data.devices
        self.sid_index = {acc.sid: acc.qid for acc in self.accounts.values() if acc.sid}
        self._visible: dict[str, list[str]] = {}
        self._index_devices(self.devices.values())
        self.knobs = dict(DEFAULT_KNOBS)
        # The push server subscribed to the previous bus: carry it over (a reset hook).
        self.pushes = PushBus(carry=getattr(self, "pushes", None))
        self.transitions: deque[dict] = deque(maxlen=5000)
        self.machines: dict[str, Vacuum] = {}
        # Machines that change without a command; a dict keeps the tick order stable.
        self.active: dict[str, None] = {}
        self._totals: dict[str, tuple[int, int, int]] = {}
        self._maps: OrderedDict[str, dict] = OrderedDict()
        self.generated = 0
        self.rng = random.Random(f"{self.seed}:qihoo360:sessions")
        for sn in self.devices:
            self.machine(sn)

    def configure(self, extra_accounts: int = 0, runs_per_device: int | None = None,
                  devices_per_account: int = 1) -> None:  # fmt: skip
        """Start-up options of the core (``--extra-360-accounts``); re-applied after reset."""
        self.generate(extra_accounts, runs_per_device, devices_per_account)

    def generate(self, count: int, runs_per_device: int | None = None,
                 devices_per_account: int = 1) -> list[Account]:  # fmt: skip
        """Add benchmark accounts ``3000000000+i`` (cheap: histories are lazy)."""
        made = []
        known = len(self.devices)
        for index in range(self.generated, self.generated + count):
            account = add_generated(
                self.accounts, self.devices, self.seed, self.anchor, index,
                runs_per_device, devices_per_account,
            )  # fmt: skip
            self.sid_index[account.sid] = account.qid
            made.append(account)
        self.generated += count
        self._index_devices(itertools.islice(self.devices.values(), known, None))
        return made

    def _index_devices(self, devices) -> None:
        for device in devices:
            self._visible.setdefault(device.owner, []).append(device.sn)
            for qid in device.shared_with:
                self._visible.setdefault(qid, []).append(device.sn)

    def visible_sns(self, qid: str) -> list[str]:
        return self._visible.get(qid, [])

    # -- the VendorCloud contract -----------------------------------------------------------

    def owns(self, path: str) -> bool:
        return path.startswith(("/common/", "/clean/"))

    def tick(self) -> None:
        now = self.clock.now()
        for sn in list(self.active):
            machine = self.machines[sn]
            machine.advance_to(now)
            if not machine.active:
                del self.active[sn]
        self.pushes.release(now)

    def handle(self, req: SimRequest) -> SimResponse:
        if req.path in STATIC:
            return SimResponse(body=STATIC[req.path]())
        if req.path == "/common/user/login":
            return self.login(req)
        route = api.ROUTES.get(req.path)
        if route is None and req.path not in NEVER_CALL:
            return SimResponse(status=404, body={"error": "not found", "path": req.path})
        self.check_tripwires(req)
        account = self.authenticate(req)
        if account is None:
            return api.error(102, "session expired")
        if route is None:
            return api.ok({})  # a never-call endpoint: answered plausibly, changes nothing
        return route(self, account, self.form(req))

    def check_tripwires(self, req: SimRequest) -> None:
        """Never-call endpoints and commands (5.1) are violations whoever sends them,
        so this runs before the session check."""
        if req.path in NEVER_CALL:
            self.record_violation(self.name, f"{req.path} called ({NEVER_CALL[req.path]})")
        elif req.path == "/clean/cmd/send":
            form = self.form(req)
            reason = api.tripwire_reason(form.get("infoType", ""), form.get("data", ""))
            if reason:
                self.record_violation(self.name, f"cmd/send {reason}")

    def control(self, req: SimRequest, subpath: str) -> SimResponse:
        return handle_control(self, req, subpath)

    def state(self) -> dict:
        seeded = [acc for acc in self.accounts.values() if not acc.generated]
        return {
            "anchor": self.anchor,
            "accounts": [acc.describe() for acc in seeded],
            "generated_accounts": self.generated,
            "devices": {
                sn: self.device_state(device)
                for sn, device in self.devices.items()
                if not self.accounts[device.owner].generated
            },
            "knobs": dict(self.knobs),
            "pending_pushes": self.pushes.pending_count(),
            "transitions": list(self.transitions)[-50:],
        }

    def set_knobs(self, knobs: dict) -> dict:
        for name, value in knobs.items():
            if name not in self.knobs:
                continue
            if name == "push_encrypt":
                if str(value) not in ("0", "1", "True", "False"):
                    raise ValueError("push_encrypt is 1 or 0")
                value = 1 if str(value) in ("1", "True") else 0
            elif name == "push_slow":
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ValueError("push_slow is a number of seconds >= 0")
            else:
                value = bool(value)
            self.knobs[name] = value
        return dict(self.knobs)

    def match_keys(self, req: SimRequest) -> dict[str, str]:
        keys = {"sn": self.form(req).get("sn", ""), "account": req.cookies().get("qid", "")}
        return {name: value for name, value in keys.items() if value}

    # -- sessions (5.3.2) ---------------------------------------------------------------------

    @staticmethod
    def form(req: SimRequest) -> dict[str, str]:
        return {**req.query, **req.form()}

    def authenticate(self, req: SimRequest) -> Account | None:
        cookies = req.cookies()
        account = self.account_for_sid(cookies.get("sid", ""))
        if account is None or cookies.get("qid", account.qid) != account.qid:
            return None
        return account

    def login(self, req: SimRequest) -> SimResponse:
        """Q/T cookies -> a fresh SID and pushKey; the previous SID stops working."""
        cookies = req.cookies()
        account = self.accounts.get(cookies.get("qid", ""))
        valid = (
            account is not None
            and account.q is not None
            and cookies.get("q") == account.q
            and cookies.get("t") == account.t
            and not account.qt_revoked
            and not account.deactivated
        )
        if not valid:
            return api.error(103, "login failed: Q/T not authorised")
        self.issue_session(account)
        return api.ok({"sid": account.sid, "pushKey": account.push_key, "qid": account.qid})

    def issue_session(self, account: Account) -> None:
        self.sid_index.pop(account.sid, None)
        account.sid = f"{self.rng.getrandbits(128):032x}"
        account.push_key = f"{self.rng.getrandbits(128):032x}"
        account.logins += 1
        self.sid_index[account.sid] = account.qid

    def account_for_sid(self, sid: str) -> Account | None:
        """The push server's bind check (``u:<sid>@60009``): None for an unknown or
        superseded SID, or a deactivated account."""
        qid = self.sid_index.get(sid)
        account = self.accounts.get(qid) if qid else None
        return None if account is None or account.deactivated else account

    def expire_session(self, account: Account) -> None:
        self.sid_index.pop(account.sid, None)
        account.sid = None

    # -- devices, records, pushes -------------------------------------------------------------

    def machine(self, sn: str) -> Vacuum:
        machine = self.machines.get(sn)
        if machine is None:
            machine = self.machines[sn] = Vacuum(self.devices[sn], self.clock.now(), self)
        machine.advance_to(self.clock.now())
        if machine.active:
            self.active[sn] = None
        return machine

    def apply_command(self, device: Device, info_type: int, data: dict):
        machine = self.machine(device.sn)
        answer = machine.command(info_type, data)
        if machine.active:
            self.active[device.sn] = None
        return answer

    def publish(self, device: Device, due: float, taskid: str, info_type, data,
                message: str = "ok"):  # fmt: skip
        if not device.online:
            return None  # an offline robot sends nothing (5.3.4)
        qids = [device.owner, *device.shared_with]
        return self.pushes.publish(device.sn, qids, due, taskid, info_type, data, message)

    def map_record(self, device: Device, clean_id: str) -> dict | None:
        position = device.position(clean_id)
        if position is None:
            return None
        record = self._maps.get(clean_id)
        if record is None:
            run = device.history()[position]
            record = build_record(
                self.seed, clean_id, run["startTime"], run["endTime"], run["cleanArea"]
            )
            self._maps[clean_id] = record
            if len(self._maps) > MAP_CACHE_SIZE:
                self._maps.popitem(last=False)
        else:
            self._maps.move_to_end(clean_id)
        return record

    def device_totals(self, device: Device) -> tuple[int, int, int]:
        """Lifetime (area m2, runs, seconds): the history plus a fixed offset (5.3.1)."""
        totals = self._totals.get(device.sn)
        if totals is None:
            area, count, seconds = device.stats_offset()
            for run in device.history():
                area, count, seconds = (
                    area + run["cleanArea"],
                    count + 1,
                    seconds + run["cleanTime"],
                )
            totals = self._totals[device.sn] = (area, count, seconds)
        return totals

    def device_state(self, device: Device) -> dict:
        machine = self.machine(device.sn)
        return {
            "sn": device.sn,
            "title": device.title,
            "hardware": device.hardware,
            "owner": device.owner,
            "shared_with": list(device.shared_with),
            "online": device.online,
            "support": device.support,
            "records": len(device.history()),
            "status": machine.status(),
        }

    # -- the state machine's sink ---------------------------------------------------------------

    def on_status(self, vacuum: Vacuum, when: float) -> None:
        self.publish(vacuum.device, when, unsolicited_taskid(when), 20001, vacuum.status())

    def on_run(self, vacuum: Vacuum, record: dict) -> None:
        # The run is already in the history: a total computed later includes it, and a
        # total computed earlier needs it added.
        cached = self._totals.get(vacuum.device.sn)
        if cached is not None:
            area, count, seconds = cached
            self._totals[vacuum.device.sn] = (
                area + record["cleanArea"], count + 1, seconds + record["cleanTime"]
            )  # fmt: skip

    def on_transition(self, vacuum: Vacuum, old: str, new: str, when: float, why: str) -> None:
        self.transitions.append(
            {"time": round(when, 3), "sn": vacuum.device.sn, "from": old, "to": new, "why": why}
        )

    def totals(self, device: Device) -> tuple[int, int]:
        area, _, seconds = self.device_totals(device)
        return area, seconds
