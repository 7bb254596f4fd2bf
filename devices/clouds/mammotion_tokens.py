"""Mammotion Open API tokens: client credentials with rotating refresh tokens
(cloud-apis.md 4.4.1 and 4.7 "Token lifecycle").

The client does not own persistence: the service passes a ``TokenStore`` (backed by
the database, one per credential) whose ``lock()`` serialises renewals across workers.
Rules implemented here:

- renew when less than 5 minutes remain; under the store's lock re-load first,
  because another worker may have renewed already;
- refresh grant first; persist the new set (with the rotated refresh token) at once;
- on 40102 or any non-transient refresh failure fall back to ``client_credentials``;
- invalid client -> ``InvalidCredentials``; "deactivated" -> ``AccountDeactivated``;
- at most one token request per 30 s, except directly after a 401.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

import requests

from ._coerce import as_dict, as_int, as_str, as_text
from .errors import AccountDeactivated, CloudError, InvalidCredentials, RateLimited
from .mammotion_envelope import SUCCESS_CODES, is_deactivated, json_or_none
from .redact import shorten
from .transport import HttpTransport

log = logging.getLogger(__name__)

RENEW_BEFORE = timedelta(minutes=5)
MIN_TOKEN_INTERVAL = timedelta(seconds=30)
DEFAULT_EXPIRES_IN_S = 3600
CODE_INVALID_CLIENT = 40101
CODE_REFRESH_EXPIRED = 40102
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Now = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TokenSet:
    """One credential's tokens. Secrets are kept out of ``repr``."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime
    obtained_at: datetime
    token_type: str = "Bearer"  # noqa: S105 - a scheme name

    def remaining(self, now: datetime) -> timedelta:
        return self.expires_at - now

    def describe(self) -> str:
        return f"access {shorten(self.access_token)} until {self.expires_at.isoformat()}"


class TokenStore(Protocol):
    """Where one credential's ``TokenSet`` lives (the database in production).

    ``lock()`` must be held by at most one renewer at a time across all workers (a row
    lock or an atomic cache lock); the manager never nests it. ``save`` must be
    durable when it returns: a rotated refresh token exists nowhere else.
    """

    def load(self) -> TokenSet | None: ...

    def save(self, tokens: TokenSet) -> None: ...

    def lock(self) -> AbstractContextManager[Any]: ...


class InMemoryTokenStore:
    """A ``TokenStore`` for tests and scripts (one process)."""

    def __init__(self, tokens: TokenSet | None = None):
        self._tokens = tokens
        self._lock = threading.Lock()
        self.saves = 0

    def load(self) -> TokenSet | None:
        return self._tokens

    def save(self, tokens: TokenSet) -> None:
        self._tokens = tokens
        self.saves += 1

    def lock(self) -> AbstractContextManager[Any]:
        return self._lock


class _RefreshFailed(CloudError):
    """The refresh grant was refused (40102 or another non-transient answer)."""


