"""Settings of the worker subprocess in test_worker_kill.py: the project's settings, with
the test database and Redis broker (and its key prefix) the test process uses, a short
Redis visibility timeout (so a killed worker's message is redelivered within seconds,
not an hour) and a short sync lease (so its lease expires within seconds)."""

import os

from dashboard.settings import *  # noqa: F403
from dashboard.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["SYNC_TEST_DB_NAME"]
CELERY_BROKER_URL = os.environ["SYNC_TEST_BROKER_URL"]
CELERY_BROKER_TRANSPORT = None  # the URL's (settings name the filesystem one without Redis)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 8,
    "queue_order_strategy": "priority",
    "global_keyprefix": os.environ["SYNC_TEST_BROKER_PREFIX"],
    # Look for messages of dead workers every second (default: every 100 s).
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
SYNC_LEASE_SECONDS = 6
SYNC_MAX_DETAILS_PER_SYNC = int(os.environ.get("SYNC_MAX_DETAILS_PER_SYNC", "200"))
MEDIA_ROOT = os.environ["SYNC_TEST_MEDIA_ROOT"]
