"""Celery tasks of the devices app (autodiscovered). Each task only loads ids and calls a
service; they live in one module per area and are collected here."""

from devices.command_tasks import *  # noqa: F403
from devices.sync_tasks import *  # noqa: F403
