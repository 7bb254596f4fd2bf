"""pytest fixtures for the cloud simulator.

Register with ``pytest_plugins = ["simulator.pytest_plugin"]`` in the top-level conftest.

- ``sim_server`` (session): one simulator on 127.0.0.1, a free port, real sockets, in a
  background thread of the test process. Seed ``SIM_SEED`` (default 1).
- ``sim`` (function): that server, reset before the test. A ``SimClient``:
  ``sim.url``, ``sim.control(method, path, json=None)``, ``sim.add_fault(**rule)``,
  ``sim.requests(vendor=None, path=None)``, ``sim.violations()``, ``sim.advance(seconds)``,
  ``sim.knobs(**kv)``, plus ``sim.env()`` and a few helpers below. ``sim.push_port`` /
  ``sim.push_addr``: the 360 TCP push server of that simulator (any free port).
- ``sim_env`` (function): ``sim`` with the product's base-URL variables pointing at it.

The client uses only the standard library and ignores proxy variables (loopback only).
"""

from __future__ import annotations

import json as jsonlib
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from simulator.server import ServerHandle, base_url_env, start_server

__all__ = ["SimClient", "SimControlError", "sim", "sim_env", "sim_server", "start_server"]

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SimControlError(AssertionError):
    """A control call answered with an HTTP error (a mistake in the test, usually)."""

    def __init__(self, status: int, body: Any, method: str, path: str):
        super().__init__(f"{method} {path} -> HTTP {status}: {body}")
        self.status = status
        self.body = body


class SimClient:
    """Talks to a running simulator's ``/_sim/`` control API."""

    def __init__(self, url: str, push_port: int | None = None):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.url = url.rstrip("/")
        self._push_port = push_port

    @property
    def push_port(self) -> int:
        """The 360 push server's port (asked from ``/_sim/state`` when not given)."""
        if self._push_port is None:
            self._push_port = int(self.state()["push_port"])
        return self._push_port

    @property
    def push_addr(self) -> tuple[str, int]:
        """``(host, port)`` of the 360 push server, for ``PushConnection``."""
        return (urlsplit(self.url).hostname or "127.0.0.1", self.push_port)

    def control(self, method: str, path: str, json: Any = None) -> Any:
        """Call ``/_sim/<path>`` (the prefix is added when missing); parsed JSON back.
        Raises ``SimControlError`` on an HTTP error status."""
        if not path.startswith("/_sim"):
            path = "/_sim/" + path.lstrip("/")
        data = None if json is None else jsonlib.dumps(json).encode("utf-8")
        # The scheme is checked in __init__: only http(s) URLs get here.
        url = self.url + path
        request = urllib.request.Request(url, data=data, method=method.upper())  # noqa: S310
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with _OPENER.open(request, timeout=30) as response:
                return _decode(response.read())
        except urllib.error.HTTPError as exc:
            raise SimControlError(exc.code, _decode(exc.read()), method, path) from None

    # -- the common control API (cloud-apis.md 5.2) --------------------------------------

    def reset(self) -> dict:
        return self.control("POST", "reset")

    def state(self) -> dict:
        return self.control("GET", "state")

    def add_fault(self, **rule: Any) -> int:
        """Add a fault rule (5.2); returns its id. ``sim.add_fault(vendor="qihoo360",
        path="/clean/record/getList", http_status=503, count=2)``."""
        return self.control("POST", "faults", rule)["id"]

    def faults(self) -> list[dict]:
        return self.control("GET", "faults")["faults"]

    def remove_fault(self, rule_id: int) -> None:
        self.control("DELETE", f"faults/{rule_id}")

    def clear_faults(self) -> int:
        return self.control("DELETE", "faults")["removed"]

    def requests(
        self, vendor: str | None = None, path: str | None = None, limit: int | None = None
    ) -> list[dict]:
        """Logged vendor requests, oldest first; ``path`` is exact or a glob."""
        query = {"vendor": vendor, "path": path, "limit": limit}
        query = {key: value for key, value in query.items() if value is not None}
        suffix = "?" + urlencode(query) if query else ""
        return self.control("GET", "requests" + suffix)["requests"]

    def violations(self) -> list[dict]:
        return self.control("GET", "violations")["violations"]

    def advance(self, seconds: float) -> dict:
        """Advance the simulated clock; state machines catch up before this returns."""
        return self.control("POST", "clock", {"advance": seconds})

    def set_speed(self, factor: float) -> dict:
        """Simulated seconds per real second; 0 freezes the clock."""
        return self.control("POST", "clock", {"speed": factor})

    def now(self) -> float:
        return self.control("GET", "clock")["now"]

    def knobs(self, **kv: Any) -> dict:
        """Set knobs (any vendor's, by name); returns all knobs by vendor."""
        if kv:
            return self.control("POST", "knobs", kv)["knobs"]
        return self.control("GET", "knobs")["knobs"]

    def push_connections(self) -> list[dict]:
        """The push server's connections: qid, bound, frames_sent, unacked, ..."""
        return self.control("GET", "360/push-connections")["connections"]

    def drop_push(self, qid: str | None = None) -> int:
        """Close the push connections of one account (all without ``qid``)."""
        body = {} if qid is None else {"qid": qid}
        return self.control("POST", "360/push-connections/drop", body)["dropped"]

    def env(self) -> dict[str, str]:
        """The product's base-URL variables (cloud-apis.md 2), all pointing here."""
        return base_url_env(self.url, self.push_port)


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return jsonlib.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


@pytest.fixture(scope="session")
def sim_server() -> Iterator[ServerHandle]:
    handle = start_server("127.0.0.1", 0, seed=int(os.environ.get("SIM_SEED", "1")))
    yield handle
    handle.stop()


@pytest.fixture
def sim(sim_server: ServerHandle) -> SimClient:
    client = SimClient(sim_server.url, sim_server.push_port)
    client.reset()
    return client


@pytest.fixture
def sim_env(sim: SimClient, monkeypatch: pytest.MonkeyPatch) -> SimClient:
    for name, value in sim.env().items():
        monkeypatch.setenv(name, value)
    return sim
