"""The ``/_sim/`` control API common to all vendors (cloud-apis.md 5.2).

``/_sim/<prefix>/...`` is handed to the vendor whose ``control_prefix`` is ``prefix``.
Control calls never see fault rules. They are logged under the pseudo-vendor "sim"
(hidden from ``GET /_sim/requests`` unless asked for), except vendor-served files such
as map images, which the product itself fetches and are logged under their vendor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simulator.faults import FaultError
from simulator.interface import SimRequest, SimResponse

if TYPE_CHECKING:
    from simulator.core import Simulator

# Non-API files a vendor hands out as absolute URLs under /_sim/<prefix>/ (map images,
# push payloads, icons). The product fetches them, so they are vendor traffic: logged
# under the vendor, never answered by fault rules (faults are for vendor endpoints).
PUBLIC_SUBPATHS = {
    "360": ("pushdata/", "files/"),
    "mammotion": ("files/",),
}


@dataclass
class Outcome:
    """What the HTTP layer does: wait ``delay`` s, then send ``response`` or drop."""

    response: SimResponse | None
    delay: float = 0.0
    drop: bool = False
    finish: Callable[[], Outcome] | None = None  # after the delay, compute the answer
    epoch: threading.Event | None = None  # set by reset: stop waiting, drop the request

    def wait_and_finish(self) -> Outcome:
        """Sleep out a delay fault (cut short by reset), then compute the answer."""
        if self.delay > 0 and self.epoch is not None:
            self.epoch.wait(self.delay)
        return self.finish() if self.finish is not None else self


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def handle_control(sim: Simulator, req: SimRequest) -> Outcome:
    rest = req.path[len("/_sim") :].strip("/")
    head, _, subpath = rest.partition("/")
    vendor = sim.vendor_by_prefix(head)
    if vendor is not None:
        public = subpath.startswith(PUBLIC_SUBPATHS.get(head, ()))
        with sim.lock:
            entry = sim.requests.add(req, vendor.name if public else "sim", sim.clock.now())
        response = sim.call_vendor(vendor, req, lambda: vendor.control(req, subpath))
        entry["status"] = response.status
        return Outcome(response)
    if rest != "requests":
        with sim.lock:
            entry = sim.requests.add(req, "sim", sim.clock.now())
    else:
        entry = {}
    try:
        response = _common(sim, req, head, subpath)
    except ControlError as exc:
        response = SimResponse(status=exc.status, body={"error": exc.message})
    entry["status"] = response.status
    return Outcome(response)


def _common(sim: Simulator, req: SimRequest, head: str, subpath: str) -> SimResponse:
    routes: dict[str, Callable[[Simulator, SimRequest, str], SimResponse]] = {
        "": _index,
        "health": _index,
        "reset": _reset,
        "state": _state,
        "requests": _requests,
        "violations": _violations,
        "clock": _clock,
        "faults": _faults,
        "knobs": _knobs,
    }
    route = routes.get(head)
    if route is None:
        raise ControlError(404, f"unknown control endpoint {req.path}")
    return route(sim, req, subpath)


def _allow(req: SimRequest, *methods: str) -> None:
    if req.method not in methods:
        raise ControlError(405, f"{req.method} not allowed here; use {', '.join(methods)}")


def _json_body(req: SimRequest) -> dict:
    if not req.body.strip():
        return {}
    body = req.json()
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


def _index(sim: Simulator, req: SimRequest, subpath: str) -> SimResponse:
    _allow(req, "GET", "HEAD")
    vendors = {vendor.name: f"/_sim/{vendor.control_prefix}/" for vendor in sim.vendors}
    return SimResponse(body={"ok": True, "vendors": vendors, "clock": sim.clock.describe()})


def _reset(sim: Simulator, req: SimRequest, subpath: str) -> SimResponse:
    _allow(req, "POST")
    sim.reset()
    return SimResponse(body={"ok": True, "clock": sim.clock.describe()})


def _state(sim: Simulator, req: SimRequest, subpath: str) -> SimResponse:
    _allow(req, "GET")
    return SimResponse(body=sim.state())


def _int_query(req: SimRequest, name: str) -> int | None:
    raw = req.query.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ControlError(400, f"{name} must be an integer") from None


def _requests(sim: Simulator, req: SimRequest, subpath: str) -> SimResponse:
    _allow(req, "GET", "DELETE")
    with sim.lock:
        if req.method == "DELETE":
            sim.requests.clear()
            return SimResponse(body={"ok": True})
        found = sim.requests.select(
            vendor=req.query.get("vendor") or None,
            path=req.query.get("path") or None,
            limit=_int_query(req, "limit"),
        )
    return SimResponse(body={"requests": found})


def _violations(sim: Simulator, req: SimRequest, subpath: str) -> SimResponse:
    _allow(req, "GET", "DELETE")
    with sim.lock:
        if req.method == "DELETE":
            sim.violations.clear()
        return SimResponse(body={"violations": list(sim.violations)})


def _clock(sim: Simulator, req: SimRequest, subpath: str) -> SimResponse:
    _allow(req, "GET", "POST")
    if req.method == "POST":
        body = _json_body(req)
        advance, speed = body.get("advance"), body.get("speed")
        if advance is None and speed is None:
            raise ControlError(400, 'give {"advance": seconds} or {"speed": factor}')
        for name, value in (("advance", advance), ("speed", speed)):
            bad_type = not isinstance(value, int | float) or isinstance(value, bool)
            if value is not None and (bad_type or value < 0):
                raise ControlError(400, f"{name} must be a number >= 0")
        with sim.lock:
            if speed is not None:
                sim.clock.set_speed(speed)
            if advance:
                sim.clock.advance(advance)
        # Run the state machines now, so the advance is visible in the very next read.
        sim.tick_all()
    return SimResponse(body=sim.clock.describe())


def _faults(sim: Simulator, req: SimRequest, subpath: str) -> SimResponse:
    with sim.lock:
        if subpath:
            _allow(req, "DELETE")
            try:
                removed = sim.faults.remove(int(subpath))
            except ValueError:
                raise ControlError(404, "no such fault rule") from None
            if not removed:
                raise ControlError(404, "no such fault rule")
            return SimResponse(body={"removed": 1})
        _allow(req, "GET", "POST", "DELETE")
        if req.method == "GET":
            return SimResponse(body={"faults": sim.faults.list()})
        if req.method == "DELETE":
            return SimResponse(body={"removed": sim.faults.clear()})
        try:
            rule = sim.faults.add(_json_body(req))
        except FaultError as exc:
            raise ControlError(400, str(exc)) from None
        return SimResponse(body=rule.describe())


def _knobs(sim: Simulator, req: SimRequest, subpath: str) -> SimResponse:
    """Knob names do not collide between vendors, so a flat object is allowed; an object
    under a vendor's name (or control prefix) targets that vendor only."""
    _allow(req, "GET", "POST")
    body = _json_body(req) if req.method == "POST" else {}
    with sim.lock:
        current = {vendor.name: vendor.set_knobs({}) for vendor in sim.vendors}
        targeted: dict[str, dict] = {name: {} for name in current}
        for key, value in body.items():
            vendor = sim.vendor_named(key) or sim.vendor_by_prefix(key)
            if vendor is not None and isinstance(value, dict):
                targeted[vendor.name].update(value)
                continue
            owners = [name for name, knobs in current.items() if key in knobs]
            if not owners:
                raise ControlError(400, f"unknown knob {key!r}")
            for name in owners:
                targeted[name][key] = value
        for name, knobs in targeted.items():
            unknown = sorted(set(knobs) - set(current[name]))
            if unknown:
                raise ControlError(400, f"unknown {name} knobs: {', '.join(unknown)}")
        result = {}
        for vendor in sim.vendors:
            vendor.tick()
            try:
                result[vendor.name] = vendor.set_knobs(targeted[vendor.name])
            except (TypeError, ValueError) as exc:
                raise ControlError(400, str(exc)) from None
    return SimResponse(body={"knobs": result})
