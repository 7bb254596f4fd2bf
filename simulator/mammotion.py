"""The Mammotion cloud model of the simulator (docs/cloud-apis.md §4, §5.4).

`MammotionCloud` implements the `VendorCloud` contract of simulator/interface.py. It serves
the user-server API (`/user-server/...`), the token host (`/oauth2/token`) and the Open API
(`/v1/...`); the core owns sockets, fault rules, the request log and the lock around calls.
The work is split by surface:

- mammotion_user.py (surface A), mammotion_auth.py (token host), mammotion_openapi.py (API),
- mammotion_machine.py (mower state machine), mammotion_history.py (reports and faults),
- mammotion_seed.py / mammotion_texts.py (seed data), mammotion_controls.py (`/_sim/...`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator import mammotion_openapi as openapi
from simulator import mammotion_user as user
from simulator.interface import Clock, SimRequest, SimResponse, ViolationRecorder
from simulator.mammotion_auth import handle_token
from simulator.mammotion_controls import control as run_control
from simulator.mammotion_http import spring_error
from simulator.mammotion_machine import advance
from simulator.mammotion_model import DEFAULT_KNOBS, VENDOR, Mower, World
from simulator.mammotion_seed import build_world, generate

_PREFIXES = ("/user-server/", "/oauth2/", "/v1/")
_FORMS = ("range", "filters", "paging")


class MammotionCloud:
    name = VENDOR
    control_prefix = "mammotion"

    def __init__(
        self,
        clock: Clock,
        seed: int,
        origin: Callable[[], str],
        record_violation: ViolationRecorder,
    ):
        self._clock = clock
        self._seed = seed
        self._origin = origin
        self._record_violation = record_violation
        self.world = build_world(clock, seed, origin, record_violation)

    def configure(
        self,
        extra_credentials: int = 0,
        mowers_per_credential: int = 1,
        reports_per_mower: int = 100,
    ) -> None:
        """Start-up options of the core (benchmarks); re-applied by the core after reset."""
        self.generate(extra_credentials, mowers_per_credential, reports_per_mower)

    def generate(self, credentials: int, mowers: int = 1, reports: int = 100) -> list[dict]:
        """Add `sim-client-gen-<i>` credentials with generated mowers (see the `generate`
        control); histories are generated lazily on first read."""
        return generate(self.world, credentials, mowers, reports)

    # --- VendorCloud -------------------------------------------------------------------

    def owns(self, path: str) -> bool:
        return path.startswith(_PREFIXES)

    def handle(self, req: SimRequest) -> SimResponse:
        if req.path.startswith("/user-server/"):
            return user.handle(self.world, req)
        if req.path.startswith("/oauth2/"):
            if req.path.rstrip("/") == "/oauth2/token":
                return handle_token(self.world, req)
            return spring_error(self.world, 404, "Not Found", req.path)
        return openapi.handle(self.world, req)

    def control(self, req: SimRequest, subpath: str) -> SimResponse:
        return run_control(self.world, req, subpath)

    def tick(self) -> None:
        now = self._clock.now()
        for device_id in list(self.world.active):
            advance(self.world, self.world.devices[device_id], now)

    def reset(self) -> None:
        self.world = build_world(self._clock, self._seed, self._origin, self._record_violation)

    def set_knobs(self, knobs: dict) -> dict:
        updated = dict(self.world.knobs)
        for key, value in knobs.items():
            if key in DEFAULT_KNOBS:
                updated[key] = _coerce(key, value)
        self.world.knobs = updated  # all or nothing: _coerce raised before on a bad value
        return dict(updated)

    def match_keys(self, req: SimRequest) -> dict[str, str]:
        keys: dict[str, str] = {}
        if req.path.startswith("/user-server/"):
            email = user.email_of(self.world, req)
            if email:
                keys["account"] = email
        elif req.path.startswith("/oauth2/"):
            client_id = req.form().get("client_id")
            if client_id:
                keys["account"] = client_id
        elif req.path.startswith("/v1/"):
            keys.update(self._open_api_keys(req))
        return keys

    def state(self) -> dict:
        world = self.world
        return {
            "seed": world.seed,
            "historyEnd": int(world.anchor * 1000),
            "knobs": dict(world.knobs),
            "accounts": {
                email: {
                    "areaCode": a.area_code,
                    "userId": a.user_id,
                    "deactivated": a.deactivated,
                    "failures": a.failures,
                    "lockedUntil": int(a.locked_until * 1000),
                }
                for email, a in world.accounts.items()
            },
            "credentials": {
                cid: {"account": c.account, "disabled": c.disabled, "deviceIds": list(c.device_ids)}
                for cid, c in world.credentials.items()
            },
            "devices": {m.id: _device_state(m) for m in world.devices.values()},
            "tokens": {
                "user": sum(t.live(world.now()) for t in world.user_tokens.values()),
                "open": sum(t.live(world.now()) for t in world.open_tokens.values()),
                "refresh": sum(t.live(world.now()) for t in world.refresh_tokens.values()),
            },
            "rejectNextRefresh": world.reject_next_refresh,
            "mailbox": {e: [m.code for m in mails] for e, mails in world.mailbox.items()},
        }

    # --- helpers -----------------------------------------------------------------------

    def _open_api_keys(self, req: SimRequest) -> dict[str, str]:
        keys = {}
        device_id = openapi.device_from_path(req.path)
        body = req.json() if req.method == "POST" else None
        if device_id is None and isinstance(body, dict) and isinstance(body.get("deviceId"), str):
            device_id = body["deviceId"]
        if device_id:
            keys["deviceId"] = device_id
        token = self.world.open_tokens.get(req.bearer() or "")
        if token is not None:
            keys["account"] = token.owner
        return keys


def _device_state(mower: Mower) -> dict[str, Any]:
    job = mower.job
    return {
        "name": mower.name,
        "model": mower.model,
        "online": mower.online,
        "status": mower.status,
        "batteryLevel": mower.battery,
        "chargeStatus": mower.charge_status,
        "docked": mower.docked,
        "job": None
        if job is None
        else {
            "workId": job.work_id,
            "taskName": job.task_name,
            "workedSeconds": int(job.worked),
            "events": [list(event) for event in job.events],
            "suspendedForCharging": mower.resume_at_80,
        },
        "reports": None if mower.seeded is None else len(mower.seeded) + len(mower.live_reports),
        "liveReports": len(mower.live_reports),
        "liveFaults": len(mower.live_faults),
    }


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"not a boolean: {value!r}")
    return bool(value)


def _coerce(key: str, value: Any) -> Any:
    """Validate one knob value (§5.4.6); raises ValueError on a bad one."""
    default = DEFAULT_KNOBS[key]
    if key == "success_code":
        if int(value) not in (0, 200):
            raise ValueError("success_code must be 0 or 200")
        return int(value)
    if key in ("oauth_check", "legacy_login"):
        if str(value) not in ("ok", "404"):
            raise ValueError(f"{key} must be 'ok' or '404'")
        return str(value)
    if key == "reject_report_forms":
        forms = value.split(",") if isinstance(value, str) else list(value or [])
        forms = [str(form).strip() for form in forms if str(form).strip()]
        if any(form not in _FORMS for form in forms):
            raise ValueError(f"reject_report_forms entries must be among {_FORMS}")
        return forms
    if isinstance(default, bool):
        return _bool(value)
    if int(value) <= 0:
        raise ValueError(f"{key} must be positive")
    return int(value)


__all__ = ["MammotionCloud", "World"]
