"""Pure parsers for 360 Smart responses (cloud-apis.md 3.4.2-3.5.10).

Each parser takes the decoded JSON value and returns typed results, or raises a
``CloudError`` (``BadResponse`` for shapes it cannot read). Unknown fields are ignored,
missing optional fields become None, single bad items are skipped (D-X-3).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from ._coerce import as_dict, as_float, as_int, as_str, as_text, from_unix_seconds
from .base import (
    QIHOO360,
    ClueText,
    LifetimeTotals,
    PeriodPoint,
    PeriodSeries,
    RemoteDevice,
    RemoteRun,
    RunResult,
    ShareEntry,
)
from .errors import (
    AuthExpired,
    BadResponse,
    CloudError,
    DeviceOffline,
    NoPermission,
    make_excerpt,
)

log = logging.getLogger(__name__)

ERRNO_SESSION_EXPIRED = 102
ERRNO_NOT_AUTHORISED = 103
ERRNO_NO_PERMISSION = 205
ERRNO_OFFLINE = 212
QT_REJECTED = "360 no longer accepts these Q/T cookies. Link the account again."


class SessionExpired(AuthExpired):
    """errno/errorCode 102 or HTTP 401: the SID is gone (3.4.3). Renewable in method 2."""

    default_user_message = "The 360 session (SID) has expired. Link the account again."


def bad_shape(message: str, value: Any, clean: Callable[[str], str] = str) -> BadResponse:
    try:
        text = json.dumps(value, ensure_ascii=False)[:4000]
    except (TypeError, ValueError):
        text = repr(value)[:4000]
    return BadResponse(f"360 Smart cloud: {message}", excerpt=make_excerpt(text, clean))


# --- envelope (3.4.2, 3.4.3) ----------------------------------------------------------


def unwrap_envelope(body: Any, *, clean: Callable[[str], str] = str, login: bool = False) -> Any:
    """``data`` of a successful envelope (absent -> ``{}``); else the mapped error.

    A non-zero top-level ``errorCode`` wins over ``errno``; ``errno`` may be a numeric
    string. At ``/common/user/login`` every failure means Q/T were rejected (3.3.3).
    """
    if not isinstance(body, dict):
        raise bad_shape("envelope is not a JSON object", body, clean)
    error_code = as_int(body.get("errorCode"))
    if error_code:
        code: int | None = error_code
    elif "errno" in body:
        code = as_int(body.get("errno"))
    else:
        raise bad_shape("envelope without errno", body, clean)
    if code == 0:
        data = body.get("data")
        return {} if data is None else data
    message = clean(as_str(body.get("errmsg")) or "")[:200]
    raise _error_for(code, message, login=login)


def _error_for(code: int | None, message: str, *, login: bool) -> CloudError:
    label = f"errno {code}" if code is not None else "a non-numeric errno"
    detail = f"360 Smart cloud answered {label}: {message or 'no message'}"
    if login:
        return AuthExpired(detail, vendor_code=code, user_message=QT_REJECTED)
    if code == ERRNO_SESSION_EXPIRED:
        return SessionExpired(detail, vendor_code=code)
    if code == ERRNO_NOT_AUTHORISED:
        # 103 is documented for the login only; elsewhere it still means the session is
        # gone, but it is not one of the renewal triggers of 3.3.3.
        return AuthExpired(detail, vendor_code=code)
    if code == ERRNO_NO_PERMISSION:
        return NoPermission(detail, vendor_code=code)
    if code == ERRNO_OFFLINE:
        return DeviceOffline(detail, vendor_code=code)
    number = f"error {code}" if code is not None else "unknown error"
    shown = f"{message} ({number})" if message else number.capitalize()
    return CloudError(detail, vendor_code=code, user_message=f"360 Smart cloud: {shown}")


# --- devices (3.5.2, 3.6.1) -----------------------------------------------------------


def parse_support(value: Any) -> tuple[dict[str, bool], bool]:
    """(flags, known). ``support`` is a JSON string or an object; unparsable -> unknown
    (everything available); explicit 0 -> hidden; anything else -> available."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return {}, False
    if not isinstance(value, dict):
        return {}, False
    flags = {
        str(name): not (flag is False or as_int(flag) == 0)
        for name, flag in value.items()
        if isinstance(name, str)
    }
    return flags, True


