"""The simulator's request log, with secrets shortened (cloud-apis.md 1.3 D-X-4, 5.1).

Tests and demos read this log through ``GET /_sim/requests``. It must never hold a full
secret, so that a log dump pasted into an issue leaks nothing: cookie ``sid``/``q``/``t``
values, bearer tokens and password/secret/token fields keep their first 4 characters.
"""

from __future__ import annotations

import json
from collections import deque
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qs

from simulator.interface import SimRequest

# Headers worth keeping: enough to debug a client, nothing else.
LOGGED_HEADERS = (
    "accept",
    "accept-encoding",
    "accept-language",
    "authorization",
    "content-type",
    "cookie",
    "user-agent",
)
SECRET_COOKIES = {"sid", "q", "t"}
SECRET_FIELD_PARTS = ("password", "secret", "token", "pushkey")
SECRET_FIELDS = {"sid", "q", "t"}
MAX_TEXT_BODY = 2000


def shorten(value: Any) -> str:
    """First 4 characters and an ellipsis: enough to tell two secrets apart."""
    text = str(value)
    return text if len(text) <= 4 else text[:4] + "…"


def is_secret_field(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_FIELDS or any(part in lowered for part in SECRET_FIELD_PARTS)


def redact_cookie(header: str) -> str:
    parts = []
    for part in header.split(";"):
        name, sep, value = part.partition("=")
        if sep and name.strip().lower() in SECRET_COOKIES and value:
            value = shorten(value)
        parts.append(f"{name}{sep}{value}")
    return ";".join(parts)


def redact_authorization(header: str) -> str:
    scheme, sep, credential = header.partition(" ")
    if not sep:
        return shorten(header)
    return f"{scheme} {shorten(credential.strip())}"


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    kept = {}
    for name in LOGGED_HEADERS:
        if name not in headers:
            continue
        value = headers[name]
        if name == "cookie":
            value = redact_cookie(value)
        elif name == "authorization":
            value = redact_authorization(value)
        kept[name] = value
    return kept


def redact_value(value: Any) -> Any:
    """Recursively shorten secret-looking fields of a decoded JSON or form value."""
    if isinstance(value, dict):
        return {
            key: shorten(item) if is_secret_field(str(key)) and item else redact_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    return value


def redact_body(req: SimRequest) -> Any:
    """The body as the log shows it: decoded JSON or form fields, redacted; else text."""
    if not req.body:
        return None
    content_type = req.headers.get("content-type", "")
    text = req.body.decode("utf-8", "replace")
    if "json" in content_type:
        try:
            return redact_value(json.loads(text))
        except ValueError:
            pass
    if "x-www-form-urlencoded" in content_type or ("=" in text and "{" not in text[:1]):
        parsed = parse_qs(text, keep_blank_values=True)
        if parsed:
            return redact_value({key: values[0] for key, values in parsed.items()})
    return text[:MAX_TEXT_BODY]


class RequestLog:
    """A bounded, in-memory log of requests (oldest entries fall off first)."""

    def __init__(self, maxlen: int = 20000):
        self._entries: deque[dict] = deque(maxlen=maxlen)
        self._next_id = 1

    def add(self, req: SimRequest, vendor: str, when: float) -> dict:
        entry = {
            "id": self._next_id,
            "time": round(when, 3),
            "vendor": vendor,
            "method": req.method,
            "path": req.path,
            "query": redact_value(dict(req.query)),
            "headers": redact_headers(req.headers),
            "body": redact_body(req),
            "status": None,
        }
        self._next_id += 1
        self._entries.append(entry)
        return entry

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def select(
        self, vendor: str | None = None, path: str | None = None, limit: int | None = None
    ) -> list[dict]:
        """Entries in arrival order. Control-API calls (vendor "sim") appear only when
        asked for by name, so a test's own /_sim/ calls do not clutter vendor traffic.
        ``path`` is a glob when it contains a wildcard, else an exact path."""
        wildcard = path is not None and any(ch in path for ch in "*?[")
        found = []
        for entry in self._entries:
            if vendor is None and entry["vendor"] == "sim":
                continue
            if vendor is not None and entry["vendor"] != vendor:
                continue
            if path is not None:
                if wildcard and not fnmatchcase(entry["path"], path):
                    continue
                if not wildcard and entry["path"] != path:
                    continue
            found.append(entry)
        if limit is not None and limit >= 0:
            found = found[-limit:] if limit else []
        return [dict(entry) for entry in found]
