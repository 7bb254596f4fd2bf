"""The simulator core: vendor models, routing, request log, faults and violations.

One ``Simulator`` serves every vendor model on one origin (cloud-apis.md 5.1). It owns
one lock: every call into a vendor model happens under it, after ``tick()``, so vendor
models are plain single-threaded Python. Sockets live in ``simulator.server``; the
``/_sim/`` control API in ``simulator.control``.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable

from simulator.control import Outcome, handle_control
from simulator.faults import FaultBook, FaultDecision, apply_shape, canned_response
from simulator.interface import Clock, SimRequest, SimResponse, VendorCloud
from simulator.reqlog import RequestLog

log = logging.getLogger("simulator")

# name -> (module, class). Imported lazily: a vendor whose module does not exist yet is
# skipped, so each vendor model can be developed and tested on its own.
VENDOR_MODULES = {
    "qihoo360": ("simulator.qihoo360", "Qihoo360Cloud"),
    "mammotion": ("simulator.mammotion", "MammotionCloud"),
}


class SimClock(Clock):
    """The shared ``Clock`` that ``reset`` can rewind in place: vendor models keep a
    reference to the clock they were built with."""

    def __init__(self, start: float | None = None, speed: float = 1.0):
        super().__init__(start, speed)
        self._pinned_start = start
        self._initial_speed = float(speed)

    def restart(self) -> None:
        """Back to the initial speed at the pinned start time (or real time now)."""
        Clock.__init__(self, self._pinned_start, self._initial_speed)

    def describe(self) -> dict:
        return {"now": round(self.now(), 3), "speed": self.speed}


def load_vendor_classes(names: Iterable[str] | None = None) -> list[type]:
    """The vendor model classes that exist, in a fixed order."""
    classes = []
    for name in names or VENDOR_MODULES:
        module_name, class_name = VENDOR_MODULES[name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            log.warning("simulator: %s is not available yet, not serving it", module_name)
            continue
        classes.append(getattr(module, class_name))
    return classes


class Simulator:
    def __init__(
        self,
        *,
        seed: int = 1,
        speed: float = 1.0,
        start: float | None = None,
        origin: Callable[[], str] = lambda: "http://127.0.0.1:8900",
        vendor_classes: Iterable[type] | None = None,
        vendor_options: dict[str, dict] | None = None,
        push_port: int = 18443,
        log_size: int = 20000,
    ):
        self.seed = seed
        self.push_port = push_port
        self.origin = origin
        self.lock = threading.RLock()
        self.clock = SimClock(start, speed)
        self.requests = RequestLog(log_size)
        self.faults = FaultBook()
        self.violations: deque[dict] = deque(maxlen=10000)
        self._current: SimRequest | None = None
        # Set by reset: wakes requests that wait out a delay fault so they can be
        # dropped instead of answering into the next test.
        self._reset_event = threading.Event()
        classes = load_vendor_classes() if vendor_classes is None else list(vendor_classes)
        self.vendors: list[VendorCloud] = [
            cls(self.clock, seed, origin, self.record_violation) for cls in classes
        ]
        self._vendor_options = vendor_options or {}
        self._configure_vendors()

    # -- vendor helpers -------------------------------------------------------------

    def _configure_vendors(self) -> None:
        """Apply start-up options (e.g. extra generated 360 accounts) that survive reset."""
        for vendor in self.vendors:
            options = self._vendor_options.get(vendor.name)
            if options and hasattr(vendor, "configure"):
                vendor.configure(**options)

    def vendor_named(self, name: str) -> VendorCloud | None:
        return next((v for v in self.vendors if v.name == name), None)

    def vendor_by_prefix(self, prefix: str) -> VendorCloud | None:
        return next((v for v in self.vendors if v.control_prefix == prefix), None)

    def owner_of(self, path: str) -> VendorCloud | None:
        return next((v for v in self.vendors if v.owns(path)), None)

    def record_violation(self, vendor: str, description: str) -> None:
        """Called by vendor models (under the lock) when a never-call endpoint is hit."""
        req = self._current
        self.violations.append(
            {
                "vendor": vendor,
                "description": description,
                "method": req.method if req else None,
                "path": req.path if req else None,
                "time": round(self.clock.now(), 3),
            }
        )

    def tick_all(self) -> None:
        with self.lock:
            for vendor in self.vendors:
                vendor.tick()

    # -- dispatch ---------------------------------------------------------------------

    def dispatch(self, req: SimRequest) -> Outcome:
        """Answer one request. Called by the HTTP layer from many threads."""
        if req.path == "/_sim" or req.path.startswith("/_sim/"):
            return handle_control(self, req)
        vendor = self.owner_of(req.path)
        if vendor is None:
            body = {"error": "not found", "path": req.path}
            return Outcome(SimResponse(status=404, body=body))
        return self._dispatch_vendor(vendor, req)

    def _dispatch_vendor(self, vendor: VendorCloud, req: SimRequest) -> Outcome:
        with self.lock:
            vendor.tick()
            entry = self.requests.add(req, vendor.name, self.clock.now())
            keys = vendor.match_keys(req) if self.faults.needs_keys(vendor.name) else {}
            decision = self.faults.decide(vendor.name, req.method, req.path, keys)
            if decision.rule_ids:
                entry["faults"] = decision.rule_ids
        epoch = self._reset_event

        def finish() -> Outcome:
            return self._answer(vendor, req, entry, decision, epoch)

        if decision.delay > 0:
            return Outcome(None, delay=decision.delay, finish=finish, epoch=epoch)
        return finish()

    def _answer(
        self,
        vendor: VendorCloud,
        req: SimRequest,
        entry: dict,
        decision: FaultDecision,
        epoch: threading.Event,
    ) -> Outcome:
        if epoch.is_set() or decision.drop:
            # Dropped by a rule, or the simulator was reset while this request waited.
            entry["status"] = "dropped"
            return Outcome(None, drop=True)
        if decision.replaces_answer:
            response = canned_response(decision.rule, vendor.name)
        else:
            response = self.call_vendor(vendor, req, lambda: vendor.handle(req))
            if decision.shape is not None:
                response = apply_shape(response, decision.shape.value)
        entry["status"] = response.status
        return Outcome(response)

    def call_vendor(
        self, vendor: VendorCloud, req: SimRequest, call: Callable[[], SimResponse]
    ) -> SimResponse:
        """Run one vendor call under the lock, after ``tick()``; a crash becomes a 500."""
        with self.lock:
            self._current = req
            try:
                vendor.tick()
                return call()
            except Exception as exc:  # a simulator bug must not kill the connection
                log.exception("simulator: %s failed on %s %s", vendor.name, req.method, req.path)
                body = {"error": "simulator error", "detail": repr(exc)}
                return SimResponse(status=500, body=body)
            finally:
                self._current = None

    # -- whole-simulator operations ------------------------------------------------------

    def reset(self) -> None:
        """Restore seed data; clear faults, logs and violations; rewind the clock."""
        with self.lock:
            self._reset_event.set()
            self._reset_event = threading.Event()
            self.clock.restart()
            self.faults.clear()
            self.requests.clear()
            self.violations.clear()
            for vendor in self.vendors:
                vendor.reset()
            self._configure_vendors()

    def state(self) -> dict:
        with self.lock:
            for vendor in self.vendors:
                vendor.tick()
            return {
                "seed": self.seed,
                "clock": self.clock.describe(),
                "origin": self.origin(),
                "push_port": self.push_port,
                "vendors": {vendor.name: vendor.state() for vendor in self.vendors},
                "faults": self.faults.list(),
                "requests": len(self.requests),
                "violations": len(self.violations),
            }
