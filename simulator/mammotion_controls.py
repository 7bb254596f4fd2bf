"""Control endpoints `/_sim/mammotion/<subpath>` (docs/cloud-apis.md §5.4.6) and the signed
files the simulated CDN serves. Product clients never call these; tests and demos do."""

from __future__ import annotations

import re
import secrets
from urllib.parse import unquote

from simulator.interface import SimRequest, SimResponse
from simulator.mammotion_auth import expire_open_tokens
from simulator.mammotion_files import check_signature, denied_body, fault_png, map_png
from simulator.mammotion_machine import clear_fault, raise_fault, set_device
from simulator.mammotion_model import Credential, World
from simulator.mammotion_seed import generate
from simulator.mammotion_texts import FAULTS

_MAP_FILE = re.compile(r"^files/map/([^/]+)\.png$")
_FAULT_FILE = re.compile(r"^files/fault/(-?\d+)\.png$")


def ok(**extra: object) -> SimResponse:
    return SimResponse(body={"ok": True, **extra})


def error(status: int, message: str) -> SimResponse:
    return SimResponse(status=status, body={"ok": False, "error": message})


def control(world: World, req: SimRequest, subpath: str) -> SimResponse:
    parts = [unquote(part) for part in subpath.strip("/").split("/")]
    key = (req.method, parts[0] if parts else "", len(parts))
    try:
        if req.method == "GET" and parts[0] == "files":
            return _files(world, req, subpath.strip("/"))
        handler = _ROUTES.get(key)
        if handler is None:
            return error(404, f"unknown control {req.method} {subpath}")
        return handler(world, req, parts)
    except (ValueError, TypeError, KeyError) as problem:
        return error(400, f"bad control request: {problem}")


def _body(req: SimRequest) -> dict:
    body = req.json()
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValueError("JSON object expected")
    return body


def _mailbox(world: World, req: SimRequest, parts: list[str]) -> SimResponse:
    email = req.query.get("email", "").strip().lower()
    mails = world.mailbox.get(email, [])
    messages = [
        {
            "subject": "Mammotion verification code",
            "code": mail.code,
            "sentAt": int(mail.sent * 1000),
        }
        for mail in mails
    ]
    latest = mails[-1].code if mails else None
    return ok(email=email, messages=messages, latestCode=latest)


def _device_list(world: World, req: SimRequest, parts: list[str]) -> SimResponse:
    owners = {d: c.client_id for c in world.credentials.values() for d in c.device_ids}
    devices = [
        {"deviceId": m.id, "name": m.name, "model": m.model, "clientId": owners.get(m.id)}
        for m in world.devices.values()
    ]
    return ok(devices=devices)


def _expire_tokens(world: World, req: SimRequest, parts: list[str]) -> SimResponse:
    if parts[1] != "expire":
        return error(404, "unknown control")
    client_id = _body(req).get("client_id")
    return ok(expired=expire_open_tokens(world, client_id))


def _reject_refresh(world: World, req: SimRequest, parts: list[str]) -> SimResponse:
    if parts[1] != "reject-next":
        return error(404, "unknown control")
    world.reject_next_refresh = True
    return ok()


def _credential_switch(world: World, req: SimRequest, parts: list[str]) -> SimResponse:
    credential = world.credentials.get(parts[1])
    if credential is None or parts[2] not in ("disable", "enable"):
        return error(404, "unknown credentials")
    credential.disabled = parts[2] == "disable"
    if credential.disabled:
        expire_open_tokens(world, credential.client_id)  # as after a secret reset
    return ok(client_id=credential.client_id, disabled=credential.disabled)


def _create_credential(world: World, req: SimRequest, parts: list[str]) -> SimResponse:
    """Developer credentials for an account, e.g. the dedicated second account (§4.3.6 step 8)
    after the owner shared mowers with it: `{"email", "deviceIds", "client_id"?}`."""
    body = _body(req)
    email = body.get("email")
    if email is not None and str(email).lower() not in world.accounts:
        return error(404, "unknown account")
    device_ids = [str(d) for d in body.get("deviceIds", [])]
    if any(d not in world.devices for d in device_ids):
        return error(404, "unknown deviceId")
    client_id = str(body.get("client_id") or f"sim-client-{secrets.token_hex(4)}")
    secret = str(body.get("client_secret") or secrets.token_urlsafe(18))
    account = str(email).lower() if email is not None else None
    world.credentials[client_id] = Credential(client_id, secret, account, device_ids)
    return ok(client_id=client_id, client_secret=secret)


def _account_switch(world: World, req: SimRequest, parts: list[str]) -> SimResponse:
    account = world.accounts.get(parts[1].strip().lower())
    if account is None or parts[2] not in ("deactivate", "reactivate"):
        return error(404, "unknown account")
    account.deactivated = parts[2] == "deactivate"
    return ok(email=account.email, deactivated=account.deactivated)


def _set_device(world: World, req: SimRequest, parts: list[str]) -> SimResponse:
    mower = world.devices.get(parts[1])
    if mower is None:
        return error(404, "unknown deviceId")
    set_device(world, mower, _body(req))
    return ok(deviceId=mower.id, status=mower.status, batteryLevel=mower.battery)


def _fault(world: World, req: SimRequest, parts: list[str]) -> SimResponse:
    mower = world.devices.get(parts[1])
    if mower is None or parts[2] != "fault":
        return error(404, "unknown deviceId")
    body = _body(req)
    if body.get("clear"):
        clear_fault(world, mower)
        return ok(deviceId=mower.id, status=mower.status)
    code = int(body["code"])
    level = int(body.get("faultLevel") or FAULTS.get(code, (2,))[0])
    if level not in (1, 2, 3):
        raise ValueError("faultLevel must be 1, 2 or 3")
    raise_fault(world, mower, code, level)
    return ok(deviceId=mower.id, status=mower.status)


def _generate(world: World, req: SimRequest, parts: list[str]) -> SimResponse:
    body = _body(req)
    count, mowers, reports = (
        int(body.get(k, d)) for k, d in (("credentials", 1), ("mowers", 1), ("reports", 100))
    )
    if min(count, mowers, reports) < 0:
        raise ValueError("counts must not be negative")
    return ok(credentials=generate(world, count, mowers, reports))


def _files(world: World, req: SimRequest, subpath: str) -> SimResponse:
    match = _MAP_FILE.match(subpath)
    if match:
        reason = check_signature(world, match.group(1), req.query)
        if reason is not None:
            return SimResponse(status=403, body=denied_body(reason), content_type="application/xml")
        return SimResponse(body=map_png(match.group(1)), content_type="image/png")
    match = _FAULT_FILE.match(subpath)
    if match:
        return SimResponse(body=fault_png(int(match.group(1))), content_type="image/png")
    return error(404, "no such file")


_ROUTES = {
    ("GET", "mailbox", 1): _mailbox,
    ("GET", "devices", 1): _device_list,
    ("POST", "tokens", 2): _expire_tokens,
    ("POST", "refresh", 2): _reject_refresh,
    ("POST", "credentials", 1): _create_credential,
    ("POST", "credentials", 3): _credential_switch,
    ("POST", "accounts", 3): _account_switch,
    ("POST", "devices", 2): _set_device,
    ("POST", "devices", 3): _fault,
    ("POST", "generate", 1): _generate,
}
