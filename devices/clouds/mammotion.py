"""The Mammotion Open API client for mowers (surface B, cloud-apis.md 4.4 and 4.7).

Framework-free: the caller passes a ``requests.Session``, the developer credentials, a
``TokenStore`` (persistence and the cross-worker lock are the service's), base URLs
and timeouts. Tokens are handled by ``mammotion_tokens.TokenManager``.

D-MAM-4: this module deliberately has no method for the work-parameters endpoint of
4.4.11 (it commands the mower); a test asserts no request path ends with it.

Not thread-safe: use one client per task (the token store may be shared).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import requests

from ._coerce import to_unix_ms
from .base import (
    CommandResult,
    DeviceStatus,
    LifetimeTotals,
    MowerRunDetail,
    RemoteDevice,
    RemoteFault,
    RemoteRun,
    SavedTask,
)
from .errors import AuthExpired, CloudError
from .mammotion_envelope import QueryRejected, TokenRejected, read_envelope
from .mammotion_parse import (
    parse_action,
    parse_fault_page,
    parse_mowers,
    parse_report_detail,
    parse_report_page,
    parse_status,
    parse_summary,
    parse_tasks,
)
from .mammotion_tokens import Now, TokenManager, TokenStore, utc_now
from .redact import Redactor
from .transport import HttpTransport, normalise_base_url

log = logging.getLogger(__name__)

DEFAULT_AUTH_URL = "https://id.mammotion.com"
DEFAULT_OPEN_API_URL = "https://api-open.mammotion.com"
VENDOR = "Mammotion cloud"
# Search endpoints are POSTs without side effects: reads (one retry on connection errors).
_READ_POSTS = frozenset(
    {
        "/v1/mower/work-reports/search",
        "/v1/mower/work-reports/summary",
        "/v1/mower/error-codes/search",
    }
)
HISTORY_DAYS = 30  # 4.4.7 / 4.4.10: the product reads the last 30 days


class MowerAction(StrEnum):
    """4.4.6 actions; START needs the exact ``taskName`` of a saved task."""

    CMD_START = "CMD_START"
    START = "START"
    PAUSE = "PAUSE"
    RESUME = "RESUME"
    STOP = "STOP"
    RETURN = "RETURN"
    CANCEL_RETURN = "CANCEL_RETURN"


class ReportVariant(StrEnum):
    """4.4.7: body forms of work-reports/search, tried in this order on code 40200."""

    PAGING = "paging"
    RANGE_30 = "range30"
    RANGE_7 = "range7"
    BARE = "bare"


class MammotionClient:
    """One Open API credential (``client_id``/``client_secret``) and its mowers.

    ``report_variants`` maps device id -> the work-report body variant that worked
    (4.4.7); pass the dict back in (e.g. from a cache) to keep it across clients.
    """

    def __init__(
        self,
        session: requests.Session,
        *,
        client_id: str,
        client_secret: str,
        token_store: TokenStore,
        timeout: tuple[float, float],
        auth_url: str = DEFAULT_AUTH_URL,
        api_url: str = DEFAULT_OPEN_API_URL,
        retry_pause: float = 1.0,
        language: str = "en-US",
        report_variants: dict[str, str] | None = None,
        now: Now = utc_now,
    ):
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        self._api = normalise_base_url(api_url)
        self._language = language
        self._now = now
        self._http = HttpTransport(
            session,
            timeout=timeout,
            retry_pause=retry_pause,
            redactor=Redactor(client_secret),
            vendor=VENDOR,
        )
        self._tokens = TokenManager(
            self._http,
            token_url=normalise_base_url(auth_url) + "/oauth2/token",
            client_id=client_id,
            client_secret=client_secret,
            store=token_store,
            now=now,
        )
        self.report_variants: dict[str, str] = (
            report_variants if report_variants is not None else {}
        )

    @property
    def requests_made(self) -> int:
        """API and token requests together."""
        return self._http.requests_made

    def __repr__(self) -> str:
        return "<MammotionClient>"

    # --- devices (4.4.3-4.4.5) --------------------------------------------------------

    def list_devices(self) -> list[RemoteDevice]:
        # 4.4.3: GET /v1/mowers
        return parse_mowers(self._call("GET", "/v1/mowers"))

    def get_status(self, device_id: str) -> DeviceStatus:
        # 4.4.4: GET /v1/mower/{deviceId}
        return parse_status(self._call("GET", f"/v1/mower/{_seg(device_id)}"), device_id)

    def list_tasks(self, device_id: str) -> list[SavedTask]:
        # 4.4.5: GET /v1/mower/{deviceId}/plan
        return parse_tasks(self._call("GET", f"/v1/mower/{_seg(device_id)}/plan"))

    # --- actions (4.4.6) --------------------------------------------------------------

    def send_action(
        self, device_id: str, action: MowerAction | str, *, task_name: str | None = None
    ) -> CommandResult:
        """POST /v1/mower/action, always with ``params``; ``commandResult`` false raises
        CommandRejected. Never retried (except the single retry after a 401 renewal)."""
        action = MowerAction(action)
        params: dict[str, str] = {}
        if action is MowerAction.START:
            if not task_name:
                raise ValueError("START needs the exact taskName of a saved task")
            params["taskName"] = task_name
        body = {"deviceId": device_id, "action": action.value, "params": params}
        data = self._call("POST", "/v1/mower/action", body)
        return parse_action(data, clean=self._http.redactor.clean)

    def start_now(self, device_id: str) -> CommandResult:
        return self.send_action(device_id, MowerAction.CMD_START)

    def start_task(self, device_id: str, task_name: str) -> CommandResult:
        return self.send_action(device_id, MowerAction.START, task_name=task_name)

    def pause(self, device_id: str) -> CommandResult:
        return self.send_action(device_id, MowerAction.PAUSE)

    def resume(self, device_id: str) -> CommandResult:
        return self.send_action(device_id, MowerAction.RESUME)

    def stop(self, device_id: str) -> CommandResult:
        return self.send_action(device_id, MowerAction.STOP)

    def return_to_dock(self, device_id: str) -> CommandResult:
        return self.send_action(device_id, MowerAction.RETURN)

    def cancel_return(self, device_id: str) -> CommandResult:
        return self.send_action(device_id, MowerAction.CANCEL_RETURN)

    # --- work reports (4.4.7-4.4.9) ---------------------------------------------------

    def list_runs(
        self, device_id: str, *, page_size: int = 50, max_pages: int = 50
    ) -> list[RemoteRun]:
        """Pages 1..pages of work-reports/search, newest ``endWorkTime`` first."""
        now = self._now()
        variant, (runs, pages, count) = self._first_report_page(device_id, page_size, now)
        collected = list(runs)
        page = 1
        while _more_report_pages(variant, page, pages, count, page_size, max_pages):
            page += 1
            body = _report_body(variant, device_id, page, page_size, now)
            data = self._call("POST", "/v1/mower/work-reports/search", body)
            runs, pages, count = parse_report_page(data, device_id)
            collected.extend(runs)
        unique = {run.remote_id: run for run in collected}
        oldest = datetime.min.replace(tzinfo=UTC)
        return sorted(unique.values(), key=lambda run: run.ended_at or oldest, reverse=True)

    def get_summary(self, device_id: str) -> LifetimeTotals:
        # 4.4.8: same body as search; paging fields are ignored, so send deviceId only.
        data = self._call("POST", "/v1/mower/work-reports/summary", {"deviceId": device_id})
        return parse_summary(data)

    def get_run_detail(self, device_id: str, work_id: str) -> MowerRunDetail:
        # 4.4.9: GET /v1/mower/{deviceId}/work-reports/{workId}; mapFilePath is short-lived.
        path = f"/v1/mower/{_seg(device_id)}/work-reports/{_seg(work_id)}"
        return parse_report_detail(self._call("GET", path), device_id, work_id)

    def _first_report_page(
        self, device_id: str, page_size: int, now: datetime
    ) -> tuple[ReportVariant, tuple[list[RemoteRun], int | None, int]]:
        """4.4.7: on code 40200 try the next body variant; remember the one that works."""
        remembered = self.report_variants.get(device_id)
        order = list(ReportVariant)
        if remembered in order:
            order.remove(ReportVariant(remembered))
            order.insert(0, ReportVariant(remembered))
        for variant in order:
            body = _report_body(variant, device_id, 1, page_size, now)
            try:
                data = self._call("POST", "/v1/mower/work-reports/search", body)
            except QueryRejected:
                log.info("Mammotion work-report form %s rejected for %s", variant, device_id)
                continue
            self.report_variants[device_id] = variant.value
            return variant, parse_report_page(data, device_id)
        raise CloudError(
            "Mammotion rejected every work-report query form (code 40200)",
            vendor_code=40200,
            user_message="Mammotion refused to list the mowing history of this device.",
        )

    # --- faults (4.4.10) --------------------------------------------------------------

    def list_faults(
        self,
        device_id: str,
        *,
        start: date | None = None,
        end: date | None = None,
        page_size: int = 50,
        max_pages: int = 20,
    ) -> list[RemoteFault]:
        """Fault history (default: the last 30 days), paging while ``hasMore``."""
        end = end or self._now().date()
        start = start or end - timedelta(days=HISTORY_DAYS)
        faults: list[RemoteFault] = []
        for page in range(1, max_pages + 1):
            body = {
                "deviceId": device_id,
                "pageNumber": page,
                "pageSize": page_size,
                "startDate": start.isoformat(),
                "endDate": end.isoformat(),
            }
            records, has_more = parse_fault_page(
                self._call("POST", "/v1/mower/error-codes/search", body), device_id
            )
            faults.extend(records)
            if not has_more or not records:
                break
        return faults

    # --- plumbing (4.4.2, 4.7) --------------------------------------------------------

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        """One API call; on a 401 renew the token and retry once (4.7 step 4)."""
        token = self._tokens.access_token()
        try:
            return self._exchange(method, path, body, token)
        except TokenRejected:
            log.info("Mammotion API refused the token on %s; renewing once", path)
        token = self._tokens.renew_after_unauthorized(token)
        try:
            return self._exchange(method, path, body, token)
        except TokenRejected as again:
            raise AuthExpired(
                f"{again} (again with a newly issued token)",
                http_status=again.http_status,
                user_message="Mammotion keeps rejecting this API client. Link the account again.",
            ) from None

    def _exchange(self, method: str, path: str, body: dict | None, token: str) -> Any:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept-Language": self._language,
            "Accept": "application/json",
        }
        payload = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        read = method == "GET" or path in _READ_POSTS
        response = self._http.send(
            method, self._api + path, read=read, headers=headers, body=payload
        )
        return read_envelope(self._http, response)


def _seg(value: str) -> str:
    """4.4.2: path parameters are URL-path-encoded."""
    return quote(value, safe="")


def _more_report_pages(
    variant: ReportVariant, page: int, pages: int | None, count: int, page_size: int, limit: int
) -> bool:
    """4.4.7: pages 1..pages, stopping early on an empty page; without ``pages`` stop on
    a short page. The bare variant has no paging fields, so it has one page only."""
    if variant is ReportVariant.BARE or count == 0 or page >= limit:
        return False
    return page < pages if pages is not None else count >= page_size


def _report_body(
    variant: ReportVariant, device_id: str, page: int, page_size: int, now: datetime
) -> dict:
    body: dict[str, Any] = {"deviceId": device_id}
    if variant is ReportVariant.BARE:
        return body
    body.update(pageNumber=page, pageSize=page_size)
    days = {ReportVariant.RANGE_30: 30, ReportVariant.RANGE_7: 7}.get(variant)
    if days:
        body.update(
            endWorkTimeStart=to_unix_ms(now - timedelta(days=days)), endWorkTimeEnd=to_unix_ms(now)
        )
    return body
