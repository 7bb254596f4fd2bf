"""The 360 Smart endpoints of ``q.smart.360.cn`` (cloud-apis.md 3.5, 5.3.2, 5.3.3).

Each endpoint is a function ``(cloud, account, form) -> SimResponse``; the cloud model
has already checked the session. Envelopes are exactly ``{errno, errmsg, data}``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from simulator.interface import SimResponse
from simulator.qihoo360_push import ANSWER_DELAY, unsolicited_taskid
from simulator.qihoo360_seed import Account, Device

if TYPE_CHECKING:
    from simulator.qihoo360 import Qihoo360Cloud

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
COURT_M2 = 145  # one basketball court, for the clues text of statis (5.3.1)


def ok(data=None) -> SimResponse:
    return SimResponse(
        body={"errno": 0, "errmsg": "Succeeded", "data": {} if data is None else data}
    )


def error(errno: int, errmsg: str, error_code: int | None = None) -> SimResponse:
    body: dict = {"errno": errno, "errmsg": errmsg}
    if error_code is not None:
        body["errorCode"] = error_code
    return SimResponse(body=body)


def param_error() -> SimResponse:
    return error(9999, "param error")


def device_for(cloud: Qihoo360Cloud, account: Account, form: dict) -> Device | SimResponse:
    """The device named by ``sn``: 9999 when missing, 205 when not this account's."""
    sn = form.get("sn", "").strip()
    if not sn:
        return param_error()
    device = cloud.devices.get(sn)
    if device is None or sn not in cloud.visible_sns(account.qid):
        return error(205, "no permission", error_code=205)
    return device


# -- devices ------------------------------------------------------------------------------


def dev_get_list(cloud: Qihoo360Cloud, account: Account, form: dict) -> SimResponse:
    items = [cloud.devices[sn] for sn in cloud.visible_sns(account.qid)]
    return ok({"list": [list_item(cloud, account, device) for device in items]})


def list_item(cloud: Qihoo360Cloud, account: Account, device: Device) -> dict:
    owned = device.owner == account.qid
    owner = cloud.accounts.get(device.owner)
    return {
        "sn": device.sn,
        "devType": 3,
        "icon": f"{cloud.origin()}/_sim/360/files/icons/{device.hardware}.png",
        "title": device.title,
        "hardware": device.hardware,
        "pkcode": "",
        "hwSn": "",
        "version": device.version,
        "versionCode": device.version_code,
        "role": 2 if owned else 1,
        "online": 1 if device.online else 0,
        "support": device.support,
        "alexaDefault": 0,
        "ownerQid": 0 if owned else int(device.owner),
        "ownerImage": "",
        "ownerNickName": "" if owned or owner is None else owner.nick,
        "bindTime": 0,
    }


def update_info(cloud: Qihoo360Cloud, account: Account, form: dict) -> SimResponse:
    device = device_for(cloud, account, form)
    if isinstance(device, SimResponse):
        return device
    title = form.get("title", "").strip()
    if not title:
        return param_error()
    device.title = title
    return ok({})


# -- records ------------------------------------------------------------------------------


def record_list(cloud: Qihoo360Cloud, account: Account, form: dict) -> SimResponse:
    device = device_for(cloud, account, form)
    if isinstance(device, SimResponse):
        return device
    try:
        page_size = int(form.get("pageSize") or DEFAULT_PAGE_SIZE)
    except ValueError:
        page_size = DEFAULT_PAGE_SIZE
    page_size = min(MAX_PAGE_SIZE, page_size if page_size > 0 else DEFAULT_PAGE_SIZE)
    records = device.history()  # oldest first
    last_id = form.get("lastId", "")
    if last_id:
        position = device.position(last_id)
        if position is None:
            return ok({"list": []})  # an unknown lastId pages into nothing (5.3.3)
        end = position
    else:
        end = len(records)
    page = records[max(0, end - page_size) : end]
    return ok({"list": [dict(item) for item in reversed(page)]})


def record_one(cloud: Qihoo360Cloud, account: Account, form: dict) -> SimResponse:
    device = device_for(cloud, account, form)
    if isinstance(device, SimResponse):
        return device
    clean_id = form.get("cleanId", "").strip()
    if not clean_id:
        return param_error()
    record = cloud.map_record(device, clean_id)
    if record is None:
        return error(9999, "record not found")
    return ok({"record": record})


def statis(cloud: Qihoo360Cloud, account: Account, form: dict) -> SimResponse:
    device = device_for(cloud, account, form)
    if isinstance(device, SimResponse):
        return device
    area, count, seconds = cloud.device_totals(device)
    return ok(
        {
            "cleanArea": area,
            "cleanCount": count,
            "cleanTime": seconds,
            "clues": clues(area, seconds),
            "mopArea": 0,
        }
    )


def clues(area: int, seconds: int) -> str:
    courts, hours = area / COURT_M2, seconds / 3600
    return (
        f"The accumulated cleaning area is equivalent to (({courts:.1f})) basketball courts, "
        f"saving you (({hours:.1f})) hours"
    )


