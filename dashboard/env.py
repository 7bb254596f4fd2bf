"""Small, strict readers for environment variables.

Every reader fails loudly (ImproperlyConfigured naming the variable) on a malformed
value instead of silently falling back to a default: a typo in production must stop
the process, not quietly run with DEBUG on or with the wrong database.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def raw(name: str) -> str | None:
    """The variable's value, or None when unset or blank. `NAME_FILE` (a path to a file
    holding the value, as Docker/systemd secrets do) is honoured when NAME is unset."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    path = os.environ.get(f"{name}_FILE", "").strip()
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {exc.strerror}") from exc
    return None


def string(name: str, default: str = "") -> str:
    value = raw(name)
    return default if value is None else value


def boolean(name: str, default: bool) -> bool:
    value = raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no, not {value!r}")


def integer(name: str, default: int, *, minimum: int | None = None) -> int:
    value = raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def csv(name: str, default: list[str] | None = None) -> list[str]:
    value = raw(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def base_url(name: str, default: str) -> str:
    """A vendor base URL (cloud-apis.md section 2): scheme, host, optional port and path
    prefix; a trailing slash is stripped."""
    value = raw(name) or default
    if not value.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"{name} must start with http:// or https://, not {value!r}")
    host = value.split("://", 1)[1].split("/", 1)[0]
    if not host or any(c in host for c in " @?#"):
        raise ImproperlyConfigured(f"{name} has no valid host: {value!r}")
    return value.rstrip("/")


def host_port(name: str, default: str) -> tuple[str, int]:
    value = raw(name) or default
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ImproperlyConfigured(f"{name} must be host:port, not {value!r}")
    return host.strip("[]"), int(port)


def generated_secret(path: Path, make=lambda: secrets.token_urlsafe(50)) -> str:
    """Read a secret kept in a file under DATA_DIR, creating it once with mode 0600."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    # Write a private temp file, then hard-link it into place: the link is atomic and
    # fails if another process (web, worker, beat) won the race, whose value we use.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    finally:
        tmp.unlink()
    return value