_DEVICE_EXTRA = ("devType", "role", "ownerQid", "ownerNickName", "ownerImage", "versionCode")


def parse_device(item: Any) -> RemoteDevice | None:
    """One GetList item; None when it has no usable ``sn``."""
    item = as_dict(item)
    sn = as_text(item.get("sn"))
    if sn is None:
        return None
    flags, known = parse_support(item.get("support"))
    online = as_int(item.get("online"))
    return RemoteDevice(
        vendor=QIHOO360,
        remote_id=sn,
        name=as_text(item.get("title")) or sn,
        model=as_text(item.get("hardware")),
        firmware=as_text(item.get("version")),
        online=None if online is None else online != 0,
        icon_url=as_text(item.get("icon")),
        capabilities=flags,
        capabilities_known=known,
        extra={key: item[key] for key in _DEVICE_EXTRA if key in item},
    )


def _list_of(data: Any, key: str = "list") -> list:
    """``data.list``, or ``data`` itself when it is a list; missing -> []."""
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        raise bad_shape(f"data is neither an object nor a list ({type(data).__name__})", data)
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_shape(f"data.{key} is not a list", data)
    return value


def parse_device_list(data: Any) -> list[RemoteDevice]:
    return [device for device in map(parse_device, _list_of(data)) if device is not None]


# --- records (3.5.5) ------------------------------------------------------------------


def _start_from_clean_id(clean_id: str) -> Any:
    """3.5.5: cleanId is "<SN>-<unix start seconds>"."""
    _, _, tail = clean_id.rpartition("-")
    return tail if tail.isdigit() else None


def parse_run(item: Any, sn: str) -> RemoteRun | None:
    item = as_dict(item)
    clean_id = as_text(item.get("cleanId"))
    if clean_id is None:
        return None
    start = item.get("startTime")
    if as_float(start) is None:
        start = _start_from_clean_id(clean_id)
    error_end = as_int(item.get("errorEnd"))
    if error_end:
        result = RunResult.ERROR
    elif error_end == 0:
        result = RunResult.COMPLETED
    else:
        result = RunResult.UNKNOWN
    return RemoteRun(
        vendor=QIHOO360,
        remote_id=clean_id,
        device_id=sn,
        started_at=from_unix_seconds(start),
        ended_at=from_unix_seconds(item.get("endTime")),
        duration_s=as_int(item.get("cleanTime")),
        area_m2=as_float(item.get("cleanArea")),
        mode=as_text(item.get("mode")),
        result=result,
        result_raw=None if error_end is None else str(error_end),
        error_code=error_end or None,
        extra={k: v for k, v in item.items() if isinstance(k, str)},
    )


def parse_runs_page(data: Any, sn: str) -> tuple[list[RemoteRun], int]:
    """(runs in server order, raw item count); the count drives the paging stop rule."""
    items = _list_of(data)
    runs = [run for run in (parse_run(item, sn) for item in items) if run is not None]
    return runs, len(items)


# --- statistics (3.5.7, 3.5.8) --------------------------------------------------------

_BOLD = re.compile(r"\(\((.*?)\)\)", re.DOTALL)


def parse_clues(text: Any) -> ClueText | None:
    """3.5.7: ``((…))`` marks numbers the app shows in bold; strip the brackets."""
    text = as_text(text)
    if text is None:
        return None
    segments: list[tuple[str, bool]] = []
    position = 0
    for match in _BOLD.finditer(text):
        if match.start() > position:
            segments.append((text[position : match.start()], False))
        segments.append((match.group(1), True))
        position = match.end()
    if position < len(text):
        segments.append((text[position:], False))
    return ClueText(text="".join(part for part, _ in segments), segments=tuple(segments))


