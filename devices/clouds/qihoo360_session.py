"""360 account-linking helpers (cloud-apis.md 3.3 and 3.5.1): cookie values, the
clientInfo device identity, the QID cross-check, and device-name rules."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import unquote

from .qihoo360_commands import compact_json

_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


@dataclass(frozen=True)
class Qihoo360Login:
    """What ``/common/user/login`` returns: both values change on every login."""

    sid: str = field(repr=False)
    push_key: str | None = field(default=None, repr=False)


def new_client_identity() -> tuple[str, str]:
    """A (notifyId, imei) pair of random 32-hex ids. Generate once per linked account
    and keep it: a changing device identity triggers 360 risk control (3.5.1)."""
    return secrets.token_hex(16), secrets.token_hex(16)


def client_info_json(*, notify_id: str, imei: str, lang: str = "en_US") -> str:
    """3.5.1: the clientInfo JSON working clients send."""
    info = {
        "release": "appstore",
        "brand": "iPhone",
        "model": "iPhone10,5",
        "notifyId": notify_id,
        "lang": lang,
        "imei": imei,
    }
    return compact_json(info)


def normalise_cookie_value(value: str) -> str:
    """3.3.2: Q and T copied from a browser may be percent-encoded: decode once."""
    value = value.strip()
    return unquote(value) if _PERCENT_ESCAPE.search(value) else value


def qid_from_q_cookie(q: str) -> str | None:
    """The QID inside a Q cookie (``u=360H<qid>`` or ``qid=<qid>``), for the 3.3.2
    cross-check; None when it holds neither."""
    match = re.search(r"u=360H(\d+)", q) or re.search(r"(?:^|&)qid=(\d+)", q)
    return match.group(1) if match else None


def normalise_title(title: str) -> str:
    """3.5.3: device names are 1-32 characters after trimming."""
    title = (title or "").strip()
    if not 1 <= len(title) <= 32:
        raise ValueError("a device name must be 1 to 32 characters long")
    return title


def check_cookie_value(name: str, value: str, *, allow_semicolon: bool = False) -> str:
    if not value or any(c in value for c in "\r\n\0") or (";" in value and not allow_semicolon):
        raise ValueError(f"{name} is empty or contains characters a cookie cannot carry")
    return value
