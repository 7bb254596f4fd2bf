"""Encryption of vendor credentials at rest: AES-256-GCM with a key ring.

CREDENTIAL_KEYS holds "kid:base64key" entries, comma-separated, newest first. The newest
key encrypts; any key in the ring decrypts. Every token names its key id and is bound to
its row through associated data, so a token copied into another row fails to decrypt.
Failure is always an exception, never ciphertext or garbage handed on as a value.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = "v1"
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class CredentialError(Exception):
    """Stored credentials cannot be used (wrong or missing key, tampered or moved token)."""


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[tuple[str, bytes], ...]  # (kid, 32-byte key), newest first

    @property
    def current_kid(self) -> str:
        return self.keys[0][0]

    def get(self, kid: str) -> bytes | None:
        return next((key for k, key in self.keys if k == kid), None)


def parse_key_ring(spec: str) -> KeyRing:
    """Parse CREDENTIAL_KEYS; raises ImproperlyConfigured naming what is wrong (not the key)."""
    keys: list[tuple[str, bytes]] = []
    for position, entry in enumerate(filter(None, (e.strip() for e in spec.split(","))), 1):
        kid, sep, encoded = entry.partition(":")
        if not sep or not _KID.match(kid):
            raise ImproperlyConfigured(
                f"CREDENTIAL_KEYS entry {position} must look like 'kid:base64key' "
                "(kid: letters, digits, - or _)."
            )
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(
                f"CREDENTIAL_KEYS entry {position} ({kid}): key is not valid base64."
            ) from None
        if len(key) != 32:
            raise ImproperlyConfigured(
                f"CREDENTIAL_KEYS entry {position} ({kid}): key must be 32 bytes, not {len(key)}."
            )
        if any(k == kid for k, _ in keys):
            raise ImproperlyConfigured(f"CREDENTIAL_KEYS: key id {kid!r} appears twice.")
        keys.append((kid, key))
    if not keys:
        raise ImproperlyConfigured("CREDENTIAL_KEYS is empty.")
    return KeyRing(tuple(keys))


_cached: tuple[str, KeyRing] | None = None


def key_ring() -> KeyRing:
    global _cached
    spec = settings.CREDENTIAL_KEYS
    if _cached is None or _cached[0] != spec:
        _cached = (spec, parse_key_ring(spec))
    return _cached[1]


def valid_kid(kid: str) -> bool:
    return bool(_KID.match(kid))


def new_key_entry(kid: str) -> str:
    """A fresh 'kid:base64key' entry for CREDENTIAL_KEYS."""
    if not valid_kid(kid):
        raise ValueError("key id may only hold letters, digits, - and _ (1 to 32 characters)")
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


def encrypt(plaintext: bytes, *, binding: str) -> str:
    ring = key_ring()
    nonce = os.urandom(12)
    sealed = AESGCM(ring.keys[0][1]).encrypt(nonce, plaintext, _aad(binding))
    return f"{VERSION}:{ring.current_kid}:{base64.b64encode(nonce + sealed).decode()}"


def token_kid(token: str) -> str | None:
    parts = token.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == VERSION else None


def decrypt(token: str, *, binding: str) -> bytes:
    parts = token.split(":", 2)
    if len(parts) != 3 or parts[0] != VERSION:
        raise CredentialError("Stored credentials are not in a known format.")
    _, kid, encoded = parts
    key = key_ring().get(kid)
    if key is None:
        raise CredentialError(
            f"Stored credentials were encrypted with key {kid!r}, which is not in CREDENTIAL_KEYS."
        )
    try:
        raw = base64.b64decode(encoded, validate=True)
        return AESGCM(key).decrypt(raw[:12], raw[12:], _aad(binding))
    except (binascii.Error, ValueError, InvalidTag):
        raise CredentialError(
            "Stored credentials failed their integrity check (wrong key, or moved or altered)."
        ) from None


def _aad(binding: str) -> bytes:
    return f"robot-dashboard/credentials/{binding}".encode()
