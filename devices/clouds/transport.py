"""HTTP plumbing shared by the vendor clients.

One place for: explicit ``(connect, read)`` timeouts (requests has no default), the
request counter the sync layer uses for per-account budgets, the single retry of reads
on connection errors and timeouts (and, when the client asks, on answers such as 360's
HTTP 5xx or non-JSON bodies), and mapping transport failures and HTTP 429/5xx to the
error tree. POSTs that change something are never retried here (stack.md, R4).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from .errors import BadResponse, CloudError, RateLimited, Unavailable, make_excerpt
from .redact import Redactor

log = logging.getLogger(__name__)

USER_AGENT = "robot-dashboard/0.1"
# A vendor Retry-After must never stall a worker for long (stack.md: cap it).
MAX_RETRY_AFTER_S = 300.0


def normalise_base_url(url: str) -> str:
    """cloud-apis.md section 2: scheme, host, optional port and path; trailing / stripped."""
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("a cloud base URL must be an absolute http(s) URL")
    return url


def parse_retry_after(value: str | None, cap: float = MAX_RETRY_AFTER_S) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), capped; else None."""
    if not value or not value.strip():
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            moment = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), cap)


class HttpTransport:
    """Sends requests for one client; counts them; maps transport failures."""

    def __init__(
        self,
        session: requests.Session,
        *,
        timeout: tuple[float, float],
        retry_pause: float,
        redactor: Redactor,
        vendor: str,
    ):
        if len(timeout) != 2:
            raise ValueError("timeout must be a (connect, read) pair")
        self.session = session
        self.timeout = (float(timeout[0]), float(timeout[1]))
        self.retry_pause = retry_pause
        self.redactor = redactor
        self.vendor = vendor
        self._count = 0
        self._count_lock = threading.Lock()

    @property
    def requests_made(self) -> int:
        return self._count

    def send(
        self,
        method: str,
        url: str,
        *,
        read: bool,
        headers: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
        retry_when: Callable[[requests.Response], bool] | None = None,
    ) -> requests.Response:
        """One request; reads get one more attempt after ``retry_pause`` on a connection
        error or timeout (cloud-apis.md 3.4.4, 4.7), or when ``retry_when`` says the
        answer is worth one more try (360 reads: HTTP 5xx, unparseable body, 3.4.4).
        Everything else is the caller's."""
        all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
        attempts = 2 if read else 1
        error: CloudError = Unavailable(f"{self.vendor}: no attempt made")
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.retry_pause)
            with self._count_lock:
                self._count += 1
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=all_headers,
                    params=params,
                    data=body,
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                error = self._transport_error(method, url, exc)
                continue
            log.debug("%s %s %s -> HTTP %s", self.vendor, method, _path(url), response.status_code)
            if attempt + 1 < attempts and retry_when is not None and retry_when(response):
                log.warning(
                    "%s %s %s answered HTTP %s unusably; retrying once",
                    self.vendor,
                    method,
                    _path(url),
                    response.status_code,
                )
                response.close()
                continue
            return response
        # Raised outside the except block on purpose: the requests exception's text
        # can hold the full URL, and the Mammotion login URL carries the password.
        raise error

    def _transport_error(self, method: str, url: str, exc: Exception) -> CloudError:
        # Only the exception's class name is logged, never its text (see above).
        kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
        log.warning("%s %s %s %s (%s)", self.vendor, method, _path(url), kind, type(exc).__name__)
        return Unavailable(
            f"{self.vendor}: {method} {_path(url)} {kind} ({type(exc).__name__})",
            user_message=f"The {self.vendor} is not reachable right now. Try again later.",
        )

    def raise_for_throttle_or_outage(self, response: requests.Response) -> None:
        """HTTP 429 -> RateLimited; 408 and 5xx -> Unavailable (both with Retry-After)."""
        status = response.status_code
        if status != 429 and status != 408 and status < 500:
            return
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        path = _path(response.request.url if response.request else "")
        if status == 429:
            raise RateLimited(
                f"{self.vendor}: HTTP 429 on {path}",
                retry_after=retry_after,
                http_status=status,
                user_message=f"The {self.vendor} is throttling requests. Try again later.",
            )
        raise Unavailable(
            f"{self.vendor}: HTTP {status} on {path}",
            retry_after=retry_after,
            http_status=status,
            user_message=f"The {self.vendor} is having trouble right now. Try again later.",
        )

    def parse_json(self, response: requests.Response) -> Any:
        """The body as JSON. Not JSON at all (HTML, empty, truncated) -> BadResponse
        marked transient (cloud-apis.md 3.4.4 and 4.7)."""
        text = response.content.decode("utf-8-sig", errors="replace")
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            raise self.bad_response(
                f"body is not JSON (HTTP {response.status_code})", text, transient=True
            ) from None

    def bad_response(self, message: str, text: str, *, transient: bool = False) -> BadResponse:
        excerpt = make_excerpt(text, self.redactor.clean)
        log.warning("%s: %s; excerpt: %s", self.vendor, message, excerpt)
        return BadResponse(f"{self.vendor}: {message}", excerpt=excerpt, transient=transient)

    def bad_shape(self, message: str, value: Any) -> BadResponse:
        """BadResponse for JSON of the wrong shape (a format change, not transient)."""
        try:
            text = json.dumps(value, ensure_ascii=False)[:4000]
        except (TypeError, ValueError):
            text = repr(value)[:4000]
        return self.bad_response(message, text, transient=False)


def outage_or_garbage(response: requests.Response) -> bool:
    """HTTP 5xx, or HTTP 200 whose body is not JSON: the answers after which 360 reads
    are retried once (cloud-apis.md 3.4.4)."""
    if response.status_code >= 500:
        return True
    if response.status_code != 200:
        return False
    try:
        json.loads(response.content.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError):
        return True
    return False


def _path(url: str) -> str:
    """The path of a URL without its query string (which may hold a password)."""
    return urlsplit(url).path or "/"