class TokenManager:
    """Hands out a valid access token for one credential, renewing per 4.7."""

    def __init__(
        self,
        http: HttpTransport,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        store: TokenStore,
        now: Now = utc_now,
    ):
        self._http = http
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._store = store
        self._now = now
        self._last_request: datetime | None = None  # includes failed requests
        http.redactor.add(client_secret)

    def access_token(self) -> str:
        """A token with more than 5 minutes left, renewing under the store's lock."""
        tokens = self._load()
        if self._fresh(tokens):
            return tokens.access_token  # type: ignore[union-attr]
        with self._store.lock():
            tokens = self._load()  # another worker may have renewed while we waited
            if self._fresh(tokens):
                return tokens.access_token  # type: ignore[union-attr]
            return self._renew(tokens, after_401=False).access_token

    def renew_after_unauthorized(self, used_token: str) -> str:
        """4.7 step 4: the API refused ``used_token``. If the store still holds it,
        invalidate it and renew; else another worker renewed: use the stored one."""
        with self._store.lock():
            stored = self._load()
            if stored is not None and stored.access_token != used_token:
                if stored.remaining(self._now()) > timedelta(0):
                    return stored.access_token
            elif stored is not None:
                stored = replace(stored, expires_at=_EPOCH)
                self._store.save(stored)
            return self._renew(stored, after_401=True).access_token

    # --- internals --------------------------------------------------------------------

    def _load(self) -> TokenSet | None:
        tokens = self._store.load()
        if tokens is not None:
            self._http.redactor.add(tokens.access_token, tokens.refresh_token)
        return tokens

    def _fresh(self, tokens: TokenSet | None) -> bool:
        return tokens is not None and tokens.remaining(self._now()) >= RENEW_BEFORE

    def _renew(self, current: TokenSet | None, *, after_401: bool) -> TokenSet:
        now = self._now()
        still_valid = current is not None and current.remaining(now) > timedelta(0)
        wait = self._seconds_until_allowed(current, now)
        if wait > 0 and not after_401:
            if still_valid:
                return current  # type: ignore[return-value]
            raise RateLimited(
                "Mammotion: token renewal suppressed (one request per 30 s)",
                retry_after=wait,
                user_message="Mammotion sign-in is being renewed. Try again in a minute.",
            )
        try:
            tokens = self._obtain(current)
        except CloudError as exc:
            if exc.retryable and still_valid and not after_401:
                log.warning("Mammotion token renewal failed (%s); using the current token", exc)
                return current  # type: ignore[return-value]
            raise
        self._store.save(tokens)  # persist the rotated refresh token before using it
        log.info("Mammotion %s: new token, %s", self._client_id, tokens.describe())
        return tokens

    def _seconds_until_allowed(self, current: TokenSet | None, now: datetime) -> float:
        moments = [m for m in (self._last_request, current and current.obtained_at) if m]
        if not moments:
            return 0.0
        return max(0.0, (max(moments) + MIN_TOKEN_INTERVAL - now).total_seconds())

    def _obtain(self, current: TokenSet | None) -> TokenSet:
        if current is not None and current.refresh_token:
            try:
                return self._grant(grant_type="refresh_token", refresh_token=current.refresh_token)
            except _RefreshFailed as exc:
                log.info(
                    "Mammotion refresh refused (%s); using client credentials", exc.vendor_code
                )
        return self._grant(grant_type="client_credentials")

    def _grant(self, **fields: str) -> TokenSet:
        """One POST /oauth2/token (4.4.1), form-encoded; never retried."""
        self._last_request = self._now()
        form = {"client_id": self._client_id, "client_secret": self._client_secret, **fields}
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        response = self._http.send(
            "POST",
            self._token_url,
            read=False,
            headers=headers,
            body=urlencode(form).encode("utf-8"),
        )
        return self._token_from(response, refreshing=fields["grant_type"] == "refresh_token")

    def _token_from(self, response: requests.Response, *, refreshing: bool) -> TokenSet:
        body = json_or_none(response)
        if is_deactivated(body):
            raise AccountDeactivated(
                "Mammotion: the account behind these credentials is deactivated"
            )
        status = response.status_code
        if status in (401, 403) or _invalid_client(body, refreshing=refreshing):
            raise InvalidCredentials(
                f"Mammotion token endpoint refused the client (HTTP {status})",
                http_status=status,
                user_message="Mammotion rejected the API client id or secret. Paste them again.",
            )
        self._http.raise_for_throttle_or_outage(response)  # 408/429/5xx: transient
        failure = _RefreshFailed if refreshing else CloudError
        if status != 200:
            raise failure(f"Mammotion token endpoint answered HTTP {status}", http_status=status)
        body = self._http.parse_json(response)  # not JSON -> BadResponse (transient)
        return self._token_set(body, failure)

    def _token_set(self, body: Any, failure: type[CloudError]) -> TokenSet:
        # Tolerate a bare OAuth body ({"access_token": …}) besides the envelope.
        flat = isinstance(body, dict) and "code" not in body and "access_token" in body
        code = 0 if flat else as_int(as_dict(body).get("code"))
        if code not in SUCCESS_CODES:
            message = self._http.redactor.clean(as_str(as_dict(body).get("msg")) or "")[:200]
            raise failure(
                f"Mammotion token endpoint answered code {code}: {message}", vendor_code=code
            )
        data = body if flat else as_dict(body.get("data"))
        access = as_text(data.get("access_token"))
        if access is None:
            raise self._http.bad_shape("token answer without access_token", body)
        refresh = as_text(data.get("refresh_token"))
        self._http.redactor.add(access, refresh)
        now = self._now()
        expires_in = as_int(data.get("expires_in")) or DEFAULT_EXPIRES_IN_S
        return TokenSet(
            access_token=access,
            refresh_token=refresh,
            expires_at=now + timedelta(seconds=max(0, min(expires_in, 10**8))),
            obtained_at=now,
            token_type=as_text(data.get("token_type")) or "Bearer",
        )


def _invalid_client(body: Any, *, refreshing: bool) -> bool:
    """4.4.1: bad client id/secret: code 40101 (simulator) or ``invalid_client`` text.
    A body code 401 means the same for client credentials; on a refresh it may only
    mean the refresh token is dead, so the fallback grant decides."""
    body = as_dict(body)
    code = as_int(body.get("code"))
    if code == CODE_INVALID_CLIENT or (code == 401 and not refreshing):
        return True
    texts = (as_str(body.get(key)) or "" for key in ("msg", "error", "error_description"))
    return any("invalid client" in t.lower() or "invalid_client" in t.lower() for t in texts)