def _object(data: Any, what: str) -> dict:
    if not isinstance(data, dict):
        raise bad_shape(f"{what}: data is not an object", data)
    return data


def parse_device_totals(data: Any) -> LifetimeTotals:
    data = _object(data, "statis")
    return LifetimeTotals(
        run_count=as_int(data.get("cleanCount")),
        area_m2=as_float(data.get("cleanArea")),
        duration_s=as_int(data.get("cleanTime")),
        mop_area_m2=as_float(data.get("mopArea")),
        clues=parse_clues(data.get("clues")),
    )


def parse_account_totals(data: Any) -> LifetimeTotals:
    data = _object(data, "allStatis")
    return LifetimeTotals(
        run_count=as_int(data.get("allCleanCount")),
        area_m2=as_float(data.get("allCleanArea")),
        duration_s=as_int(data.get("allCleanTime")),
        mop_area_m2=as_float(data.get("allMopArea")),
        device_count=as_int(data.get("bindNum")),
    )


# --- weekly / monthly series (3.5.9) --------------------------------------------------

_DATE_KEYS = ("date", "day", "month", "time", "label")
_AREA_KEYS = ("area", "cleanArea", "value")


def _parse_day(label: str) -> date | None:
    for text in (label, label + "-01"):
        try:
            return date.fromisoformat(text)
        except ValueError:
            continue
    return None


def _parse_point(item: Any) -> PeriodPoint | None:
    if not isinstance(item, dict):
        return None
    label = next((as_text(item.get(k)) for k in _DATE_KEYS if as_text(item.get(k))), None)
    area = next(
        (as_float(item.get(k)) for k in _AREA_KEYS if as_float(item.get(k)) is not None), None
    )
    if label is None or area is None:
        return None
    return PeriodPoint(label=label, day=_parse_day(label), area_m2=area)


def _parse_series(value: Any) -> tuple[PeriodPoint, ...] | None:
    """All items must be date + number objects; anything else -> None (hide the chart)."""
    if not isinstance(value, list):
        return None
    points = [_parse_point(item) for item in value]
    if any(point is None for point in points):
        return None
    return tuple(point for point in points if point is not None)


def parse_period_series(data: Any) -> PeriodSeries:
    data = as_dict(data)
    return PeriodSeries(
        week=_parse_series(data.get("week")), month=_parse_series(data.get("month"))
    )


_SERIES_LOG_INTERVAL_S = 86400
_series_logged_at: dict[str, float] = {}


def log_unknown_series_once(key: str, data: Any, clean: Callable[[str], str] = str) -> None:
    """3.5.9: log the raw payload of an unknown shape at most once a day per key."""
    now = time.time()
    if now - _series_logged_at.get(key, 0.0) < _SERIES_LOG_INTERVAL_S:
        return
    _series_logged_at[key] = now
    log.warning(
        "360 recentlycleanlist for %s has an unknown shape; chart hidden: %s",
        key.rpartition(":")[2],
        make_excerpt(repr(data), clean),
    )


def format_utc_offset(hours: float) -> str:
    """3.5.9 [INF]: the UTC offset in hours as a decimal string: "1", "5.5", "-4"."""
    text = f"{float(hours):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --- shares (3.5.10) ------------------------------------------------------------------

_SHARE_KNOWN = ("qid", "nickName", "image", "status", "createTime")


def parse_shares(data: Any) -> list[ShareEntry]:
    entries = []
    for item in _list_of(data):
        if not isinstance(item, dict):
            continue
        extra = {
            str(key): value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            for key, value in item.items()
            if key not in _SHARE_KNOWN
        }
        entries.append(
            ShareEntry(
                qid=as_text(item.get("qid")),
                nick_name=as_text(item.get("nickName")),
                image_url=as_text(item.get("image")),
                status=as_int(item.get("status")),
                created_at=from_unix_seconds(item.get("createTime")),
                extra=extra,
            )
        )
    return entries
