"""Celery wiring: configuration comes from Django settings (CELERY_* names).

Database connections in workers follow the web's rules: around every task, connections
that are older than CONN_MAX_AGE or broken are closed (`close_old_connections`, what
Django does around each request), and the rest are kept. Celery's own Django fix-up
would close every connection before and after each task (unless CELERY_DB_REUSE_MAX is
set, which settings does), so each sync paid for a new Postgres connection.
"""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("dashboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_connections(task=None, **kwargs) -> None:
    if task is not None and getattr(task.request, "is_eager", False):
        return  # run in the caller's thread: its connections are the caller's
    from django.db import close_old_connections as close

    close()
