"""The Mammotion response envelope, shared by both surfaces (cloud-apis.md 4.2, 4.6).

``{code, msg, msgTitle, data, requestId}``: success is code 0 or 200; HTTP 401 and
body code 401 both mean the token is bad; "deactivated" in ``msg`` on any endpoint
means the account is blocked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

from ._coerce import as_dict, as_int, as_str
from .errors import AccountDeactivated, AuthExpired, CloudError, NoPermission, NotFound
from .mammotion_parse import bad_shape
from .transport import HttpTransport

SUCCESS_CODES = (0, 200)
CODE_UNAUTHORIZED = 401
CODE_NOT_FOUND = 404
CODE_REJECTED_QUERY = 40200


class TokenRejected(AuthExpired):
    """HTTP 401 or body code 401: the bearer token is bad (4.2); the client renews once."""


class QueryRejected(CloudError):
    """Body code 40200 on work-reports/search: try the next body variant (4.4.7)."""


def is_deactivated(body: Any) -> bool:
    """4.6: "deactivated" in ``msg`` on any endpoint means the account is blocked."""
    message = as_str(as_dict(body).get("msg")) or ""
    return "deactivated" in message.lower()


def unwrap(body: Any, *, clean: Callable[[str], str] = str) -> Any:
    """``data`` of a successful envelope (code 0 or 200); else the mapped error."""
    if not isinstance(body, dict):
        raise bad_shape("envelope is not a JSON object", body)
    if "code" not in body:
        raise bad_shape("envelope without code", body)
    code = as_int(body.get("code"))
    message = clean(as_str(body.get("msg")) or "")[:200]
    if code in SUCCESS_CODES:
        return body.get("data")
    if is_deactivated(body):
        raise AccountDeactivated(f"Mammotion: {message}", vendor_code=code)
    detail = f"Mammotion answered code {code}: {message or 'no message'}"
    if code == CODE_UNAUTHORIZED:
        raise TokenRejected(detail, vendor_code=code)
    if code == CODE_NOT_FOUND:
        raise NotFound(detail, vendor_code=code)
    if code == CODE_REJECTED_QUERY:
        raise QueryRejected(detail, vendor_code=code)
    shown = f"{message} (code {code})" if message else f"code {code}"
    raise CloudError(detail, vendor_code=code, user_message=f"Mammotion: {shown}")


def read_envelope(http: HttpTransport, response: requests.Response) -> Any:
    """The ``data`` of an API response, mapping HTTP statuses and envelope codes.

    "deactivated" wins over everything (4.6); HTTP 401 and body code 401 both raise
    ``TokenRejected`` (4.2); 429/5xx are transient; a body that is not JSON is a
    transient ``BadResponse``.
    """
    status = response.status_code
    if status != 200:
        body = json_or_none(response)
        if is_deactivated(body):
            unwrap(body, clean=http.redactor.clean)  # raises AccountDeactivated
        if status == CODE_UNAUTHORIZED:
            raise TokenRejected(f"Mammotion: HTTP 401 on {_path(response)}", http_status=401)
        http.raise_for_throttle_or_outage(response)
        error = {403: NoPermission, 404: NotFound}.get(status, CloudError)
        raise error(
            f"Mammotion: HTTP {status} on {_path(response)}",
            http_status=status,
            user_message=None if error is not CloudError else f"Mammotion answered HTTP {status}.",
        )
    return unwrap(http.parse_json(response), clean=http.redactor.clean)


def json_or_none(response: requests.Response) -> Any:
    try:
        return json.loads(response.content.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError):
        return None


def _path(response: requests.Response) -> str:
    url = response.request.url if response.request is not None else ""
    return urlsplit(url or "").path or "/"
