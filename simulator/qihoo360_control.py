"""``/_sim/360/...``: controls of the 360 simulator (cloud-apis.md 5.3.6, plus extras).

Spec: accounts/{qid}/expire-sid, accounts/{qid}/revoke-qt, accounts/{qid}/deactivate,
devices/{sn} (POST), devices/{sn}/fault, push, pushes, pushdata/{id}.
Extras: accounts (GET), accounts/{qid}/new-sid, devices (GET), devices/{sn} (GET),
generate, transitions, files/icons/{hardware}.png.
"""

from __future__ import annotations

import json
import struct
import zlib
from functools import lru_cache
from typing import TYPE_CHECKING

from simulator.interface import SimRequest, SimResponse
from simulator.qihoo360_push import unsolicited_taskid
from simulator.qihoo360_seed import ICON_COLOURS

if TYPE_CHECKING:
    from simulator.qihoo360 import Qihoo360Cloud

DEVICE_FIELDS = {"online", "mode", "elecReal", "title", "support"}


def reply(body, status: int = 200) -> SimResponse:
    return SimResponse(status=status, body=body)


def problem(status: int, message: str) -> SimResponse:
    return SimResponse(status=status, body={"error": message})


def body_of(req: SimRequest) -> dict | None:
    if not req.body.strip():
        return {}
    body = req.json()
    return body if isinstance(body, dict) else None


def int_query(req: SimRequest, name: str, default: int) -> int:
    try:
        return int(req.query.get(name) or default)
    except ValueError:
        return default


def handle_control(cloud: Qihoo360Cloud, req: SimRequest, subpath: str) -> SimResponse:
    parts = [part for part in subpath.split("/") if part]
    head = parts[0] if parts else ""
    body = body_of(req)
    if body is None:
        return problem(400, "the body must be a JSON object")
    if head == "accounts":
        return accounts(cloud, req, parts[1:], body)
    if head == "devices":
        return devices(cloud, req, parts[1:], body)
    simple = {
        ("POST", "push"): inject_push,
        ("GET", "pushes"): list_pushes,
        ("POST", "generate"): generate,
        ("GET", "transitions"): transitions,
    }
    handler = simple.get((req.method, head)) if len(parts) == 1 else None
    if handler is not None:
        return handler(cloud, req, body)
    if head == "pushdata" and len(parts) == 2 and req.method == "GET":
        return push_data(cloud, parts[1])
    if parts[:2] == ["files", "icons"] and len(parts) == 3 and req.method in ("GET", "HEAD"):
        return icon(parts[2])
    owned = cloud.pushes.controls.get(head)  # e.g. push-connections (the push server)
    if owned is not None:
        return owned(req, parts[1:], body)
    return problem(404, f"unknown 360 control {req.method} /_sim/360/{subpath}")


# -- accounts ------------------------------------------------------------------------------


def accounts(cloud: Qihoo360Cloud, req: SimRequest, parts: list[str], body: dict) -> SimResponse:
    if not parts and req.method == "GET":
        limit = int_query(req, "limit", 100)
        listed = list(cloud.accounts.values())[: max(0, limit)]
        return reply({"accounts": [acc.describe() for acc in listed]})
    if len(parts) != 2 or req.method != "POST":
        return problem(404, "use POST /_sim/360/accounts/{qid}/<action>")
    account = cloud.accounts.get(parts[0])
    if account is None:
        return problem(404, f"no account {parts[0]}")
    action = parts[1]
    if action == "expire-sid":
        cloud.expire_session(account)
    elif action == "revoke-qt":
        account.qt_revoked = True
    elif action == "deactivate":
        account.deactivated = True
    elif action == "new-sid":
        # As if the user signed in again on the phone: a fresh SID to paste (method 1).
        cloud.issue_session(account)
    else:
        return problem(404, f"unknown account action {action}")
    return reply(account.describe())


# -- devices -------------------------------------------------------------------------------


def devices(cloud: Qihoo360Cloud, req: SimRequest, parts: list[str], body: dict) -> SimResponse:
    if not parts and req.method == "GET":
        seeded = [d for d in cloud.devices.values() if not cloud.accounts[d.owner].generated]
        return reply({"devices": [cloud.device_state(device) for device in seeded]})
    device = cloud.devices.get(parts[0]) if parts else None
    if device is None:
        return problem(404, f"no device {parts[0] if parts else ''}")
    if len(parts) == 1 and req.method == "GET":
        return reply(cloud.device_state(device))
    if len(parts) == 1 and req.method == "POST":
        return set_device(cloud, device, body)
    if len(parts) == 2 and parts[1] == "fault" and req.method == "POST":
        return device_fault(cloud, device, body)
    return problem(404, "use GET/POST /_sim/360/devices/{sn} or POST .../fault")


