"""Mammotion user-server API (surface A, cloud-apis.md 4.3): linking an app account,
regions, the token check, and the guided "dedicated second account" sign-up.

Independent of surface B: nothing here affects mower data. The password is used for
one request and never stored or logged (it travels in the query string, 4.3.1, so
transport errors never include URLs in their text).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import requests

from ._coerce import as_bool, as_dict, as_int, as_list, as_str, as_text
from .errors import (
    AccountDeactivated,
    AuthExpired,
    CloudError,
    InvalidCredentials,
    LoginUnavailable,
    RateLimited,
    RegistrationError,
)
from .mammotion_envelope import (
    SUCCESS_CODES,
    TokenRejected,
    is_deactivated,
    json_or_none,
    read_envelope,
)
from .redact import Redactor
from .transport import HttpTransport, normalise_base_url

log = logging.getLogger(__name__)

DEFAULT_USER_URL = "https://domestic.mammotion.com"
_PREFIX = "/user-server/v1"
# 4.3.1: the fixed client of the app's legacy password grant.
APP_CLIENT_ID = "MADKALUBAS"
APP_CLIENT_SECRET = "GshzGRZJjuMUgd2sYHM7"  # noqa: S105 - public, fixed by the vendor app

ONE_SESSION_WARNING = (
    "Signing in here may sign your phone app out of this account. "
    "Use a dedicated second account (recommended)."
)
PASSWORD_RULE = (
    "The password needs 8 to 16 characters with at least two of: "  # noqa: S105 - rule text
    "letters, digits, other characters."
)
CODE_COOLDOWN_S = 60  # 4.3.3: the product's cooldown per email address

# 4.3.1: login failure texts (matched case-insensitively) -> error class and message.
_LOGIN_FAILURES: tuple[tuple[str, type[CloudError], str], ...] = (
    ("account or password mismatch", InvalidCredentials, "Wrong email or password."),
    ("user not exist", InvalidCredentials, "No such Mammotion account."),
    (
        "too many password verification errors",
        RateLimited,
        "Locked for 5 minutes after repeated failures. Try again later.",
    ),
    ("access denied", CloudError, "Login refused by Mammotion."),
)


class TokenCheck(StrEnum):
    VERIFIED = "verified"
    NOT_VERIFIABLE = "not_verifiable"  # 4.3.5: HTTP 404 today; keep the token


@dataclass(frozen=True)
class AppUser:
    user_id: str | None
    email: str | None
    area_code: str | None  # ISO-3166 alpha-3, e.g. "SWE"
    domain_abbreviation: str | None  # alpha-2, e.g. "SE"


@dataclass(frozen=True)
class AppLogin:
    """4.3.1 success. No refresh endpoint exists: at ``expires_at`` the user re-links."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime | None
    user: AppUser
    token_type: str = "bearer"  # noqa: S105 - a scheme name
    scope: str | None = None


@dataclass(frozen=True)
class Area:
    iso_code: str  # what email/register expects as areaCode
    name: str
    domain_abbreviation: str | None = None
    code: str | None = None
    id: str | None = None
    name_cn: str | None = None


@dataclass(frozen=True)
class RegisteredAccount:
    user_id: str | None
    email: str | None
    area_code: str | None
    domain_abbreviation: str | None


def password_problem(password: str) -> str | None:
    """4.3.4 client-side check: 8-16 characters, at least two of {letters, digits,
    other}. Returns the rule text when broken, else None."""
    kinds = {
        "letter" if c.isascii() and c.isalpha() else "digit" if c.isdigit() else "other"
        for c in password
    }
    if not 8 <= len(password) <= 16 or len(kinds) < 2:
        return PASSWORD_RULE
    return None


