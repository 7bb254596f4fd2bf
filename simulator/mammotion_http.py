"""Response envelopes shared by the Mammotion surfaces (docs/cloud-apis.md §4.2, §4.6)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from simulator.interface import SimResponse
from simulator.mammotion_model import World

DEACTIVATED = "Your account activity is abnormal and has been deactivated"
_SUCCESS_MSG = {0: "Request success", 200: "Success"}


def user_ok(data: Any) -> SimResponse:
    """Surface A success, exactly as captured: code, data, msg (no msgTitle/requestId)."""
    return SimResponse(body={"code": 0, "data": data, "msg": "Request success"})


def user_fail(code: int, msg: str) -> SimResponse:
    return SimResponse(body={"code": code, "msg": msg})


def request_id(world: World) -> str | int:
    """21 digits like the live "176853488788872870010"; a bare number when the knob says so."""
    world.request_counter += 1
    value = f"{world.now_ms()}{world.request_counter % 10**8:08d}"
    return int(value) if world.knobs["request_id_as_number"] else value


def open_ok(world: World, data: Any) -> SimResponse:
    code = int(world.knobs["success_code"])
    body = {
        "code": code,
        "msg": _SUCCESS_MSG.get(code, "Request success"),
        "msgTitle": "Operation Successful",
        "data": data,
        "requestId": request_id(world),
    }
    return SimResponse(body=body)


def open_fail(world: World, code: int, msg: str, status: int = 200) -> SimResponse:
    body = {
        "code": code,
        "msg": msg,
        "msgTitle": "Operation Failed",
        "requestId": request_id(world),
    }
    return SimResponse(status=status, body=body)


def unauthorized() -> SimResponse:
    return SimResponse(status=401, body={"code": 401, "msg": "Unauthorized"})


def spring_error(world: World, status: int, error: str, path: str) -> SimResponse:
    """What a retired or unknown route answers on a Spring backend (§4.3.1 "endpoint retired")."""
    stamp = datetime.fromtimestamp(world.now(), UTC).isoformat(timespec="milliseconds")
    body = {"timestamp": stamp, "status": status, "error": error, "path": path}
    return SimResponse(status=status, body=body)
