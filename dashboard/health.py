"""Liveness checks for /healthz: database and broker reachable."""

from __future__ import annotations

import logging
import os

from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)

# Seconds for one attempt to reach the broker. A broker that accepts the TCP connection
# but never answers must not hold /healthz (and a gunicorn worker) until its own timeout.
BROKER_TIMEOUT = 1.0
_BROKER_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any driver error means "not reachable"
        log.warning("healthz: database check failed", exc_info=True)
        return False


def broker_ok() -> bool:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folders = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        return all(os.access(folders[key], os.W_OK) for key in _BROKER_FOLDERS if key in folders)
    from dashboard.celery import app

    # The URL comes from settings (not the app's cached conf) so both checks above agree;
    # so does the transport: the URL's own (the app's is dashboard.broker's filesystem
    # transport when REDIS_URL is unset, see CELERY_BROKER_TRANSPORT).
    timeouts = {"socket_timeout": BROKER_TIMEOUT, "socket_connect_timeout": BROKER_TIMEOUT}
    try:
        with app.connection_for_write(
            url,
            transport=url.partition("://")[0],
            connect_timeout=BROKER_TIMEOUT,
            transport_options=timeouts,
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        return True
    except Exception as exc:  # kombu raises transport-specific errors
        # The exception type only: its text can contain the broker URL with its password.
        log.warning("healthz: broker check failed (%s)", type(exc).__name__)
        return False


def last_sync_age_seconds() -> float | None:
    """Seconds since the newest successful sync of any cloud account (the archive was
    last brought up to date); None when no account has synced yet."""
    from django.db.models import Max
    from django.utils import timezone

    from devices.models import CloudAccount

    newest = CloudAccount.objects.aggregate(newest=Max("last_sync_ok_at"))["newest"]
    if newest is None:
        return None
    return max(0.0, (timezone.now() - newest).total_seconds())
