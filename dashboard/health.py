"""Liveness checks for /healthz: database and broker reachable."""

from __future__ import annotations

import logging
import os

from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any driver error means "not reachable"
        log.warning("healthz: database check failed", exc_info=True)
        return False


def broker_ok() -> bool:
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        folders = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        return all(
            os.access(folders[key], os.W_OK) for key in ("data_folder_in", "processed_folder")
        )
    from dashboard.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        return True
    except Exception:  # kombu raises transport-specific errors
        log.warning("healthz: broker check failed", exc_info=False)
        return False
