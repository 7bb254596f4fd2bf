"""Sync health pages (namespace "devices")."""

from django.urls import path

from devices.views import sync_health

urlpatterns = [
    path("cloud/syncs/", sync_health.household_syncs, name="household_sync"),
    path("cloud/<int:pk>/syncs/", sync_health.account_syncs, name="sync_health"),
    path("cloud/<int:pk>/syncs/interval", sync_health.set_interval, name="sync_interval"),
]
