"""An in-process harness around `MammotionCloud` for fast tests and benchmarks.

It plays the core's part without sockets: it builds `SimRequest`s, calls `tick()` before
each call (as the core does) and runs a `Clock` that only moves when told to.
"""

from __future__ import annotations

import json as jsonlib
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from simulator.interface import Clock, SimRequest, SimResponse
from simulator.mammotion import MammotionCloud

START = 1_790_000_000.0  # 2026-09-21 12:53:20 UTC: inside the mowing season
USER = "/user-server/v1"


class Harness:
    def __init__(self, seed: int = 1, start: float = START, origin: str = "http://sim.test"):
        self.clock = Clock(start=start, speed=0)
        self.violations: list[tuple[str, str]] = []
        self.cloud = MammotionCloud(
            self.clock, seed, lambda: origin, lambda v, d: self.violations.append((v, d))
        )

    @property
    def world(self):
        return self.cloud.world

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.cloud.tick()

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict | None = None,
        json: Any = None,
        form: dict | None = None,
        token: str | None = None,
        headers: dict | None = None,
    ) -> SimResponse:
        req = _build(method, path, query, json, form, token, headers)
        self.cloud.tick()
        return self.cloud.handle(req)

    def control(
        self, method: str, subpath: str, json: Any = None, query: dict | None = None
    ) -> SimResponse:
        path, _, raw_query = subpath.partition("?")
        merged = dict(parse_qsl(raw_query)) | (query or {})
        req = _build(method, f"/_sim/mammotion/{path}", merged, json, None, None, None)
        self.cloud.tick()
        return self.cloud.control(req, path)

    def fetch(self, url: str) -> SimResponse:
        """GET an absolute URL the cloud handed out (e.g. `mapFilePath`)."""
        parts = urlsplit(url)
        prefix = "/_sim/mammotion/"
        _expect(parts.path.startswith(prefix), url)
        return self.control("GET", parts.path[len(prefix) :], query=dict(parse_qsl(parts.query)))

    # --- shortcuts ---------------------------------------------------------------------

    def device_id(self, name: str) -> str:
        return next(m.id for m in self.world.devices.values() if m.name == name)

    def token_response(self, **form: str) -> SimResponse:
        return self.request("POST", "/oauth2/token", form=form)

    def open_token(self, client_id: str = "sim-client-1", secret: str = "sim-secret-1") -> str:  # noqa: S107
        response = self.token_response(
            client_id=client_id, client_secret=secret, grant_type="client_credentials"
        )
        _expect(response.status == 200, response.body)
        return response.body["data"]["access_token"]

    def api(self, method: str, path: str, token: str, json: Any = None, **kw: Any) -> dict:
        """An Open API call that must answer HTTP 200; returns the envelope."""
        response = self.request(method, path, json=json, token=token, **kw)
        _expect(response.status == 200, (response.status, response.body))
        return response.body

    def action(self, token: str, device_id: str, action: str, **params: Any) -> dict:
        body = {"deviceId": device_id, "action": action, "params": params}
        return self.api("POST", "/v1/mower/action", token, json=body)["data"]

    def detail(self, token: str, device_id: str) -> dict:
        return self.api("GET", f"/v1/mower/{device_id}", token)["data"]

    def login(self, username: str, password: str, **extra: str) -> SimResponse:
        query = {
            "username": username,
            "password": password,
            "client_id": "MADKALUBAS",
            "client_secret": "GshzGRZJjuMUgd2sYHM7",
            "grant_type": "password",
        } | extra
        return self.request("POST", f"{USER}/user/oauth/token", query=query)


def _expect(condition: bool, detail: object) -> None:
    if not condition:
        raise AssertionError(detail)


def _build(method, path, query, json, form, token, headers) -> SimRequest:
    all_headers = {k.lower(): v for k, v in (headers or {}).items()}
    body = b""
    if json is not None:
        body = jsonlib.dumps(json).encode()
        all_headers.setdefault("content-type", "application/json")
    elif form is not None:
        body = urlencode(form).encode()
        all_headers.setdefault("content-type", "application/x-www-form-urlencoded")
    if token is not None:
        all_headers["authorization"] = f"Bearer {token}"
    query = {k: str(v) for k, v in (query or {}).items()}
    return SimRequest(method=method, path=path, query=query, headers=all_headers, body=body)