class MammotionAccountClient:
    """Surface A. Methods take the secret they need; the client keeps none of them."""

    def __init__(
        self,
        session: requests.Session,
        *,
        timeout: tuple[float, float],
        user_url: str = DEFAULT_USER_URL,
        retry_pause: float = 1.0,
    ):
        self._base = normalise_base_url(user_url) + _PREFIX
        self._redactor = Redactor()
        self._http = HttpTransport(
            session,
            timeout=timeout,
            retry_pause=retry_pause,
            redactor=self._redactor,
            vendor="Mammotion cloud",
        )

    @property
    def requests_made(self) -> int:
        return self._http.requests_made

    # --- linking (4.3.1, 4.3.5) -------------------------------------------------------

    def login(self, email: str, password: str) -> AppLogin:
        """Password grant with every parameter in the query string and an empty body."""
        self._redactor.add(password)
        params = {
            "username": email,
            "password": password,
            "client_id": APP_CLIENT_ID,
            "client_secret": APP_CLIENT_SECRET,
            "grant_type": "password",
        }
        response = self._http.send(
            "POST", self._base + "/user/oauth/token", read=False, params=params, body=b""
        )
        return self._login_result(response)

    def check_token(self, access_token: str) -> TokenCheck:
        """4.3.5: VERIFIED, NOT_VERIFIABLE (HTTP 404), AuthExpired on 401, else error."""
        self._redactor.add(access_token)
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        response = self._http.send(
            "POST", self._base + "/user/oauth/check", read=False, headers=headers, body=b""
        )
        if response.status_code == 404:
            return TokenCheck.NOT_VERIFIABLE
        try:
            data = read_envelope(self._http, response)
        except TokenRejected as exc:
            raise AuthExpired(
                str(exc),
                http_status=exc.http_status,
                user_message="Mammotion signed this session out (maybe another sign-in). "
                "Link the account again.",
            ) from None
        if as_bool(data) is True:
            return TokenCheck.VERIFIED
        raise CloudError(
            "Mammotion token check did not confirm the token",
            user_message="Mammotion could not confirm the sign-in.",
        )

    # --- regions and sign-up (4.3.2-4.3.4) --------------------------------------------

    def list_areas(self) -> list[Area]:
        """GET area, sorted by English name (cache 24 h)."""
        response = self._http.send(
            "GET", self._base + "/area", read=True, headers={"Accept": "application/json"}
        )
        areas = [
            area for area in map(_parse_area, as_list(read_envelope(self._http, response))) if area
        ]
        return sorted(areas, key=lambda area: area.name.casefold())

    def request_registration_code(self, email: str) -> None:
        """Mammotion emails a code; 40207 (too often) -> RateLimited(60 s)."""
        response = self._http.send(
            "POST",
            self._base + "/email/register/code",
            read=False,
            params={"email": email},
            body=b"",
        )
        try:
            read_envelope(self._http, response)
        except CloudError as exc:
            if exc.vendor_code == 40207:
                raise RateLimited(
                    str(exc),
                    retry_after=CODE_COOLDOWN_S,
                    vendor_code=40207,
                    user_message="Mammotion sends codes at most once a minute. "
                    "Wait a minute, then ask for a new code.",
                ) from None
            raise

    def register(
        self, *, area_code: str, email: str, full_name: str, password: str, verification_code: str
    ) -> RegisteredAccount:
        """Create an account; failures raise RegistrationError naming the field."""
        problem = password_problem(password)
        if problem:
            raise RegistrationError(
                "password rule (checked locally)", field="password", user_message=problem
            )
        self._redactor.add(password)
        body = {
            "areaCode": area_code,
            "email": email,
            "fullName": full_name,
            "password": password,
            "verificationCode": str(verification_code).strip(),
        }
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        response = self._http.send(
            "POST",
            self._base + "/email/register",
            read=False,
            headers=headers,
            body=json.dumps(body, separators=(",", ":")).encode("utf-8"),
        )
        try:
            data = as_dict(read_envelope(self._http, response))
        except CloudError as exc:
            raise _registration_error(exc) from None
        return RegisteredAccount(
            user_id=as_text(data.get("userId")),
            email=as_text(data.get("email")),
            area_code=as_text(data.get("areaCode")),
            domain_abbreviation=as_text(data.get("domainAbbreviation")),
        )

    # --- internals --------------------------------------------------------------------

    def _login_result(self, response: requests.Response) -> AppLogin:
        body = json_or_none(response)
        if is_deactivated(body):
            raise AccountDeactivated("Mammotion login: account deactivated")
        status = response.status_code
        if status == 429:
            self._http.raise_for_throttle_or_outage(response)
        if status != 200 or not isinstance(body, dict) or "code" not in body:
            # 4.3.1: a retired or refusing legacy endpoint; surface B is unaffected.
            raise LoginUnavailable(f"Mammotion login answered HTTP {status}", http_status=status)
        code = as_int(body.get("code"))
        if code in SUCCESS_CODES:
            return _parse_login(as_dict(body.get("data")))
        message = self._redactor.clean(as_str(body.get("msg")) or "")[:200]
        for needle, error, text in _LOGIN_FAILURES:
            if needle in message.lower():
                extra: dict[str, Any] = {"retry_after": 300.0} if error is RateLimited else {}
                raise error(
                    f"Mammotion login: {message}", vendor_code=code, user_message=text, **extra
                )
        if not message:
            raise LoginUnavailable(f"Mammotion login answered code {code}", vendor_code=code)
        raise CloudError(
            f"Mammotion login: {message}",
            vendor_code=code,
            user_message=f"Mammotion login failed: {message}",
        )


