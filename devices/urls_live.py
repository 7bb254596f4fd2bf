"""The live status fragment (namespace "devices")."""

from django.urls import path

from devices.views import live

urlpatterns = [
    path("devices/<int:pk>/live-status/", live.live_status_fragment, name="live_status"),
]
