"""The vacuum state machine of the 360 simulator (cloud-apis.md 3.6.2, 5.3.4).

Time is simulated: ``advance_to(t)`` jumps from event to event (run completion, low
battery, docked, fully charged, dormant, the 60 s status pushes) and integrates battery,
area and time in closed form in between, so advancing the clock by a day costs a few
dozen steps. Side effects go to a ``sink`` (the cloud model): status pushes, finished
runs, transitions.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Protocol

from simulator.qihoo360_map import charger_mm, zigzag_path
from simulator.qihoo360_seed import Device, support_flags

AREA_SECONDS = 40.0  # +1 m2 per 40 s of cleaning
DRAIN_SECONDS = 60.0  # -1 % per 60 s of cleaning
CHARGE_SECONDS = 36.0  # +1 % per 36 s on the dock
DOCKING_SECONDS = 30.0
IDLE_TIMEOUT = 600.0
STATUS_INTERVAL = 60.0
LOW_BATTERY = 15.0
LOW_BATTERY_CODE = -2101  # "Low battery, returning" (3.8.3) as the run's errorEnd
EPS = 1e-6
MAX_STEPS = 1_000_000  # far more than any advance needs (a day is a few dozen steps)

# 21005 start modes -> (subMode, area of the job in m2; None = the whole home)
START_MODES = {
    "smartClean": ("total", None),
    "totalClean": ("total", None),
    "depthTotalClean": ("depthTotal", None),
    "smartAreaClean": ("smart", None),
    "areaClean": ("area", None),
    "pointClean": ("point", 2),
    "edgeClean": ("edge", 12),
}
START_FROM = {"idle", "charge", "fullcharge", "pause", "dormant"}
WIND_POWER = {"quiet": 40, "auto": 60, "strong": 80, "max": 100}
ON_DOCK = {"charge", "fullcharge"}


class Sink(Protocol):
    def on_status(self, vacuum: Vacuum, when: float) -> None: ...
    def on_run(self, vacuum: Vacuum, record: dict) -> None: ...
    def on_transition(self, vacuum: Vacuum, old: str, new: str, when: float, why: str) -> None: ...
    def totals(self, device: Device) -> tuple[int, int]: ...


@dataclass
class Run:
    clean_id: str
    start: int
    mode: str  # the 21005 mode, stored as the record's "mode"
    target: float
    path: list[list[int]]


class Vacuum:
    def __init__(self, device: Device, now: float, sink: Sink):
        self.device = device
        self.sink = sink
        self.mode = device.mode
        self.elec = float(device.elec)
        self.since = now  # when the current mode was entered
        self.t = now  # the time the state is valid for
        self.next_status: float | None = None
        self.run: Run | None = None
        self.clean_id: str | None = None  # of the current or last run
        self.clean_area = 0.0
        self.clean_time = 0.0
        self.sub_mode = "null"  # the string "null" when idle (3.8.1)
        self.last_sub_mode = "total"
        self.error_state = [0]
        self.error_time = 0
        self.vol, self.work_noisy, self.led, self.soft, self.auto_boost = 9, "auto", 0, 1, 0
        self.mop_status = 1 if device.hardware in ("S9", "X95") else 0
        self.pos = list(charger_mm())
        self.phi = -1953

    # -- time ------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """False when nothing changes until the next command (no need to tick it)."""
        return self.mode in ("sweep", "backcharge", "idle") or (
            self.mode == "charge" and self.elec < 100
        )

    def advance_to(self, t: float) -> None:
        steps = 0
        while self.t < t - EPS:
            end = min(t, self._next_event())
            self._integrate(end)
            self.t = max(self.t, end)
            self._fire_events()
            steps += 1
            if steps > MAX_STEPS:  # a bug here must answer 500, not hang the simulator
                raise RuntimeError(f"{self.device.sn}: state machine does not advance")
        self.t = max(self.t, t)

    def _next_event(self) -> float:
        candidates = [math.inf]
        if self.next_status is not None:
            candidates.append(self.next_status)
        if self.mode == "sweep" and self.run is not None:
            candidates.append(self.t + max(0.0, self.run.target - self.clean_area) * AREA_SECONDS)
            candidates.append(self.t + max(0.0, self.elec - LOW_BATTERY) * DRAIN_SECONDS)
        elif self.mode == "backcharge":
            candidates.append(self.since + DOCKING_SECONDS)
        elif self.mode == "charge":
            candidates.append(self.t + max(0.0, 100 - self.elec) * CHARGE_SECONDS)
        elif self.mode == "idle":
            candidates.append(self.since + IDLE_TIMEOUT)
        return max(self.t, min(candidates))

    def _integrate(self, end: float) -> None:
        dt = end - self.t
        if dt <= 0:
            return
        if self.mode == "sweep" and self.run is not None:
            self.clean_time += dt
            self.clean_area = min(self.run.target, self.clean_area + dt / AREA_SECONDS)
            self.elec = max(0.0, self.elec - dt / DRAIN_SECONDS)
            self._move()
        elif self.mode == "charge":
            self.elec = min(100.0, self.elec + dt / CHARGE_SECONDS)

    def _fire_events(self) -> None:
        t = self.t
        if self.mode == "sweep" and self.run is not None:
            if self.clean_area >= self.run.target - EPS:
                self._finish_run(0)
                self._enter("backcharge", "run complete")
            elif self.elec <= LOW_BATTERY + EPS:
                self._finish_run(LOW_BATTERY_CODE)
                self._enter("backcharge", "low battery")
        elif self.mode == "backcharge" and t >= self.since + DOCKING_SECONDS - EPS:
            self.pos = list(charger_mm())
            self._enter("charge", "docked")
        elif self.mode == "charge" and self.elec >= 100 - EPS:
            self.elec = 100.0
            self._enter("fullcharge", "fully charged")
        elif self.mode == "idle" and t >= self.since + IDLE_TIMEOUT - EPS:
            self._enter("dormant", "idle timeout")
        if self.next_status is not None and t >= self.next_status - EPS:
            self.next_status += STATUS_INTERVAL
            self.sink.on_status(self, t)

    def _enter(self, mode: str, why: str) -> None:
        old, self.mode, self.since = self.mode, mode, self.t
        # During sweep/backcharge the robot reports every 60 s on its own [INF].
        self.next_status = self.t + STATUS_INTERVAL if mode in ("sweep", "backcharge") else None
        self.sink.on_transition(self, old, mode, self.t, why)
        self.sink.on_status(self, self.t)

    def _move(self) -> None:
        path = self.run.path
        index = min(len(path) - 2, int(self.clean_area / self.run.target * (len(path) - 1)))
        (x0, y0), (x1, y1) = path[index], path[index + 1]
        self.pos = [x0, y0]
        self.phi = int(math.atan2(y1 - y0, x1 - x0) * 1000)

    # -- runs ------------------------------------------------------------------------

    def _start(self, mode_name: str) -> None:
        if self.run is not None:
            self._finish_run(0)  # a new start abandons the paused run: it is recorded
        sub_mode, target = START_MODES.get(mode_name, ("total", None))
        start = int(self.t)
        while self.device.position(f"{self.device.sn}-{start}") is not None:
            start += 1  # two runs in one second must still get distinct cleanIds
        clean_id = f"{self.device.sn}-{start}"
        rng = random.Random(f"{self.device.seed}:qihoo360:map:{clean_id}")
        target = float(target or self.device.home_area)
        self.run = Run(clean_id, start, mode_name, target, zigzag_path(rng))
        self.clean_id, self.clean_area, self.clean_time = clean_id, 0.0, 0.0
        self.sub_mode = sub_mode
        self.error_state = [0]
        self._enter("sweep", f"21005 {mode_name}")

    def _finish_run(self, error_end: int) -> None:
        run, self.run = self.run, None
        record = {
            "cleanId": run.clean_id,
            "startTime": run.start,
            "endTime": max(run.start, int(self.t)),
            "cleanArea": int(self.clean_area),
            "cleanTime": int(self.clean_time),
            "mode": run.mode,
            "errorEnd": error_end,
        }
        self.device.add_record(record)
        self.last_sub_mode, self.sub_mode = self.sub_mode, "null"
        self.sink.on_run(self, record)

    # -- commands (cmd/send) -----------------------------------------------------------

    def command(self, info_type: int, data: dict) -> tuple[str, dict] | None:
        """Apply one command; returns the push answer (message, data), or None for an
        infoType the robot does not answer. A refused command answers "fail" (3.6.2)."""
        handlers = {
            20001: lambda: ("ok", self.status()),
            21005: lambda: self._ok(self._cmd_start(data)),
            21017: lambda: self._ok(self._cmd_run_control(data)),
            21012: lambda: self._ok(self._cmd_dock(data)),
            21020: lambda: ("ok", {}),  # find robot and friends: a sound, no state change
            21022: lambda: self._ok(self._cmd_suction(data)),
            21024: lambda: self._ok(self._cmd_setting(data)),
        }
        handler = handlers.get(info_type)
        return handler() if handler else None

    @staticmethod
    def _ok(accepted: bool) -> tuple[str, dict]:
        return ("ok" if accepted else "fail"), {}

    def _cmd_start(self, data: dict) -> bool:
        if self.mode not in START_FROM or self.elec <= LOW_BATTERY:
            return False
        self._start(str(data.get("mode") or "smartClean"))
        return True

    def _cmd_run_control(self, data: dict) -> bool:
        cmd = data.get("cmd")
        if cmd == "pause" and self.mode == "sweep":
            self._enter("pause", "21017 pause")
        elif cmd == "continue" and self.mode == "pause" and self.run is not None:
            self._enter("sweep", "21017 continue")
        elif cmd == "stop" and self.mode in ("sweep", "pause"):
            if self.run is not None:
                self._finish_run(0)
            self._enter("idle", "21017 stop")
        elif cmd == "stop" and self.mode == "fault":
            self.clear_fault("21017 stop")
        else:
            return False
        return True

    def _cmd_dock(self, data: dict) -> bool:
        cmd = data.get("cmd")
        if cmd == "start" and self.mode in ("sweep", "pause", "idle"):
            if self.run is not None:
                self._finish_run(0)  # [INF] returning to the dock ends the run
            self._enter("backcharge", "21012 start")
        elif cmd == "stop" and self.mode == "backcharge":
            self._enter("idle", "21012 stop")
        else:
            return False
        return True

    def _cmd_suction(self, data: dict) -> bool:
        level = data.get("cmd")
        if level not in WIND_POWER:
            return False
        if level == "max" and support_flags(self.device).get("maxMode", 1) == 0:
            return False
        self.work_noisy = level
        return True

    def _cmd_setting(self, data: dict) -> bool:
        cmd, value = data.get("cmd"), data.get("value")
        if cmd == "setVolume":
            ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10
            if not ok or support_flags(self.device).get("volume", 1) == 0:
                return False
            self.vol = value
        elif cmd in ("setledswitch", "setSoftAlongWall", "setAutoBoost"):
            if value not in (0, 1):
                return False
            attribute = {"setledswitch": "led", "setSoftAlongWall": "soft"}.get(cmd, "auto_boost")
            setattr(self, attribute, value)
        return True  # other settings (3.6 Appendix A.3) are accepted and not modelled

    # -- controls -----------------------------------------------------------------------

    def raise_fault(self, code: int) -> None:
        if self.run is not None:
            self._finish_run(code)
        self.error_state, self.error_time = [code], int(self.t)
        self._enter("fault", f"fault {code}")

    def clear_fault(self, why: str = "fault cleared") -> None:
        self.error_state, self.error_time = [0], 0
        self._enter("idle", why)

    def force(self, mode: str | None = None, elec: float | None = None) -> None:
        """``POST /_sim/360/devices/{sn}``: set the mode and battery as given."""
        if elec is not None:
            self.elec = max(0.0, min(100.0, float(elec)))
        if mode is None or mode == self.mode:
            if elec is not None:
                self.sink.on_status(self, self.t)
            return
        if mode == "sweep" and self.run is None:
            self._start("smartClean")
            return
        if self.run is not None and mode not in ("sweep", "pause"):
            self._finish_run(0)
        if mode in ON_DOCK:
            self.pos = list(charger_mm())
        self._enter(mode, "control")

    def status(self) -> dict:
        """The full [CAP] field set of infoType 20001 (3.8.1)."""
        if self.clean_id is None:
            history = self.device.history()
            if history:
                last = history[-1]
                self.clean_id = last["cleanId"]
                self.clean_area, self.clean_time = last["cleanArea"], last["cleanTime"]
        all_area, all_time = self.sink.totals(self.device)
        elec = int(self.elec)
        return {
            "allArea": all_area, "allTime": all_time, "autoBoost": self.auto_boost,
            "cleanArea": int(self.clean_area), "cleanId": self.clean_id or "",
            "cleanTime": int(self.clean_time), "elec": elec, "elecReal": elec,
            "errorState": list(self.error_state), "errorTime": self.error_time,
            "lastSubMode": self.last_sub_mode, "led": self.led, "mode": self.mode,
            "mopStatus": self.mop_status, "phi": self.phi, "pos": list(self.pos),
            "reliable": 1, "showSmartArea": 0, "showSweepArea": 0, "soft": self.soft,
            "subMode": self.sub_mode, "timeStamp": int(self.t), "timerStatus": 10,
            "vol": self.vol, "windPower": WIND_POWER[self.work_noisy] if self.mode == "sweep" else 0,
            "workNoisy": self.work_noisy,
        }  # fmt: skip
