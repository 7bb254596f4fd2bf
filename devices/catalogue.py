"""Vendor error catalogues and 360 model names, cached in Django's cache.

- 360: `errorInfo_us.json` and `modelalias.json` on QIHOO360_CONFIG_URL (cloud-apis.md
  3.5.11, 3.5.12): fetched at most once a day (the `refresh_catalogues` beat entry, and
  a sync that finds them stale); on failure the previous copy is kept. Model aliases go
  to `devices.discovery.MODEL_ALIASES_CACHE_KEY` as {hardware: display name}.
- Mammotion has no catalogue: each fault record carries its own text (4.8). Synced
  fault texts are remembered per code, with the community table of 4.8 as fallback.

    error_text(vendor, code) -> "Wheel stuck" or "Error <code>"
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from devices.clouds.base import CloudError
from devices.clouds.qihoo360_config import ErrorCatalogue, Qihoo360ConfigClient
from devices.discovery import MODEL_ALIASES_CACHE_KEY

log = logging.getLogger(__name__)

QIHOO360_ERRORS_KEY = "catalogue:qihoo360:errors"
MAMMOTION_ERRORS_KEY = "catalogue:mammotion:errors"
FETCHED_AT_KEY = "catalogue:qihoo360:fetched_at"
FAILED_AT_KEY = "catalogue:qihoo360:failed_at"
MAX_AGE = timedelta(hours=24)
RETRY_AFTER_FAILURE = timedelta(hours=1)
MEMO_SECONDS = 60.0  # pages look up many codes: keep a parsed copy in the process

# cloud-apis.md 4.8: community-collected Mammotion codes (used when no record taught us).
MAMMOTION_FALLBACK = {
    "1003": "Rain sensor triggered",
    "1005": "Low battery; will recharge and resume",
    "1019": "Cannot execute (mapping issue or locked)",
    "1026": "Outside working hours",
    "1100": "Outside task area / in no-go zone",
    "1200": "No IR signal; recharge failed",
    "1201": "Stuck; needs rescue",
    "1202": "Cutting plate stuck",
    "1204": "Auto-recharge failed",
    "1300": "Poor positioning (GNSS)",
    "1301": "Charging station moved",
    "2700": "Battery critically low",
    "2735": "Battery temperature high",
    "2800": "STOP button pressed",
    "2801": "Lift sensor triggered",
    "2804": "Poor Bluetooth",
}

_memo: dict[str, tuple[float, object]] = {}


def _cached(key: str, default):
    hit = _memo.get(key)
    if hit is not None and time.monotonic() - hit[0] < MEMO_SECONDS:
        return hit[1]
    value = cache.get(key)
    value = default if value is None else value
    _memo[key] = (time.monotonic(), value)
    return value


def _store(key: str, value) -> None:
    cache.set(key, value, timeout=None)  # kept until replaced: a failed refresh keeps it
    _memo.pop(key, None)


def error_text(vendor: str, code) -> str:
    """The vendor's text for an error code, or "Error <code>" when it is unknown."""
    key = str(code).strip()
    if not key or key == "0":
        return ""
    if vendor == "qihoo360":
        entries = _cached(QIHOO360_ERRORS_KEY, {})
        if isinstance(entries, dict) and entries:
            return ErrorCatalogue(entries).lookup(key).title
    elif vendor == "mammotion":
        learned = _cached(MAMMOTION_ERRORS_KEY, {})
        text = (learned.get(key) if isinstance(learned, dict) else None) or MAMMOTION_FALLBACK.get(
            key
        )
        if text:
            return text
    return f"Error {key}"


def is_stale(now=None) -> bool:
    now = now or timezone.now()
    fetched = _cached(FETCHED_AT_KEY, None)
    failed = _cached(FAILED_AT_KEY, None)
    if failed is not None and now - failed < RETRY_AFTER_FAILURE:
        return False
    return fetched is None or now - fetched > MAX_AGE


def refresh(*, force: bool = False) -> int:
    """Fetch the 360 error catalogue and model aliases when stale (or `force`).
    Returns the number of requests made; failures are logged and the old copy kept."""
    if not force and not is_stale():
        return 0
    from devices.cloud import BACKGROUND_TIMEOUT, new_session

    client = Qihoo360ConfigClient(
        new_session(), timeout=BACKGROUND_TIMEOUT, config_url=settings.QIHOO360_CONFIG_URL
    )
    try:
        errors = client.get_error_catalogue()
        aliases = client.get_model_aliases()
    except CloudError as exc:
        log.warning("360 catalogues not refreshed (kept the previous copy): %s", exc)
        _store(FAILED_AT_KEY, timezone.now())
        return client.requests_made
    _store(QIHOO360_ERRORS_KEY, dict(errors.entries))
    names = {model: aliases.display_name(model) for model in aliases.entries}
    _store(MODEL_ALIASES_CACHE_KEY, names)
    _store(FETCHED_AT_KEY, timezone.now())
    cache.delete(FAILED_AT_KEY)
    _memo.pop(FAILED_AT_KEY, None)
    log.info("360 catalogues refreshed: %d error codes, %d models", len(errors.entries), len(names))
    return client.requests_made


def remember_mammotion_faults(faults) -> None:
    """Learn code -> text from synced Mammotion fault records (their own texts)."""
    learned = {str(f.code): f.title for f in faults if f.code is not None and f.title}
    if not learned:
        return
    current = cache.get(MAMMOTION_ERRORS_KEY) or {}
    if all(current.get(code) == text for code, text in learned.items()):
        return
    _store(MAMMOTION_ERRORS_KEY, {**current, **learned})
