"""Celery tasks for commands (see devices/commands.py)."""
