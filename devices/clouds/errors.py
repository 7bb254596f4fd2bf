"""The one error tree every vendor client raises (docs/design.md, "One error tree").

Callers decide what to do from the class alone:

- ``AuthExpired`` (and its subclasses): the account must be linked again; never retry.
- ``RateLimited`` / ``Unavailable``: retry later with backoff; ``retry_after`` is the
  vendor's hint in seconds (capped by the client) or None.
- ``BadResponse``: the vendor sent something we cannot read. ``transient`` is True when
  the body was not JSON at all (HTML error page, empty, truncated: cloud-apis.md 3.4.4
  and 4.7 treat these as transient); False when it was JSON of an unexpected shape,
  which usually means the vendor changed its format. ``retryable`` mirrors it.
- everything else: show ``user_message`` and do not retry automatically.

``str(error)`` is a technical description for logs. Neither it nor ``user_message``
ever holds a secret: clients pass every vendor-supplied text through their redactor
(``redact.Redactor``) before it reaches an exception.
"""

from __future__ import annotations

from collections.abc import Callable

from .redact import redact_patterns

EXCERPT_CHARS = 300


class CloudError(Exception):
    """Base class: a vendor cloud could not do what was asked."""

    default_user_message = "The vendor cloud reported an error."

    def __init__(
        self,
        message: str | None = None,
        *,
        user_message: str | None = None,
        vendor_code: int | str | None = None,
        http_status: int | None = None,
    ):
        self.user_message = user_message or self.default_user_message
        self.vendor_code = vendor_code
        self.http_status = http_status
        self.retryable = False
        super().__init__(message or self.user_message)


class AuthExpired(CloudError):
    """The session or token is gone: the account must be linked again; never retried.

    ``reason`` is ``"expired"`` here, ``"invalid_credentials"`` or ``"deactivated"`` on
    the subclasses, so a service can store it as the account state.
    """

    reason = "expired"
    default_user_message = "The cloud session has expired. Link the account again."


class InvalidCredentials(AuthExpired):
    """The vendor rejected the credentials themselves (wrong secret, wrong password)."""

    reason = "invalid_credentials"
    default_user_message = "The cloud rejected these credentials. Enter them again."


class AccountDeactivated(AuthExpired):
    """The vendor deactivated the account (cloud-apis.md 4.6: "deactivated" in msg)."""

    reason = "deactivated"
    default_user_message = (
        "Mammotion deactivated this account. Contact Mammotion support, then link it again."
    )


class _RetryLater(CloudError):
    """Shared base of the two "try again later" errors."""

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after
        self.retryable = True


class RateLimited(_RetryLater):
    """The vendor throttled us (HTTP 429 or an equivalent body)."""

    default_user_message = "The cloud is throttling requests. Try again in a few minutes."


class Unavailable(_RetryLater):
    """Timeout, refused connection, HTTP 5xx: the cloud is not reachable right now."""

    default_user_message = "The cloud is not reachable right now. Try again later."


class LoginUnavailable(Unavailable):
    """The legacy Mammotion app-account login endpoint failed or is retired (4.3.1)."""

    default_user_message = "Mammotion app-account login is currently unavailable."


class DeviceOffline(CloudError):
    """The device is offline (360 errno 212, Mammotion "device offline")."""

    default_user_message = "The device is offline."


class NoPermission(CloudError):
    """The account may not use this device (360 errorCode 205, HTTP 403)."""

    default_user_message = "No permission for this device. Refresh the device list."


class NotFound(CloudError):
    """The device or record does not exist (Mammotion body code 404)."""

    default_user_message = "Not found. Refresh the device list."


class CommandRejected(CloudError):
    """The vendor refused a command; ``vendor_message`` is its reason, already redacted."""

    default_user_message = "The device refused the command."

    def __init__(self, message: str | None = None, *, vendor_message: str | None = None, **kw):
        if vendor_message and "user_message" not in kw:
            kw["user_message"] = f"The device refused the command: {vendor_message}"
        super().__init__(message, **kw)
        self.vendor_message = vendor_message


class RegistrationError(CloudError):
    """A Mammotion sign-up step failed because of one input (cloud-apis.md 4.3.4).

    ``field`` names the request field at fault: ``areaCode``, ``email``, ``fullName``,
    ``password`` or ``verificationCode``; a form can attach ``user_message`` to it.
    """

    def __init__(self, message: str | None = None, *, field: str, **kw):
        super().__init__(message, **kw)
        self.field = field


class BadResponse(CloudError):
    """The vendor answered with something we cannot parse (format change or garbage)."""

    default_user_message = "The cloud sent an unexpected answer. Try again later."

    def __init__(
        self, message: str | None = None, *, excerpt: str = "", transient: bool = False, **kw
    ):
        super().__init__(message, **kw)
        self.excerpt = excerpt
        self.transient = transient
        self.retryable = transient


def make_excerpt(text: str, clean: Callable[[str], str] = str) -> str:
    """A short, secret-free excerpt of a body: redact the whole text, then truncate
    (truncating first could cut a secret so that it no longer matches). Secret-looking
    pairs are masked even when the caller has no redactor."""
    cleaned = redact_patterns(clean(text))
    if len(cleaned) > EXCERPT_CHARS:
        return cleaned[:EXCERPT_CHARS] + "…"
    return cleaned
