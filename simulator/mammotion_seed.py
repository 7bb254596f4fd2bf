"""Seed data of the Mammotion simulator (docs/cloud-apis.md §5.4.1) and generated households.

Only the static part is built here; work-report and fault history is generated lazily per
device (simulator/mammotion_history.py) so that construction and `reset()` stay fast.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.interface import Clock, ViolationRecorder
from simulator.mammotion_model import (
    Account,
    Credential,
    Job,
    Mower,
    Task,
    World,
    ms,
    stable_id,
    stable_number,
)

OWNER_EMAIL = "owner@example.com"
OWNER_PASSWORD = "Mower-Pass1"  # noqa: S105 - documented seed password (§5.4.1)
SEED_CLIENTS = {"sim-client-1": "sim-secret-1", "sim-client-empty": "sim-secret-empty"}

WIFI = {
    "usedNetwork": "1",
    "wifiAvailable": True,
    "wifiRssi": -64,
    "wifiIp": "192.168.1.100",
    "cellularAvailable": False,
    "cellularRssi": -67,
}
CELLULAR = {
    "usedNetwork": "2",
    "wifiAvailable": False,
    "wifiRssi": 0,
    "wifiIp": "",
    "cellularAvailable": True,
    "cellularRssi": -79,
}

# name -> (model, kind, firmware, nickname, tasks (name, m²), collector, network)
SEED_DEVICES = {
    "Luba-VS5K8D2M1": (
        "LUBA 2 AWD 3000X",
        "mower",
        "1.30.29.8",
        "",
        [("Front lawn", 420.0), ("Back lawn", 680.0), ("Edges only", 150.0)],
        False,
        WIFI,
    ),
    "Yuka-MV27A3F9K2": (
        "YUKA mini",
        "mower",
        "1.16.2.118",
        "Front Lawn",
        [("Whole garden", 900.0)],
        True,
        CELLULAR,
    ),
    "RTKX9Q2L7P4": ("RtkRefStationV1", "station", "1.3.1.12", "", [], False, WIFI),
    "Luba-MN4H7C1K9": (
        "Luba mini AWD",
        "mower",
        "1.30.21.4",
        "",
        [("Side lawn", 300.0)],
        False,
        WIFI,
    ),
}

WORKING_SINCE = 20 * 60  # Mower 2 has been mowing for 20 minutes at the clock's start
JOB_DURATION = 3600.0  # every task takes ~60 minutes (§5.4.5)


def build_world(
    clock: Clock, seed: int, origin: Callable[[], str], record_violation: ViolationRecorder
) -> World:
    now = clock.now()
    world = World(
        clock=clock, seed=seed, origin=origin, record_violation=record_violation, anchor=now
    )
    owner = new_account(world, OWNER_EMAIL, OWNER_PASSWORD, "SWE", "SE", created=now - 400 * 86400)
    owner.full_name = "Demo Owner"
    devices = [make_device(world, name, *spec) for name, spec in SEED_DEVICES.items()]
    for device in devices:
        world.devices[device.id] = device
    world.credentials["sim-client-1"] = Credential(
        "sim-client-1", "sim-secret-1", OWNER_EMAIL, [device.id for device in devices]
    )
    # The empty credentials belong to an account without mowers (no app login seeded).
    world.credentials["sim-client-empty"] = Credential(
        "sim-client-empty", "sim-secret-empty", None, []
    )
    _seed_states(world, devices, now)
    return world


def new_account(
    world: World, email: str, password: str, area: str, domain: str, created: float
) -> Account:
    account = Account(
        email=email,
        password=password,
        area_code=area,
        domain=domain,
        user_id=stable_number(world.seed, "user", email),
        created=created,
    )
    world.accounts[email] = account
    return account


def make_device(
    world: World,
    name: str,
    model: str,
    kind: str,
    version: str,
    nickname: str,
    tasks: list[tuple[str, float]],
    collector: bool,
    network: dict,
) -> Mower:
    return Mower(
        id=stable_id(world.seed, "device", name),
        name=name,
        model=model,
        kind=kind,
        version=version,
        nickname=nickname,
        network=dict(network),
        tasks=[
            Task(stable_id(world.seed, "task", name, task, length=16), task, area)
            for task, area in tasks
        ],
        collector=collector,
        t=world.anchor,
    )


def _seed_states(world: World, devices: list[Mower], now: float) -> None:
    luba, yuka, station, mini = devices
    station.battery, station.charge_status, station.docked = 0, 0, False
    mini.online, mini.status, mini.battery = False, "Offline", 37
    mini.charge_status, mini.docked = 0, False
    yuka.status, yuka.battery, yuka.charge_status, yuka.docked = "Working", 63, 0, False
    start = now - WORKING_SINCE
    task = yuka.tasks[0]
    yuka.job = Job(
        work_id=stable_number(world.seed, "job", yuka.name, ms(start)),
        task_name=task.name,
        area=task.area,
        duration=JOB_DURATION,
        start=start,
        work_type=2,  # scheduled
        job_content=2,
        worked=float(WORKING_SINCE),
        events=[(ms(start), 1)],  # auto start
    )
    world.active.add(yuka.id)
    del luba  # Mower 1 keeps the defaults: Standby, docked, full (chargeStatus 1)


def generate(world: World, count: int, mowers: int, reports: int) -> list[dict]:
    """Add `count` credential sets `sim-client-gen-<i>` (secret `sim-secret-gen-<i>`), each
    linked to app account `gen-<i>@example.com` and owning `mowers` docked mowers with
    `reports` work reports each (generated lazily on first read)."""
    created = []
    for index in range(world.generated, world.generated + count):
        email = f"gen-{index}@example.com"
        new_account(world, email, OWNER_PASSWORD, "DEU", "DE", created=world.anchor - 86400)
        ids = []
        for number in range(mowers):
            name = f"Luba-G{index:05d}M{number:03d}"
            spec = SEED_DEVICES["Luba-VS5K8D2M1"]
            device = make_device(world, name, *spec)
            device.history_reports = reports
            world.devices[device.id] = device
            ids.append(device.id)
        client_id = f"sim-client-gen-{index}"
        secret = f"sim-secret-gen-{index}"
        world.credentials[client_id] = Credential(client_id, secret, email, ids)
        created.append(
            {"client_id": client_id, "client_secret": secret, "email": email, "deviceIds": ids}
        )
    world.generated += count
    return created
