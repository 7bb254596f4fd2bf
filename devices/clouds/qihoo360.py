"""The 360 Smart cloud client for robot vacuums (cloud-apis.md section 3).

Framework-free: the caller passes a ``requests.Session``, the credentials, base URL
and timeouts; the client returns typed results (``base``) and raises the shared error
tree. It does not own persistence or locks: SID renewal (3.3.3) is delegated to the
``renew_sid`` callback, see ``Qihoo360Client``.

Not thread-safe: use one client per task (or per thread).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import requests

from ._coerce import as_dict, as_text
from .base import (
    CommandResult,
    LifetimeTotals,
    PeriodSeries,
    RemoteDevice,
    RemoteRun,
    RunMap,
    ShareEntry,
)
from .errors import AuthExpired, BadResponse, CloudError
from .qihoo360_commands import Command, build_command
from .qihoo360_map import parse_run_map
from .qihoo360_parse import (
    QT_REJECTED,
    SessionExpired,
    format_utc_offset,
    log_unknown_series_once,
    parse_account_totals,
    parse_device_list,
    parse_device_totals,
    parse_period_series,
    parse_runs_page,
    parse_shares,
    unwrap_envelope,
)
from .qihoo360_session import (
    Qihoo360Login,
    check_cookie_value,
    client_info_json,
    new_client_identity,
    normalise_cookie_value,
    normalise_title,
    qid_from_q_cookie,
)
from .redact import Redactor, shorten
from .transport import HttpTransport, normalise_base_url, outage_or_garbage

__all__ = [
    "Qihoo360Client",
    "Qihoo360Login",
    "new_client_identity",
    "normalise_title",
    "qid_from_q_cookie",
]

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://q.smart.360.cn"
VENDOR = "360 Smart cloud"
# 3.4.4: read endpoints that may be retried once although they are POSTs.
READ_PATHS = frozenset(
    {
        "/common/dev/GetList",
        "/clean/record/getList",
        "/clean/record/getOne",
        "/clean/record/statis",
        "/clean/record/allStatis",
        "/clean/record/recentlycleanlist",
        "/common/share/getInviteList",
    }
)
# 3.3.1: the q=/t= parts are dummies the server requires byte for byte.
_METHOD1_PREFIX = "q=u=&t=1;t=&v=2.0&a=1"

RenewSid = Callable[[str], str]


class Qihoo360Client:
    """One linked 360 account.

    Method 1 (3.3.1): ``qid`` + ``sid``. Method 2 (3.3.2): ``qid`` + ``q`` + ``t``, with
    ``login()`` to obtain the SID, and ``renew_sid`` to renew it.

    ``renew_sid(failed_sid) -> current_sid`` is called when an endpoint answers errno
    102, errorCode 102 or HTTP 401. The service implements 3.3.3 in it: take the
    account lock, compare the stored SID with ``failed_sid`` (another worker may have
    renewed already), rate-limit logins, call ``login()`` on a client of this account,
    persist the new SID and pushKey, and return the SID to use; or raise
    ``AuthExpired``. The client then retries the original request once; a second 102
    raises ``AuthExpired``. Without a callback 102 raises ``AuthExpired`` at once.
    """

    def __init__(
        self,
        session: requests.Session,
        *,
        qid: str,
        timeout: tuple[float, float],
        sid: str | None = None,
        q: str | None = None,
        t: str | None = None,
        push_key: str | None = None,
        renew_sid: RenewSid | None = None,
        api_url: str = DEFAULT_API_URL,
        retry_pause: float = 1.5,
        lang: str = "en_US",
        app_ver: str = "11.1.7",
    ):
        if not (qid or "").strip().isdigit():
            raise ValueError("the QID must be digits only")
        if (q is None) != (t is None):
            raise ValueError("method 2 needs both the Q and the T cookie")
        if q is None and not sid:
            raise ValueError("method 1 needs a SID")
        self._qid = qid.strip()
        self._q = check_cookie_value("Q", normalise_cookie_value(q)) if q is not None else None
        self._t = check_cookie_value("T", normalise_cookie_value(t)) if t is not None else None
        self._sid: str | None = None
        self._push_key = push_key
        self._renew_sid = renew_sid
        self._api = normalise_base_url(api_url)
        self._lang, self._app_ver = lang, app_ver
        self._redactor = Redactor(q, t, self._q, self._t, push_key)
        self._http = HttpTransport(
            session,
            timeout=timeout,
            retry_pause=retry_pause,
            redactor=self._redactor,
            vendor=VENDOR,
        )
        if sid:
            self._set_sid(sid)

    # --- state the service persists ---------------------------------------------------

    @property
    def requests_made(self) -> int:
        return self._http.requests_made

    @property
    def sid(self) -> str | None:
        return self._sid

    @property
    def push_key(self) -> str | None:
        return self._push_key

    @property
    def uses_qt_cookies(self) -> bool:
        return self._q is not None

    def __repr__(self) -> str:
        return f"<Qihoo360Client qid={self._qid} sid={shorten(self._sid)}>"

    # --- session (3.3, 3.5.1) ---------------------------------------------------------

    def login(self, *, notify_id: str, imei: str) -> Qihoo360Login:
        """Method 2: obtain a fresh SID and pushKey from Q/T (3.5.1). Any failure of
        the login itself raises ``AuthExpired`` (3.3.3 step 3). Never retried."""
        if self._q is None:
            raise ValueError("login() needs the Q and T cookies (method 2)")
        fields = {
            "clientInfo": client_info_json(notify_id=notify_id, imei=imei, lang=self._lang),
            "lang": self._lang,
            "phoneNum": "",
        }
        data = self._exchange("/common/user/login", fields, _new_task_id(), login=True)
        data = as_dict(data)
        sid = as_text(data.get("sid"))
        if sid is None or any(c in sid for c in "; \r\n\0"):
            raise self._http.bad_shape("login answered without a usable sid", data)
        self._set_sid(sid)
        self._push_key = as_text(data.get("pushKey"))
        self._redactor.add(self._push_key)
        log.info("360 account %s: logged in, SID %s", self._qid, shorten(sid))
        return Qihoo360Login(sid=sid, push_key=self._push_key)

    def cookie_header(self, *, login: bool = False) -> str:
        """3.3.1 / 3.3.2, byte-exact; set as a raw header, never via a cookie jar (3.3.4)."""
        if self._q is None:
            return f"{_METHOD1_PREFIX}; qid={self._qid}; sid={self._sid}"
        cookie = f"q={self._q};t={self._t};qid={self._qid}"
        return cookie if login or not self._sid else f"{cookie};sid={self._sid}"

    # --- devices (3.5.2-3.5.4) --------------------------------------------------------

    def list_devices(self) -> list[RemoteDevice]:
        # 3.5.2: POST /common/dev/GetList, no endpoint fields.
        return self._parse(parse_device_list, self._call("/common/dev/GetList"))

    def rename_device(self, sn: str, title: str) -> str:
        """3.5.3: returns the trimmed title that was stored."""
        title = normalise_title(title)
        self._call("/clean/devuser/updateInfo", {"sn": sn, "title": title})
        return title

    def send_command(
        self,
        sn: str,
        command: Command | str,
        *,
        level: str | None = None,
        clean_type: str = "total",
        volume: int | None = None,
    ) -> CommandResult:
        """3.5.4 / 3.6: the cloud only acknowledges; the robot answers on the push
        channel with the returned ``task_id``."""
        info_type, data = build_command(command, level=level, clean_type=clean_type, volume=volume)
        task_id = _new_task_id()
        fields = {"sn": sn, "infoType": info_type, "data": data}
        self._call("/clean/cmd/send", fields, task_id=task_id)
        return CommandResult(accepted=True, task_id=task_id)

    # --- history (3.5.5, 3.5.6) -------------------------------------------------------

    def get_runs_page(self, sn: str, *, last_id: str = "", page_size: int = 20) -> list[RemoteRun]:
        """One page of ``clean/record/getList`` in server order."""
        return self._runs_page(sn, last_id, page_size)[0]

    def iter_run_pages(
        self, sn: str, *, page_size: int = 20, max_pages: int = 100
    ) -> Iterator[list[RemoteRun]]:
        """Pages by ``lastId`` (3.5.5): stop on a short or empty page or a repeated
        cleanId. A sync can stop early once it meets a run it already has."""
        seen: set[str] = set()
        last_id = ""
        for _ in range(max_pages):
            runs, count = self._runs_page(sn, last_id, page_size)
            fresh = [run for run in runs if run.remote_id not in seen]
            seen.update(run.remote_id for run in runs)
            if fresh:
                yield fresh
            if not runs or count < page_size or len(fresh) < len(runs):
                return
            last_id = runs[-1].remote_id

    def list_runs(self, sn: str, *, page_size: int = 20, max_pages: int = 100) -> list[RemoteRun]:
        """All runs the cloud keeps, newest first (sorted client-side, 3.5.5)."""
        runs = [
            run
            for page in self.iter_run_pages(sn, page_size=page_size, max_pages=max_pages)
            for run in page
        ]
        oldest = datetime.min.replace(tzinfo=UTC)
        return sorted(runs, key=lambda run: run.started_at or oldest, reverse=True)

    def get_run(self, sn: str, clean_id: str) -> RunMap:
        # 3.5.6: POST /clean/record/getOne with sn and cleanId.
        data = self._call("/clean/record/getOne", {"sn": sn, "cleanId": clean_id})
        return self._parse(parse_run_map, data, sn, clean_id)

    def _runs_page(self, sn: str, last_id: str, page_size: int) -> tuple[list[RemoteRun], int]:
        fields = {"sn": sn, "lastId": last_id, "pageSize": str(page_size)}
        return self._parse(parse_runs_page, self._call("/clean/record/getList", fields), sn)

    # --- statistics and shares (3.5.7-3.5.10) -----------------------------------------

    def get_device_totals(self, sn: str) -> LifetimeTotals:
        return self._parse(parse_device_totals, self._call("/clean/record/statis", {"sn": sn}))

    def get_account_totals(self) -> LifetimeTotals:
        # 3.5.8: common parameters only (the app's "qid " and "sid" fields are not sent).
        return self._parse(parse_account_totals, self._call("/clean/record/allStatis"))

    def get_period_series(self, sn: str, *, utc_offset_hours: float) -> PeriodSeries:
        """3.5.9: a series of unknown shape comes back None (hide the chart) and the raw
        payload is logged at most once a day per device."""
        fields = {"sn": sn, "timezone": format_utc_offset(utc_offset_hours)}
        data = self._call("/clean/record/recentlycleanlist", fields)
        series = parse_period_series(data)
        if series.week is None or series.month is None:
            log_unknown_series_once(f"{self._qid}:{sn}", data, self._redactor.clean)
        return series

    def list_shares(self, sn: str) -> list[ShareEntry]:
        return self._parse(parse_shares, self._call("/common/share/getInviteList", {"sn": sn}))

    # --- plumbing ---------------------------------------------------------------------

    def _call(self, path: str, fields: dict[str, str] | None = None, *, task_id: str = "") -> Any:
        """POST with the common parameters; renew the SID once on 102 (3.3.3)."""
        task_id = task_id or _new_task_id()
        if not self._sid:
            self._renew("")
        used_sid = self._sid or ""
        try:
            return self._exchange(path, fields, task_id)
        except SessionExpired:
            if self._renew_sid is None:
                raise
        self._renew(used_sid)
        try:
            # Safe even for writes: the rejected first attempt was not executed (3.4.4).
            return self._exchange(path, fields, task_id)
        except SessionExpired as again:
            raise AuthExpired(
                f"{again} (again after renewing the SID)", vendor_code=again.vendor_code
            ) from None

    def _renew(self, failed_sid: str) -> None:
        if self._renew_sid is None:
            raise SessionExpired("360 Smart cloud: no SID and no way to renew it")
        log.info("360 account %s: SID %s rejected, renewing", self._qid, shorten(failed_sid))
        new_sid = self._renew_sid(failed_sid)
        if not isinstance(new_sid, str) or not new_sid or new_sid == failed_sid:
            raise AuthExpired("360 Smart cloud: SID renewal produced no new SID")
        self._set_sid(new_sid)

    def _set_sid(self, sid: str) -> None:
        self._sid = check_cookie_value("SID", sid.strip())
        if any(c.isspace() for c in self._sid):
            raise ValueError("SID contains whitespace")
        self._redactor.add(self._sid)

    def _exchange(
        self, path: str, fields: dict[str, str] | None, task_id: str, *, login: bool = False
    ) -> Any:
        """One POST, form-encoded with the common parameters (3.4.1); the envelope's
        ``data`` or the mapped error."""
        cookie = self.cookie_header(login=login)
        headers = {
            "Cookie": cookie if cookie.isascii() else cookie.encode("utf-8"),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept-Encoding": "gzip",
        }
        response = self._http.send(
            "POST",
            self._api + path,
            read=path in READ_PATHS,
            headers=headers,
            body=urlencode(self._form(fields, task_id)).encode("ascii"),
            retry_when=outage_or_garbage,
        )
        self._check_status(response, path, login=login)
        envelope = self._http.parse_json(response)
        return unwrap_envelope(envelope, clean=self._redactor.clean, login=login)

    def _form(self, fields: dict[str, str] | None, task_id: str) -> dict[str, str]:
        form = dict(fields or {})
        # 3.4.1: the app's interceptor adds these when the endpoint did not set them.
        common = (
            ("taskid", task_id),
            ("devType", "3"),
            ("lang", self._lang),
            ("appVer", self._app_ver),
            ("from", "mpc_and"),
        )
        for key, value in common:
            form.setdefault(key, value)
        return form

    def _check_status(self, response: requests.Response, path: str, *, login: bool) -> None:
        status = response.status_code
        if status == 401:
            # 3.4.3: HTTP 401 is handled like errno 102 (at login: Q/T rejected).
            message = f"360 Smart cloud: HTTP 401 on {path}"
            if login:
                raise AuthExpired(message, http_status=401, user_message=QT_REJECTED)
            raise SessionExpired(message, http_status=401)
        self._http.raise_for_throttle_or_outage(response)
        if status != 200:
            raise CloudError(
                f"360 Smart cloud: HTTP {status} on {path}",
                http_status=status,
                user_message=f"The 360 cloud answered HTTP {status}.",
            )

    def _parse(self, parser: Callable[..., Any], *args: Any) -> Any:
        """Run a pure parser; re-redact a BadResponse with this account's secrets."""
        try:
            return parser(*args)
        except BadResponse as exc:
            cleaned = BadResponse(
                self._redactor.clean(str(exc)), excerpt=self._redactor.clean(exc.excerpt)
            )
            log.warning("%s; excerpt: %s", cleaned, cleaned.excerpt)
            raise cleaned from None


def _new_task_id() -> str:
    """3.4.1: a new lowercase UUID4 (with dashes) per request."""
    return str(uuid.uuid4())
