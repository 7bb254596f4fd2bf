"""Pure parsers for Mammotion responses (cloud-apis.md 4.2, 4.4, 4.5).

Each takes the decoded JSON value and returns typed results or raises a
``CloudError`` (``BadResponse`` for shapes it cannot read); single bad items are
skipped, missing optional fields become None (D-X-3).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ._coerce import as_bool, as_dict, as_float, as_int, as_list, as_str, as_text, from_unix_ms
from .base import (
    MAMMOTION,
    Attachment,
    CommandResult,
    DeviceStatus,
    LifetimeTotals,
    MowerRunDetail,
    NetworkInfo,
    RemoteDevice,
    RemoteFault,
    RemoteRun,
    RunResult,
    SavedTask,
    TimelineEvent,
    WorkParams,
)
from .errors import (
    BadResponse,
    CommandRejected,
    make_excerpt,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

WORK_TYPES = {1: "single", 2: "scheduled", 3: "drop mow", 4: "resume"}  # 4.5.3
# 4.5.4 workResult -> normalised result
WORK_RESULTS = {
    0: RunResult.UNKNOWN,
    1: RunResult.RUNNING,
    2: RunResult.RUNNING,  # paused: the job is not finished
    3: RunResult.STOPPED,
    4: RunResult.INTERRUPTED,
    5: RunResult.COMPLETED,
}
EVENT_LABELS = {  # 4.5.5
    0: "none",
    1: "auto start",
    2: "manual start",
    3: "auto resume",
    4: "manual resume",
    5: "auto pause",
    6: "manual pause",
    7: "night animal protection",
    8: "bad-weather protection",
    9: "do not disturb",
    10: "low-battery recharge",
    11: "no night work",
    12: "completed",
    13: "interrupted",
    14: "user stopped",
}


def bad_shape(message: str, value: Any) -> BadResponse:
    try:
        text = json.dumps(value, ensure_ascii=False)[:4000]
    except (TypeError, ValueError):
        text = repr(value)[:4000]
    return BadResponse(f"Mammotion: {message}", excerpt=make_excerpt(text))


# --- devices (4.4.3-4.4.5) ------------------------------------------------------------


def is_station(model: str | None, name: str | None) -> bool:
    """4.4.3: ``model`` starting with Rtk/RTK or ``name`` starting with RTK."""
    return (model or "").lower().startswith("rtk") or (name or "").upper().startswith("RTK")


def parse_mower(item: Any) -> RemoteDevice | None:
    item = as_dict(item)
    device_id = as_text(item.get("id"))
    if device_id is None:
        return None
    name, model = as_text(item.get("name")), as_text(item.get("model"))
    return RemoteDevice(
        vendor=MAMMOTION,
        remote_id=device_id,
        name=as_text(item.get("nickname")) or name or device_id,
        model=model,
        firmware=as_text(item.get("version")),
        online=as_bool(item.get("online")),
        icon_url=as_text(item.get("icon")),
        is_station=is_station(model, name),
        extra={"name": name, "nickname": as_text(item.get("nickname"))},
    )


def _as_records(data: Any, what: str) -> list:
    if data is None:
        return []
    if not isinstance(data, list):
        raise bad_shape(f"{what}: data is not a list", data)
    return data


def parse_mowers(data: Any) -> list[RemoteDevice]:
    mowers = (parse_mower(item) for item in _as_records(data, "mowers"))
    return [mower for mower in mowers if mower is not None]


def _network(value: Any) -> NetworkInfo | None:
    if not isinstance(value, dict):
        return None
    used = as_str(value.get("usedNetwork"))
    return NetworkInfo(
        used_network={"1": "wifi", "2": "cellular"}.get(used or "", used),
        wifi_available=as_bool(value.get("wifiAvailable")),
        wifi_rssi=as_int(value.get("wifiRssi")),
        wifi_ip=as_text(value.get("wifiIp")),
        cellular_available=as_bool(value.get("cellularAvailable")),
        cellular_rssi=as_int(value.get("cellularRssi")),
    )


def parse_status(data: Any, device_id: str) -> DeviceStatus:
    """4.4.4: ``data`` is an object or a one-element list."""
    if isinstance(data, list):
        data = data[0] if data else None
    if not isinstance(data, dict):
        raise bad_shape("mower detail is not an object", data)
    name = as_text(data.get("name"))
    return DeviceStatus(
        device_id=as_text(data.get("id")) or device_id,
        name=as_text(data.get("nickname")) or name,
        model=as_text(data.get("model")),
        firmware=as_text(data.get("version")),
        online=as_bool(data.get("online")),
        status=as_text(data.get("status")),
        battery=as_int(data.get("batteryLevel")),
        charge_status=as_int(data.get("chargeStatus")),
        network=_network(data.get("network")),
        extra={"name": name, "icon": as_text(data.get("icon"))},
    )


def parse_tasks(data: Any) -> list[SavedTask]:
    tasks = []
    for item in _as_records(data, "plan"):
        name = as_text(as_dict(item).get("taskName"))
        if name is not None:
            tasks.append(SavedTask(task_id=as_text(item.get("taskId")), name=name))
    return tasks


def parse_action(data: Any, *, clean: Callable[[str], str] = str) -> CommandResult:
    """4.4.6: ``commandResult`` false -> CommandRejected with ``resultMessage``."""
    data = as_dict(data)
    message = as_text(data.get("resultMessage"))
    message = clean(message)[:200] if message else None
    if as_bool(data.get("commandResult")) is False:
        raise CommandRejected(f"Mammotion refused the command: {message}", vendor_message=message)
    return CommandResult(accepted=True, message=message)


# --- work reports (4.4.7-4.4.9) -------------------------------------------------------


def parse_report(item: Any, device_id: str) -> RemoteRun | None:
    item = as_dict(item)
    work_id = as_text(item.get("workId"))
    if work_id is None:
        return None
    raw_result = as_int(item.get("workResult"))
    work_type = as_int(item.get("workType"))
    return RemoteRun(
        vendor=MAMMOTION,
        remote_id=work_id,
        device_id=device_id,
        # The list has no start time; the detail has startWorkTime (4.4.9).
        started_at=from_unix_ms(item.get("startWorkTime")),
        ended_at=from_unix_ms(item.get("endWorkTime")),
        duration_s=as_int(as_float(item.get("workTimeUsed"))),
        area_m2=as_float(item.get("workArea")),
        mode=WORK_TYPES.get(work_type, None if work_type is None else str(work_type)),
        result=WORK_RESULTS.get(raw_result, RunResult.UNKNOWN),
        result_raw=None if raw_result is None else str(raw_result),
        progress=as_float(item.get("workProgress")),
        extra={"workType": work_type, "workResult": raw_result},
    )


def parse_report_page(data: Any, device_id: str) -> tuple[list[RemoteRun], int | None, int]:
    """(runs, pages or None, raw record count)."""
    if not isinstance(data, dict):
        raise bad_shape("work-report page is not an object", data)
    records = as_list(data.get("records"))
    runs = [run for run in (parse_report(r, device_id) for r in records) if run is not None]
    return runs, as_int(data.get("pages")), len(records)


def parse_summary(data: Any) -> LifetimeTotals:
    """4.4.8: saveTime minutes, carbonReduction grams, totalWorkArea m²."""
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise bad_shape("summary is not an object", data)
    return LifetimeTotals(
        run_count=as_int(as_float(data.get("workCount"))),
        area_m2=as_float(data.get("totalWorkArea")),
        time_saved_min=as_float(data.get("saveTime")),
        carbon_g=as_float(data.get("carbonReduction")),
    )


_PARAM_FIELDS = {
    "jobContent": "job_content",
    "knifeHeight": "knife_height",
    "speed": "speed",
    "channelMode": "channel_mode",
    "channelWidth": "channel_width",
    "edgeMode": "edge_mode",
    "toward": "toward",
    "towardMode": "toward_mode",
    "ultraWave": "ultra_wave",
}
_INT_PARAMS = {"job_content", "channel_mode", "edge_mode", "toward_mode", "ultra_wave"}


def parse_work_params(value: Any) -> WorkParams | None:
    if not isinstance(value, dict):
        return None
    known = {}
    for key, name in _PARAM_FIELDS.items():
        read = as_int if name in _INT_PARAMS else as_float
        known[name] = read(value.get(key))
    extra = {str(k): v for k, v in value.items() if k not in _PARAM_FIELDS}
    return WorkParams(**known, extra=extra)


def parse_events(value: Any) -> tuple[TimelineEvent, ...]:
    events = []
    for item in as_list(value):
        if not isinstance(item, dict):
            continue
        code = as_int(item.get("eventCode"))
        label = EVENT_LABELS.get(code, f"event {code}") if code is not None else "unknown"
        events.append(TimelineEvent(at=from_unix_ms(item.get("timeStamp")), code=code, label=label))
    return tuple(sorted(events, key=lambda event: event.at or _EPOCH))


def parse_report_detail(data: Any, device_id: str, work_id: str) -> MowerRunDetail:
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict):
        raise bad_shape("work-report detail is not an object", data)
    run = parse_report({**data, "workId": as_text(data.get("workId")) or work_id}, device_id)
    if run is None:  # only when work_id itself is blank
        raise bad_shape("work-report detail without workId", data)
    return MowerRunDetail(
        run=run,
        energy_wh=as_float(data.get("energyConsume")),
        time_saved_min=as_float(data.get("saveTime")),
        carbon_g=as_float(data.get("carbonReduction")),
        job_content=as_int(data.get("jobContent")),
        events=parse_events(data.get("workProcess")),
        work_params=parse_work_params(data.get("workParam")),
        map_url=as_text(data.get("mapFilePath")),
    )


# --- faults (4.4.10) ------------------------------------------------------------------


def _attachments(*lists: Any) -> tuple[Attachment, ...]:
    found = []
    for item in (item for value in lists for item in as_list(value)):
        url = as_text(as_dict(item).get("url"))
        if url:
            found.append(
                Attachment(
                    as_text(item.get("buttonType")),
                    as_text(item.get("buttonName")),
                    url,
                    as_int(item.get("sort")),
                )
            )
    return tuple(found)


def parse_fault(item: Any, device_id: str) -> RemoteFault | None:
    item = as_dict(item)
    code = as_int(item.get("code"))
    occurred = as_int(as_float(item.get("gmtCreate")))
    created = as_int(as_float(item.get("createTime")))
    if code is None and occurred is None:
        return None
    return RemoteFault(
        vendor=MAMMOTION,
        remote_id=f"{code}-{occurred if occurred is not None else created}",
        device_id=device_id,
        code=code,
        title=as_text(item.get("implication")),
        solution=as_text(item.get("solution")),
        occurred_at=from_unix_ms(occurred),
        created_at=from_unix_ms(created),
        level=as_int(item.get("faultLevel")),
        priority=as_int(item.get("priority")),
        attachments=_attachments(
            item.get("imageList"), item.get("videoList"), item.get("buttonList")
        ),
    )


def parse_fault_page(data: Any, device_id: str) -> tuple[list[RemoteFault], bool]:
    """(faults, has_more)."""
    if not isinstance(data, dict):
        raise bad_shape("fault page is not an object", data)
    faults = (parse_fault(item, device_id) for item in as_list(data.get("records")))
    return [fault for fault in faults if fault is not None], as_bool(data.get("hasMore")) is True