def set_device(cloud: Qihoo360Cloud, device, body: dict) -> SimResponse:
    unknown = sorted(set(body) - DEVICE_FIELDS)
    if unknown:
        return problem(400, f"unknown device fields: {', '.join(unknown)}")
    machine = cloud.machine(device.sn)
    if "title" in body:
        device.title = str(body["title"])
    if "support" in body:
        support = body["support"]
        device.support = support if isinstance(support, str) else json.dumps(support)
    if "online" in body:
        was_online, device.online = device.online, bool(body["online"])
        if device.online and not was_online:
            cloud.on_status(machine, machine.t)  # back online: the robot reports in
    if "mode" in body or "elecReal" in body:
        elec = body.get("elecReal")
        if elec is not None and not isinstance(elec, int | float):
            return problem(400, "elecReal must be a number")
        machine.force(mode=body.get("mode"), elec=elec)
    cloud.machine(device.sn)  # re-evaluates whether the machine needs ticking
    return reply(cloud.device_state(device))


def device_fault(cloud: Qihoo360Cloud, device, body: dict) -> SimResponse:
    machine = cloud.machine(device.sn)
    if body.get("clear"):
        machine.clear_fault()
    else:
        code = body.get("code")
        if not isinstance(code, int) or isinstance(code, bool) or code == 0:
            return problem(400, 'give {"code": <non-zero error code>} or {"clear": true}')
        machine.raise_fault(code)
    cloud.machine(device.sn)
    return reply(cloud.device_state(device))


# -- pushes --------------------------------------------------------------------------------


def inject_push(cloud: Qihoo360Cloud, req: SimRequest, body: dict) -> SimResponse:
    device = cloud.devices.get(str(body.get("sn", "")))
    if device is None or "infoType" not in body:
        return problem(400, 'give {"sn": <known sn>, "infoType": ..., "data": ...}')
    now = cloud.clock.now()
    taskid = str(body.get("taskid") or unsolicited_taskid(now))
    data = body.get("data", {})
    qids = [device.owner, *device.shared_with]
    message = str(body.get("message", "ok"))
    event = cloud.pushes.publish(device.sn, qids, now, taskid, body["infoType"], data, message)
    cloud.pushes.release(now)
    return reply({"id": event.id, "event": event.message_body()})


def push_view(cloud: Qihoo360Cloud, event) -> dict:
    url = None
    if cloud.knobs.get("push_data_url") and str(event.info_type) == "20001":
        url = f"{cloud.origin()}/_sim/360/pushdata/{event.id}"
    return {"id": event.id, "qids": event.qids, "event": event.message_body(url)}


def list_pushes(cloud: Qihoo360Cloud, req: SimRequest, body: dict) -> SimResponse:
    """Recent pushes, oldest first, decrypted: what a listener would see (5.3.5)."""
    found = cloud.pushes.recent(req.query.get("sn") or None, int_query(req, "limit", 50))
    return reply({"pushes": [push_view(cloud, event) for event in found]})


def push_data(cloud: Qihoo360Cloud, raw_id: str) -> SimResponse:
    event = cloud.pushes.get(int(raw_id)) if raw_id.isdigit() else None
    if event is None:
        return problem(404, "no such push")
    return reply(event.inner())


def transitions(cloud: Qihoo360Cloud, req: SimRequest, body: dict) -> SimResponse:
    sn = req.query.get("sn") or None
    found = [item for item in cloud.transitions if sn is None or item["sn"] == sn]
    limit = int_query(req, "limit", 100)
    return reply({"transitions": found[-limit:] if limit > 0 else []})


# -- benchmarks ------------------------------------------------------------------------------


def generate(cloud: Qihoo360Cloud, req: SimRequest, body: dict) -> SimResponse:
    """``{"accounts": N, "runs_per_device": M, "devices_per_account": K}``."""
    count = body.get("accounts", 1)
    runs = body.get("runs_per_device")
    per_account = body.get("devices_per_account", 1)
    valid = isinstance(count, int) and 0 < count <= 100_000
    valid = valid and (runs is None or (isinstance(runs, int) and 0 <= runs <= 1_000_000))
    valid = valid and isinstance(per_account, int) and 1 <= per_account <= 50
    if not valid:
        return problem(400, "accounts 1..100000, runs_per_device 0..1e6, devices 1..50")
    made = cloud.generate(count, runs, per_account)
    listed = [
        {"qid": acc.qid, "sid": acc.sid, "pushKey": acc.push_key, "sns": cloud.visible_sns(acc.qid)}
        for acc in made
    ]
    return reply({"accounts": listed})


# -- files -----------------------------------------------------------------------------------


def icon(name: str) -> SimResponse:
    hardware = name.removesuffix(".png")
    if hardware not in ICON_COLOURS:
        return problem(404, "no such icon")
    return SimResponse(body=icon_png(hardware), content_type="image/png",
                       headers={"Cache-Control": "max-age=86400"})  # fmt: skip


@lru_cache(maxsize=8)
def icon_png(hardware: str, size: int = 64) -> bytes:
    """A round robot in the model's colour, as a PNG built by hand (stdlib only)."""
    red, green, blue = ICON_COLOURS[hardware]
    rows = []
    centre, radius = (size - 1) / 2, size * 0.45
    for y in range(size):
        row = bytearray([0])  # filter type "none"
        for x in range(size):
            inside = (x - centre) ** 2 + (y - centre) ** 2 <= radius**2
            row += bytes([red, green, blue, 255]) if inside else bytes(4)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )
