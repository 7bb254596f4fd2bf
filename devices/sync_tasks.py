"""Celery tasks for background sync (see devices/sync.py)."""
