"""Keeping secrets out of logs and exceptions (cloud-apis.md D-X-4, quality.md S8).

Each client owns a ``Redactor`` and registers every secret it handles (SID, Q, T,
pushKey, tokens, client secret, password). Any text that may reach a log line or an
exception (vendor messages, body excerpts) goes through ``Redactor.clean``.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import quote, quote_plus

MASK = "[redacted]"
# Below this length a "secret" would match ordinary text and mangle every message.
_MIN_SECRET_LEN = 3

_SENSITIVE_KEYS = (
    r"sid|pushkey|push_key|access_token|refresh_token|client_secret|password"
    r"|authorization_code|jti|token"
)
_PATTERNS = (
    # key=value in query strings, form bodies and cookies: sid=..., access_token=...
    re.compile(rf"(?i)(\b(?:{_SENSITIVE_KEYS})\s*=\s*)[^&;\s\"',}}]+"),
    # "key": "value" in JSON bodies
    re.compile(rf"(?i)(\"(?:{_SENSITIVE_KEYS})\"\s*:\s*\")[^\"]*"),
    # Authorization: Bearer <token>
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]+"),
)


def redact_patterns(text: str) -> str:
    """Mask secret-looking pairs (``sid=…``, ``"access_token": "…"``, ``Bearer …``)."""
    for pattern in _PATTERNS:
        text = pattern.sub(rf"\g<1>{MASK}", text)
    return text


def shorten(secret: str | None) -> str:
    """What a log line may show of a secret: its first 4 characters (D-X-4)."""
    if not secret:
        return ""
    return secret[:4] + "…"


class Redactor:
    """Replaces known secret values and obvious secret patterns in text."""

    def __init__(self, *secrets: str | None):
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Register secret values, with their percent-encoded forms."""
        with self._lock:
            for secret in secrets:
                if not secret or len(secret) < _MIN_SECRET_LEN:
                    continue
                self._secrets.update({secret, quote(secret, safe=""), quote_plus(secret)})

    def clean(self, text: str) -> str:
        """The text with every registered secret and secret-looking pair masked."""
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, MASK)
        return redact_patterns(text)
