"""The contract between the simulator's HTTP server (core) and each vendor's cloud model.

The core (``simulator/core.py``) owns sockets, routing, the request log, fault rules,
the control API common to both vendors and one lock around every call into a vendor
model, so vendor models need not be thread-safe. Each vendor model
(``simulator/qihoo360.py``, ``simulator/mammotion.py``) is plain Python: it takes a
``SimRequest`` and returns a ``SimResponse``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote


@dataclass
class SimRequest:
    method: str
    path: str  # without the query string, e.g. "/clean/cmd/send"
    query: dict[str, str] = field(default_factory=dict)  # first value of each parameter
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""

    def form(self) -> dict[str, str]:
        """The urlencoded body as a dict (first value of each field, blanks kept)."""
        parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[0] for key, values in parsed.items()}

    def json(self) -> Any:
        """The JSON body, or None when it is absent or not JSON."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def cookies(self) -> dict[str, str]:
        """Tolerant cookie parsing (cloud-apis.md 5.3.2): split on ';', trim, split at the
        first '='. Later duplicates win except empty ones; values are percent-decoded."""
        jar: dict[str, str] = {}
        for part in self.headers.get("cookie", "").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name:
                jar[name.strip().lower()] = unquote(value.strip())
        return jar

    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@dataclass
class SimResponse:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes -> raw; str -> UTF-8 text
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Clock:
    """Simulated wall clock in Unix seconds: real time by default, with a speed factor
    and an explicit "advance by N seconds" control (cloud-apis.md 5.1)."""

    def __init__(self, start: float | None = None, speed: float = 1.0):
        self._base_sim = time.time() if start is None else float(start)
        self._base_real = time.monotonic()
        self._speed = float(speed)
        self._offset = 0.0

    def now(self) -> float:
        elapsed = (time.monotonic() - self._base_real) * self._speed
        return self._base_sim + elapsed + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += float(seconds)

    def set_speed(self, factor: float) -> None:
        current = self.now()
        self._base_sim, self._base_real, self._offset = current, time.monotonic(), 0.0
        self._speed = float(factor)

    @property
    def speed(self) -> float:
        return self._speed


# record_violation(vendor, description): called when a never-call endpoint is hit.
ViolationRecorder = Callable[[str, str], None]


class VendorCloud(Protocol):
    """What the core expects from a vendor model.

    Constructor signature used by the core:
        Cls(clock: Clock, seed: int, origin: Callable[[], str], record_violation: ViolationRecorder)
    ``origin()`` returns the simulator's own base URL (e.g. "http://127.0.0.1:8900"),
    used for absolute URLs the cloud hands out (map files, push data).
    """

    name: str  # "qihoo360" or "mammotion" (the fault-rule vendor names)
    control_prefix: str  # "360" or "mammotion": serves /_sim/<control_prefix>/...

    def owns(self, path: str) -> bool:
        """True when this vendor serves the real-host path (e.g. "/clean/cmd/send")."""

    def handle(self, req: SimRequest) -> SimResponse:
        """Answer a vendor endpoint (fault rules have already been applied by the core)."""

    def control(self, req: SimRequest, subpath: str) -> SimResponse:
        """Answer /_sim/<control_prefix>/<subpath> (subpath without leading slash)."""

    def tick(self) -> None:
        """Advance state machines to clock.now(); the core calls it before every call."""

    def state(self) -> dict:
        """A JSON-serialisable dump of all simulated state (for GET /_sim/state)."""

    def set_knobs(self, knobs: dict) -> dict:
        """Apply the vendor knobs present in ``knobs``; return all current knob values."""

    def reset(self) -> None:
        """Restore seed data and default knobs."""

    def match_keys(self, req: SimRequest) -> dict[str, str]:
        """Identifiers a fault rule may match on: any of "sn", "deviceId", "account"."""
