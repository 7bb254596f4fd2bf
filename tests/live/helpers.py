"""Helpers of the live-status tests (fixtures are in conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from devices.machines import Device
from devices.models import CloudAccount
from tests.devices.test_commands_support import PUSH_KEY, QID, S5, S7, S9, SID, X95

__all__ = ["PUSH_KEY", "QID", "S5", "S7", "S9", "SID", "X95"]

QT_QID = "2000000002"
QT_Q = "u=360H2000000002&n=demo&qid=2000000002&t=1"
QT_T = "s=simT2000000002&t=1&v=2.0&a=1"


def wait_for(condition: Callable[[], object], timeout: float = 10.0, what: str = "condition"):
    """Poll `condition` until it is truthy; returns its value, fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(0.05)


def device(account: CloudAccount, sn: str) -> Device:
    return Device.objects.get(account=account, remote_id=sn)


def sim_status(sim, sn: str) -> dict:
    return sim.control("GET", f"360/devices/{sn}")["status"]


def status_requests(sim, sn: str) -> list[dict]:
    """cmd/send 20001 requests the simulator received for one device."""
    return [
        entry
        for entry in sim.requests(vendor="qihoo360", path="/clean/cmd/send")
        if entry["body"].get("sn") == sn and entry["body"].get("infoType") == "20001"
    ]
