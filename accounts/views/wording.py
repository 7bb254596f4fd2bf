"""Small helpers that turn data into the words and hints the accounts pages show.

Presentation only: nothing here decides what anyone may do.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from accounts.models import Role

# Backends that never reach an inbox: mail "sent" through them is only in the server's log.
NO_MAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}
NO_MAIL_INVITE_HELP = "This server sends no email: you'll get a link to pass on yourself."


def a_role(role: str) -> str:
    """'an owner', 'an operator', 'a viewer'."""
    label = Role(role).label.lower()
    return f"{'an' if label[0] in 'aeiou' else 'a'} {label}"


def either_of(names: list[str]) -> str:
    """'alice', 'alice or oscar', 'alice, oscar or zoe'."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def expires_in(moment: datetime, now: datetime | None = None) -> str:
    """A short, rounded time until `moment`: 'in 7 days', 'in 5 hours', 'in 20 minutes'."""
    seconds = (moment - (now or timezone.now())).total_seconds()
    if seconds <= 0:
        return "now"
    for unit, size in (("day", 86400), ("hour", 3600)):
        if seconds >= size:
            count = round(seconds / size)
            if unit == "hour" and count == 24:  # 23.5 hours and more
                return "in 1 day"
            return f"in {count} {unit}{'s' if count != 1 else ''}"
    minutes = max(1, -(-int(seconds) // 60))
    return f"in {minutes} minute{'s' if minutes != 1 else ''}"


def mail_is_configured() -> bool:
    """False when mail only goes to the server's console (no EMAIL_URL set)."""
    return settings.EMAIL_BACKEND not in NO_MAIL_BACKENDS


def _host(netloc: str) -> str:
    """'Example.org:443' -> 'example.org'; a non-default port stays ('nas.local:8000')."""
    host = netloc.lower().rsplit("@", 1)[-1]
    for default in (":80", ":443"):
        host = host.removesuffix(default)
    return host


def site_url_mismatch(request) -> str | None:
    """The address this page was opened at, when it is not SITE_URL's host (else None).

    Links in emails and on the invitation page are built from SITE_URL; when the owner uses
    another address, the link may not work for the person who gets it. Only host and port are
    compared: behind a TLS proxy the request's scheme may differ from SITE_URL's.
    """
    here = request.get_host()
    if _host(urlsplit(settings.SITE_URL).netloc) == _host(here):
        return None
    return here