def all_statis(cloud: Qihoo360Cloud, account: Account, form: dict) -> SimResponse:
    sns = cloud.visible_sns(account.qid)
    totals = [cloud.device_totals(cloud.devices[sn]) for sn in sns]
    return ok(
        {
            "allCleanArea": sum(area for area, _, _ in totals),
            "allCleanCount": sum(count for _, count, _ in totals),
            "allCleanTime": sum(seconds for _, _, seconds in totals),
            "allMopArea": 0,
            "bindNum": len(sns),
        }
    )


def recently_clean_list(cloud: Qihoo360Cloud, account: Account, form: dict) -> SimResponse:
    """Area per day for the last 7 days and per month for the last 6 months, in the
    client's UTC offset (``timezone``, hours; the real format is unknown, 3.5.9)."""
    device = device_for(cloud, account, form)
    if isinstance(device, SimResponse):
        return device
    try:
        offset = max(-14.0, min(14.0, float(form.get("timezone") or 0)))
    except ValueError:
        offset = 0.0
    today = local_date(cloud.clock.now(), offset)
    days = [today - timedelta(days=back) for back in range(6, -1, -1)]
    months = last_months(today, 6)
    by_day = dict.fromkeys(days, 0)
    by_month = dict.fromkeys(months, 0)
    for record in reversed(device.history()):  # newest first: stop at the oldest month
        day = local_date(record["startTime"], offset)
        month = (day.year, day.month)
        if month < months[0]:
            break
        if day in by_day:
            by_day[day] += record["cleanArea"]
        if month in by_month:
            by_month[month] += record["cleanArea"]
    return ok(
        {
            "week": [{"date": day.isoformat(), "area": by_day[day]} for day in days],
            "month": [{"date": f"{y:04d}-{m:02d}", "area": by_month[(y, m)]} for y, m in months],
        }
    )


def local_date(timestamp: float, offset_hours: float) -> date:
    return datetime.fromtimestamp(timestamp + offset_hours * 3600, tz=UTC).date()


def last_months(today: date, count: int) -> list[tuple[int, int]]:
    """(year, month 1-12) of the ``count`` months up to and including today's."""
    index = today.year * 12 + today.month - 1
    return [(i // 12, i % 12 + 1) for i in range(index - count + 1, index + 1)]


def invite_list(cloud: Qihoo360Cloud, account: Account, form: dict) -> SimResponse:
    device = device_for(cloud, account, form)
    if isinstance(device, SimResponse):
        return device
    guests = []
    for qid in device.shared_with:
        guest = cloud.accounts.get(qid)
        nick = guest.nick if guest else ""
        created = device.anchor - 90 * 86400  # shared a quarter ago
        guests.append(
            {"qid": qid, "nickName": nick, "image": "", "status": 1, "createTime": created}
        )
    return ok({"list": guests})


# -- commands -----------------------------------------------------------------------------


def cmd_send(cloud: Qihoo360Cloud, account: Account, form: dict) -> SimResponse:
    """Acknowledge at once; the robot's answer is a push 0.5 s later (3.5.4, 5.3.3)."""
    device = device_for(cloud, account, form)
    if isinstance(device, SimResponse):
        return device
    raw_type = form.get("infoType", "").strip()
    if not raw_type:
        return param_error()
    if not device.online:
        return error(212, "device offline")
    try:
        info_type = int(raw_type)
    except ValueError:
        return param_error()
    data, readable = parse_command_data(form.get("data", ""))
    taskid = form.get("taskid") or unsolicited_taskid(cloud.clock.now())
    if tripwire_reason(raw_type, form.get("data", "")):
        answer = ("ok", {})  # plausible for the product; the violation is already recorded
    elif not readable:
        answer = ("fail", {})
    else:
        answer = cloud.apply_command(device, info_type, data)
    if answer is not None:
        message, payload = answer
        due = cloud.clock.now() + ANSWER_DELAY
        cloud.publish(device, due, taskid, info_type, payload, message)
    return ok({})


def parse_command_data(raw: str) -> tuple[dict, bool]:
    """``data`` is compact JSON text or "" (3.5.4). Returns (object, readable)."""
    if not raw.strip():
        return {}, True
    try:
        value = json.loads(raw)
    except ValueError:
        return {}, False
    return (value, True) if isinstance(value, dict) else ({}, True)


def tripwire_reason(raw_type: str, raw_data: str) -> str | None:
    """What a never-call command would do (Appendix A.3), or None for any other."""
    data, _ = parse_command_data(raw_data)
    info_type = raw_type.strip()
    if info_type == "21020" and str(data.get("ctrlCode")) in ("3004", "3012"):
        return f"21020 ctrlCode {data.get('ctrlCode')} (Wi-Fi / factory reset)"
    if info_type == "21021":
        return "21021 (firmware update)"
    if info_type == "21024" and data.get("cmd") in ("reboot", "cancleMap"):
        return f"21024 {data.get('cmd')}"
    if info_type == "21028" and data.get("cmd") == "deleteWifi":
        return "21028 deleteWifi"
    return None


ROUTES = {
    "/common/dev/GetList": dev_get_list,
    "/clean/devuser/updateInfo": update_info,
    "/clean/cmd/send": cmd_send,
    "/clean/record/getList": record_list,
    "/clean/record/getOne": record_one,
    "/clean/record/statis": statis,
    "/clean/record/allStatis": all_statis,
    "/clean/record/recentlycleanlist": recently_clean_list,
    "/common/share/getInviteList": invite_list,
}
