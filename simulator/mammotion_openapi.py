"""Mammotion surface B, the Open API on the API host (docs/cloud-apis.md §4.4, §5.4.4)."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

from simulator import mammotion_history as history
from simulator.interface import SimRequest, SimResponse
from simulator.mammotion_auth import open_client
from simulator.mammotion_files import map_url
from simulator.mammotion_http import DEACTIVATED, open_fail, open_ok, spring_error, unauthorized
from simulator.mammotion_machine import ACTIONS, advance, perform
from simulator.mammotion_model import VENDOR, Mower, Report, World, ms
from simulator.mammotion_texts import fault_texts, language

_WORK_PARAMS = re.compile(r"^/v1/mower/([^/]+)/work-params/?$")
_BODY_HEADS = ("action", "work-reports", "error-codes")
_EXTRA_STATUS = {"Standby": "StandBy", "Working": "Mowing", "Paused": "TaskPaused"}
_FORM_KEYS = {
    "range": ("endWorkTimeStart", "endWorkTimeEnd"),
    "filters": ("workType", "workResult"),
    "paging": ("pageNumber", "pageSize"),
}


class BadRequest(Exception):
    """A validation error: HTTP 200, code 400, msg "<field> is required/invalid" (§4.6)."""


def device_from_path(path: str) -> str | None:
    parts = path.strip("/").split("/")
    if len(parts) >= 3 and parts[:2] == ["v1", "mower"] and parts[2] not in _BODY_HEADS:
        return parts[2]
    return None


def handle(world: World, req: SimRequest) -> SimResponse:
    match = _WORK_PARAMS.match(req.path)
    if match and req.method == "GET":
        # Never-call tripwire (§4.4.11): record it whatever else happens.
        world.record_violation(VENDOR, f"GET {req.path} (work-params sends a command)")
    client_id = open_client(world, req)
    if client_id is None:
        return unauthorized()  # authentication comes first, as on the real API (§5.1)
    account = world.account_of_client(client_id)
    if account is not None and account.deactivated:
        return open_fail(world, 500, DEACTIVATED)
    route = _route(req)
    if route is None:
        return spring_error(world, 404, "Not Found", req.path)
    handler, args = route
    try:
        return handler(world, req, client_id, *args)
    except BadRequest as error:
        return open_fail(world, 400, str(error))


def _route(req: SimRequest):
    parts = req.path.strip("/").split("/")
    if req.method == "GET" and parts == ["v1", "mowers"]:
        return _mowers, ()
    if len(parts) < 3 or parts[:2] != ["v1", "mower"]:
        return None
    rest = parts[2:]
    if req.method == "POST" and len(rest) <= 2 and "/".join(rest) in _BODY_ROUTES:
        return _BODY_ROUTES["/".join(rest)], ()
    if req.method != "GET":
        return None
    if len(rest) == 1:
        return _detail, (rest[0],)
    if len(rest) == 2 and rest[1] in ("plan", "work-params"):
        return (_plan if rest[1] == "plan" else _work_params), (rest[0],)
    if len(rest) == 3 and rest[1] == "work-reports":
        return _report_detail, (rest[0], rest[2])
    return None


def _device(world: World, client_id: str, device_id: object) -> Mower | None:
    credential = world.credentials[client_id]
    if not isinstance(device_id, str) or device_id not in credential.device_ids:
        return None
    mower = world.devices.get(device_id)
    if mower is not None:
        advance(world, mower, world.now())
    return mower


def _not_found(world: World) -> SimResponse:
    return open_fail(world, 404, "device not found")


def _mowers(world: World, req: SimRequest, client_id: str) -> SimResponse:
    data = []
    for device_id in world.credentials[client_id].device_ids:
        mower = world.devices[device_id]
        data.append(
            {
                "id": mower.id,
                "name": mower.name,
                "nickname": mower.nickname,
                "model": mower.model,
                "icon": "",
                "online": int(mower.online),
            }
        )
    return open_ok(world, data)


def _detail(world: World, req: SimRequest, client_id: str, device_id: str) -> SimResponse:
    mower = _device(world, client_id, device_id)
    if mower is None:
        return _not_found(world)
    detail = {
        "id": mower.id,
        "name": mower.name,
        "nickname": mower.nickname,
        "model": mower.model,
        "icon": "",
        "version": mower.version,
        "online": int(mower.online),
        "status": _status(world, mower),
        "batteryLevel": int(mower.battery),
        "chargeStatus": int(mower.charge_status),
        "network": dict(mower.network),
    }
    return open_ok(world, [detail] if world.knobs["detail_as_list"] else detail)


def _status(world: World, mower: Mower) -> str:
    if not mower.online:
        return "Offline"
    if not world.knobs["extra_statuses"]:
        return mower.status
    if mower.status == "Standby" and mower.charge_status == 2:
        return "Charging"
    return _EXTRA_STATUS.get(mower.status, mower.status)


def _plan(world: World, req: SimRequest, client_id: str, device_id: str) -> SimResponse:
    mower = _device(world, client_id, device_id)
    if mower is None:
        return _not_found(world)
    return open_ok(world, [{"taskId": t.task_id, "taskName": t.name} for t in mower.tasks])


def _work_params(world: World, req: SimRequest, client_id: str, device_id: str) -> SimResponse:
    if _device(world, client_id, device_id) is None:
        return _not_found(world)
    return open_ok(world, history.zero_work_param())


def _body(req: SimRequest) -> dict:
    body = req.json()
    if not isinstance(body, dict):
        raise BadRequest("deviceId is required")
    if not body.get("deviceId"):
        raise BadRequest("deviceId is required")
    return body


def _action(world: World, req: SimRequest, client_id: str) -> SimResponse:
    body = _body(req)
    action = body.get("action")
    if not action:
        raise BadRequest("action is required")
    if action not in ACTIONS:
        raise BadRequest("action is invalid")
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise BadRequest("params is invalid")
    mower = _device(world, client_id, body["deviceId"])
    if mower is None:
        return _not_found(world)
    ok, message = perform(world, mower, action, params)
    return open_ok(world, {"commandResult": ok, "resultMessage": message})


def _int_field(body: dict, name: str, default: int | None = None, low: int = 0) -> int | None:
    value = body.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise BadRequest(f"{name} is invalid")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} is invalid") from None
    if number < low:
        raise BadRequest(f"{name} is invalid")
    return number


def _paging(body: dict) -> tuple[int, int]:
    page = _int_field(body, "pageNumber", 1, low=1)
    size = min(_int_field(body, "pageSize", 10, low=1), 100)
    return page, size


def _selected_reports(world: World, mower: Mower, body: dict) -> list[Report]:
    start = _int_field(body, "endWorkTimeStart")
    end = _int_field(body, "endWorkTimeEnd")
    work_type = _int_field(body, "workType")
    work_result = _int_field(body, "workResult")
    selected = [
        report
        for report in history.reports(world, mower)
        if (start is None or ms(report.end) >= start)
        and (end is None or ms(report.end) <= end)
        and (work_type is None or report.work_type == work_type)
        and (work_result is None or report.work_result == work_result)
    ]
    selected.sort(key=lambda report: report.end, reverse=True)
    return selected


def _rejected_form(world: World, body: dict) -> bool:
    for variant in world.knobs["reject_report_forms"]:
        if any(body.get(key) is not None for key in _FORM_KEYS.get(variant, ())):
            return True
    return False


def _report_search(world: World, req: SimRequest, client_id: str) -> SimResponse:
    body = _body(req)
    mower = _device(world, client_id, body["deviceId"])
    if mower is None:
        return _not_found(world)
    if _rejected_form(world, body):
        return open_fail(world, 40200, "Request parameter error")
    page, size = _paging(body)
    selected = _selected_reports(world, mower, body)
    records = [history.list_item(r) for r in selected[(page - 1) * size : page * size]]
    data = {
        "records": records,
        "total": len(selected),
        "pageNumber": page,
        "pageSize": size,
        "pages": math.ceil(len(selected) / size),
    }
    return open_ok(world, data)


def _report_summary(world: World, req: SimRequest, client_id: str) -> SimResponse:
    body = _body(req)
    mower = _device(world, client_id, body["deviceId"])
    if mower is None:
        return _not_found(world)
    return open_ok(world, history.summary(_selected_reports(world, mower, body)))


def _report_detail(
    world: World, req: SimRequest, client_id: str, device_id: str, work_id: str
) -> SimResponse:
    mower = _device(world, client_id, device_id)
    if mower is None:
        return _not_found(world)
    report = find_report(world, mower, work_id)
    if report is None:
        return open_fail(world, 404, "work report not found")
    return open_ok(world, history.detail(report, mower.collector, map_url(world, work_id)))


def find_report(world: World, mower: Mower, work_id: str) -> Report | None:
    return next((r for r in history.reports(world, mower) if r.work_id == work_id), None)


def _date_field(body: dict, name: str) -> date | None:
    value = body.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BadRequest(f"{name} is invalid") from None


def _fault_search(world: World, req: SimRequest, client_id: str) -> SimResponse:
    body = _body(req)
    mower = _device(world, client_id, body["deviceId"])
    if mower is None:
        return _not_found(world)
    page, size = _paging(body)
    first, last = _date_field(body, "startDate"), _date_field(body, "endDate")
    keyword = str(body.get("errorCode") or "")
    selected = []
    for record in history.faults(world, mower):
        day = datetime.fromtimestamp(record.occurred, UTC).date()
        if (first and day < first) or (last and day > last) or keyword not in str(record.code):
            continue
        selected.append(record)
    selected.sort(key=lambda record: record.occurred, reverse=True)
    lang = language(req.headers.get("accept-language", ""))
    chunk = selected[(page - 1) * size : page * size]
    data = {
        "records": [_fault_item(world, record, lang) for record in chunk],
        "total": len(selected),
        "pageNumber": page,
        "pageSize": size,
        "hasMore": page * size < len(selected),
    }
    return open_ok(world, data)


def _fault_item(world: World, record, lang: str) -> dict:
    implication, solution = fault_texts(record.code, lang)
    images = []
    if record.with_image:
        url = f"{world.origin().rstrip('/')}/_sim/mammotion/files/fault/{record.code}.png"
        images.append({"buttonName": "", "buttonType": "IMAGE", "url": url, "sort": 1})
    return {
        "code": record.code,
        "implication": implication,
        "solution": solution,
        "gmtCreate": ms(record.occurred),
        "createTime": ms(record.created),
        "faultLevel": record.level,
        "priority": record.level,
        "imageList": images,
        "videoList": [],
        "buttonList": [],
    }


_BODY_ROUTES = {
    "action": _action,
    "work-reports/search": _report_search,
    "work-reports/summary": _report_summary,
    "error-codes/search": _fault_search,
}