def _parse_login(data: dict) -> AppLogin:
    token = as_text(data.get("access_token"))
    if token is None:
        raise LoginUnavailable("Mammotion login succeeded without an access_token")
    user = as_dict(data.get("userInformation"))
    expires_in = as_int(data.get("expires_in"))
    return AppLogin(
        access_token=token,
        refresh_token=as_text(data.get("refresh_token")),
        expires_at=datetime.now(UTC) + timedelta(seconds=min(max(expires_in, 0), 10**8))
        if expires_in is not None
        else None,
        user=AppUser(
            user_id=as_text(user.get("userId")),
            email=as_text(user.get("email")),
            area_code=as_text(user.get("areaCode")),
            domain_abbreviation=as_text(user.get("domainAbbreviation")),
        ),
        token_type=as_text(data.get("token_type")) or "bearer",
        scope=as_text(data.get("scope")),
    )


def _parse_area(item: Any) -> Area | None:
    item = as_dict(item)
    iso = as_text(item.get("isoCode"))
    if iso is None:
        return None
    return Area(
        iso_code=iso,
        name=as_text(item.get("areaEnName")) or iso,
        domain_abbreviation=as_text(item.get("domainAbbreviation")),
        code=as_str(item.get("code")),
        id=as_str(item.get("id")),
        name_cn=as_text(item.get("areaCnName")),
    )


def _registration_error(exc: CloudError) -> CloudError:
    """4.3.4: 500 area (or "already registered"), 40302 password, 40200 code."""
    if isinstance(exc, AuthExpired) or exc.retryable:
        return exc
    text = str(exc).lower()
    if exc.vendor_code == 500 and "registered" in text:
        return RegistrationError(
            str(exc),
            field="email",
            vendor_code=500,
            user_message="This email address already has a Mammotion account.",
        )
    fields = {
        500: ("areaCode", "Choose a country or region from the list."),
        40302: ("password", PASSWORD_RULE),
        40200: (
            "verificationCode",
            "The verification code is wrong or expired. Ask for a new one.",
        ),
    }
    if exc.vendor_code in fields:
        name, message = fields[exc.vendor_code]  # type: ignore[index]
        return RegistrationError(
            str(exc), field=name, vendor_code=exc.vendor_code, user_message=message
        )
    return exc
