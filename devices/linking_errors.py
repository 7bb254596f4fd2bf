"""What went wrong while linking, said precisely (cloud-apis.md 3.4.3, 4.3.1, 4.3.4, 4.6),
and the limits every link request works under."""

from __future__ import annotations

import logging

from devices.clouds.errors import (
    AccountDeactivated,
    AuthExpired,
    BadResponse,
    CloudError,
    LoginUnavailable,
    RateLimited,
    RegistrationError,
    Unavailable,
)
from devices.models import Vendor

log = logging.getLogger(__name__)

# (connect, read) seconds. Short, because a person is waiting, and so that the slowest
# link (a login, then a read retried once) stays under gunicorn's 30 s request timeout.
# Read it as `linking_errors.LINK_TIMEOUT` (tests shorten it).
LINK_TIMEOUT = (5.0, 8.0)
RETRY_PAUSE = 1.0

VENDOR_NAMES = {Vendor.QIHOO360: "360 Smart", Vendor.MAMMOTION: "Mammotion"}


class LinkError(Exception):
    """Linking failed and nothing was stored. ``message`` is for the person; ``field``
    names the form field at fault, or None for the form as a whole."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# Rejected credentials, by step of linking: (message, form field or None). Steps:
# "sid" GetList with a pasted SID; "qt_login" / "qt_list" the login with Q/T and the
# GetList after it; "open_api" the token and mower list; "app_login" the app sign-in.
REJECTED = {
    "sid": (
        "360 did not accept this SID: it is wrong, belongs to another QID, or its session "
        "has expired (errno 102). Copy a fresh SID from the app and try again.",
        "sid",
    ),
    "qt_login": (
        "360 rejected these Q and T cookies (errno 103): they are incomplete, belong to "
        "another QID, or the web session has ended. Sign in at i.360.cn again and copy "
        "both cookies anew.",
        None,
    ),
    "qt_list": (
        "360 issued a session for these cookies but then refused it (errno 102). Wait a "
        "minute and try again.",
        None,
    ),
    "open_api": (
        "Mammotion rejected this client ID or client secret (invalid client). Check both, "
        "or create new credentials at developer.mammotion.com: the secret is shown only "
        "once, and resetting it makes the old one stop working.",
        None,
    ),
}


# RegistrationError.field (a request field of 4.3.4) -> the sign-up form's field; the
# others are fixed on an earlier step of the wizard, so they are shown for the form.
SIGNUP_FIELDS = {"verificationCode": "verification_code", "password": "password"}


def explain(exc: CloudError, *, vendor: str, step: str) -> tuple[str, str | None]:
    """(message, field) for a vendor error at one step of linking."""
    name = VENDOR_NAMES[vendor]
    if isinstance(exc, RegistrationError):  # password rule, bad code, area, email taken
        return exc.user_message, SIGNUP_FIELDS.get(exc.field)
    if isinstance(exc, AccountDeactivated):
        return exc.user_message, None
    if isinstance(exc, AuthExpired):
        if step == "app_login":  # "Wrong email or password." / "No such Mammotion account."
            return exc.user_message, "password"
        return REJECTED.get(step, (exc.user_message, None))
    if isinstance(exc, LoginUnavailable):
        return (
            f"{exc.user_message} Your mowers do not depend on it: link Open API client "
            "credentials instead.",
            None,
        )
    if isinstance(exc, RateLimited):
        if exc.vendor_code is not None:  # a vendor's own words: locked, emails too often
            return exc.user_message, None
        return f"{name} is limiting requests right now. Wait a few minutes, then try again.", None
    if isinstance(exc, Unavailable):
        if exc.http_status:
            return (
                f"The {name} cloud is having trouble (HTTP {exc.http_status}). Try again later.",
                None,
            )
        if "timed out" in str(exc):
            return (
                f"The {name} cloud did not answer within {LINK_TIMEOUT[1]:.0f} seconds. "
                "Try again later.",
                None,
            )
        return f"Could not connect to the {name} cloud. Try again later.", None
    if isinstance(exc, BadResponse):
        return (
            f"The {name} cloud sent an answer the dashboard cannot read. Try again later; "
            "if it keeps happening, the vendor may have changed its service.",
            None,
        )
    return exc.user_message, None


class explained:  # noqa: N801 - used like a function: `with explained(vendor, step):`
    """Turn a CloudError raised inside the block into a LinkError for that step."""

    def __init__(self, vendor: str, step: str):
        self.vendor, self.step = vendor, step

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if not isinstance(exc, CloudError):
            return False
        log.info("linking failed at %s: %s", self.step, exc)
        message, field_name = explain(exc, vendor=self.vendor, step=self.step)
        raise LinkError(message, field=field_name) from None
