"""Fixtures and helpers for the command, device-page and status tests (no tests here).

Accounts are linked the way the product links them (CloudAccount rows with encrypted
credentials) and their devices discovered from the real simulator over HTTP:

    alice owns "Home" with the simulator's 360 account "sid" (S7 "Living room", S5, offline
    S9, X95) and the Mammotion credential sim-client-1 (Luba 2 Standby, Yuka mini "Front
    Lawn" Working, an RTK station, offline Luba mini).

Import the fixtures you use: `from tests.devices.test_commands_support import ...`.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from devices.cloud import client_for
from devices.discovery import discover_devices
from devices.machines import Device
from devices.models import CloudAccount, LinkMethod, Vendor

S7 = "361TY000003000000"  # "Living room": every support flag
S5 = "360TY000001000001"  # "Upstairs": maxMode 0, volume 0, mop 0
S9 = "361TY000009000009"  # "Garage": offline, support ""
X95 = "360TY000100000100"  # "Office": shared with the "qt" account
QID, SID = "1234123412", "4a20145c62428d31b52b53c9ccbfcee4"
PUSH_KEY = "a1b2c3d4e5f60718a1b2c3d4e5f60718"
LUBA = "Luba-VS5K8D2M1"  # Standby, docked; tasks Front lawn / Back lawn / Edges only
YUKA = "Yuka-MV27A3F9K2"  # "Front Lawn", Working
STATION = "RTKX9Q2L7P4"
LUBA_MINI = "Luba-MN4H7C1K9"  # offline


@pytest.fixture
def sim_settings(sim, settings):
    """Point the product's vendor base URLs at the simulator (live_server shares them)."""
    for name in (
        "QIHOO360_API_URL",
        "QIHOO360_CONFIG_URL",
        "MAMMOTION_USER_URL",
        "MAMMOTION_AUTH_URL",
        "MAMMOTION_OPEN_API_URL",
    ):
        setattr(settings, name, sim.url)
    return sim


def link_360(household, *, label="360 at home") -> CloudAccount:
    account = CloudAccount(
        household=household,
        vendor=Vendor.QIHOO360,
        method=LinkMethod.QIHOO360_SID,
        label=label,
        identity=QID,
    )
    account.set_credentials({"sid": SID, "push_key": PUSH_KEY})
    account.save()
    discover_devices(account, client_for(account))
    return account


def link_mammotion(household, *, label="Mammotion") -> CloudAccount:
    account = CloudAccount(
        household=household,
        vendor=Vendor.MAMMOTION,
        method=LinkMethod.MAMMOTION_OPEN_API,
        label=label,
        identity="sim-client-1",
    )
    account.set_credentials({"client_id": "sim-client-1", "client_secret": "sim-secret-1"})
    account.save()
    discover_devices(account, client_for(account))
    return account


@pytest.fixture
def vacuums(home, sim_settings) -> dict[str, Device]:
    """Home's 360 robots by serial number."""
    account = link_360(home)
    return {d.remote_id: d for d in Device.objects.filter(account=account)}


@pytest.fixture
def mowers(home, sim_settings) -> dict[str, Device]:
    """Home's Mammotion machines by their vendor name (Luba-..., Yuka-..., RTK...)."""
    account = link_mammotion(home)
    devices = Device.objects.filter(account=account)
    return {sim_name(sim_settings, d.remote_id): d for d in devices}


def sim_name(sim, device_id: str) -> str:
    return sim.state()["vendors"]["mammotion"]["devices"][device_id]["name"]


def mower_state(sim, device: Device) -> dict:
    return sim.state()["vendors"]["mammotion"]["devices"][device.remote_id]


def vacuum_state(sim, device: Device) -> dict:
    return sim.control("GET", f"360/devices/{device.remote_id}")


def set_state(device: Device, state: str, *, charge_status=None, online=True, **fields) -> Device:
    """Store a fresh last-known status on the row (as a sync or the push listener would)."""
    device.state = state
    device.charge_status = charge_status
    device.online = online
    device.status_observed_at = timezone.now()
    for name, value in fields.items():
        setattr(device, name, value)
    device.save()
    return device


# --- reading the page's controls --------------------------------------------------------


class _Controls(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._button: dict | None = None
        self._select: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"attrs": attrs, "buttons": [], "selects": {}, "inputs": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "button":
            self._button = {"text": "", "disabled": "disabled" in attrs}
            self._form["buttons"].append(self._button)
        elif tag == "select":
            self._select = {"options": [], "disabled": "disabled" in attrs}
            self._form["selects"][attrs.get("name")] = self._select
        elif tag == "option" and self._select is not None:
            self._select["options"].append(attrs.get("value"))
        elif tag == "input":
            self._form["inputs"][attrs.get("name")] = attrs.get("value")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "button":
            self._button = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._button is not None:
            self._button["text"] += data


def command_forms(html: str) -> dict[str, dict]:
    """The page's command forms by command key (from their action URL):
    {"start": {"label": "Start cleaning", "disabled": False, "confirm": "...", "selects": {...}}}"""
    parser = _Controls()
    parser.feed(html)
    found = {}
    for form in parser.forms:
        match = re.search(r"/devices/\d+/commands/([\w-]+)/$", form["attrs"].get("action", ""))
        if not match:
            continue
        assert form["attrs"].get("method") == "post"
        assert "csrfmiddlewaretoken" in form["inputs"], "every command form carries CSRF"
        button = form["buttons"][0]
        found[match.group(1)] = {
            "label": button["text"].strip(),
            "disabled": button["disabled"],
            "confirm": form["attrs"].get("hx-confirm"),
            "selects": {name: s["options"] for name, s in form["selects"].items()},
            "hx_post": form["attrs"].get("hx-post"),
            "hx_target": form["attrs"].get("hx-target"),
        }
    return found
