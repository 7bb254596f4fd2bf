"""Device pages, command buttons and command logs (namespace "devices")."""

from django.urls import path

from devices.views import commands, devices

urlpatterns = [
    path("devices/<int:pk>/", devices.device_page, name="device"),
    path("devices/<int:pk>/live/", devices.device_live, name="device_live"),
    path("devices/<int:pk>/rename/", devices.rename, name="rename"),
    path("devices/<int:pk>/commands/", commands.device_log, name="device_commands"),
    path("devices/<int:pk>/commands/<slug:command>/", commands.send, name="command"),
    path(
        "devices/<int:pk>/commands/<slug:command>/confirm/",
        commands.confirm,
        name="command_confirm",
    ),
    path("commands/", commands.household_log, name="commands"),
]
