"""Seed data of the 360 Smart simulator (cloud-apis.md 5.3.1).

Everything here is derived from the seed, so an identical seed gives identical data.
Histories are generated lazily per device (``Device.history()``), and generated benchmark
accounts cost a few dictionary entries each until their devices are first read.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field

DAY = 86400
HISTORY_DAYS = 180

# The full flag string of cloud-apis.md 3.5.2, byte for byte.
FULL_SUPPORT = (
    '{"carpetMode":1,"cleanTimesInTimer":1,"deleteMap":1,"led":1,"logReport":1,'
    '"maxBanArea30":1,"maxMode":1,"mop":1,"mopBanArea":1,"multiQuietHours":1,"reboot":1,'
    '"remoteControl":1,"remoteControlWithMap":1,"restoreMap":1,"roomSweep":1,"rotateMap":1,'
    '"rssi":1,"saveMap":1,"setRoomAttrib":1,"smartArea":1,"softAlongWall":1,'
    '"sweepAreaInTimer":1,"timedSweepMode":1,"virtualWall":1,"voicePacket":1,"volume":1}'
)
S5_SUPPORT = '{"maxMode":0,"volume":0,"mop":0,"roomSweep":1}'

# Device error codes of cloud-apis.md 3.8.3 (the related firmware's table).
ERROR_TEXTS = {
    -2101: "Low battery, returning",
    -2102: "Low battery, powering off",
    -2201: "Wheel fault / stuck",
    -2302: "Bumper / collision",
    -2304: "Tilt",
    -2305: "Lidar",
    -2306: "Lidar",
    -2308: "Wall / PSD sensor dirty",
    -2309: "Wall / PSD sensor dirty",
    -2401: "Main brush",
    -2402: "Side brush",
    -2403: "Fan",
    -2404: "Lidar cover",
    -2405: "Dust bin full",
    -2406: "Dust bin missing",
    -2501: "Trapped",
    -2502: "Skid",
    -2601: "Picked up",
    -2602: "No water tank",
    -2603: "Water tank empty",
    -2605: "Cannot reach target",
    -2606: "Started in a no-go zone",
    -2607: "Cliff / drop",
    5058: "Could not find charger",
}
# Codes whose entry in errorInfo_us.json is an object with a hint, the rest plain strings:
# the real file's structure is unknown, so the client must handle both (3.5.11).
ERROR_HINTS = {
    -2201: "Check the drive wheels for tangles.",
    -2401: "Remove and clean the main brush.",
    -2405: "Empty the dust bin.",
    -2501: "Move the robot to open floor and start again.",
    -2601: "Put the robot back on the floor.",
    -2607: "Wipe the cliff sensors under the robot.",
    5058: "Make sure the dock is powered and free of obstacles.",
}
MODEL_NAMES = {"S5": "360 S5", "S7": "360 S7", "S9": "360 S9", "X95": "360 X95"}
ICON_COLOURS = {"S5": (52, 120, 246), "S7": (30, 30, 30), "S9": (200, 60, 60), "X95": (20, 150, 90)}


def error_info() -> dict:
    """Body of ``GET /clean/errorInfo_us.json`` (simulator shape of 3.5.11)."""
    info: dict = {}
    for code, text in ERROR_TEXTS.items():
        hint = ERROR_HINTS.get(code)
        info[str(code)] = {"title": text, "desc": hint} if hint else text
    return info


def model_alias() -> dict:
    """Body of ``GET /clean/modelalias.json`` (simulator shape of 3.5.12)."""
    return {
        hw: {"name": name, "ovLogReport": "1" if hw in ("S7", "X95") else "0", "cnLogReport": "0"}
        for hw, name in MODEL_NAMES.items()
    }


def derived_hex(seed: int, *parts: object, length: int = 32) -> str:
    """A stable pseudo-random hex string (SIDs, pushKeys of seeded and generated accounts)."""
    text = ":".join(str(part) for part in (seed, "qihoo360", *parts))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


@dataclass
class Account:
    qid: str
    sid: str | None
    push_key: str
    nick: str
    q: str | None = None  # Q/T cookies of the web login (method 2 accounts only)
    t: str | None = None
    qt_revoked: bool = False
    deactivated: bool = False
    logins: int = 0
    generated: bool = False

    def describe(self) -> dict:
        """For the control API and state dumps (the simulator's own secrets are fair game)."""
        return {
            "qid": self.qid,
            "sid": self.sid,
            "pushKey": self.push_key,
            "nick": self.nick,
            "q": self.q,
            "t": self.t,
            "qt_revoked": self.qt_revoked,
            "deactivated": self.deactivated,
            "logins": self.logins,
        }


@dataclass
class Device:
    sn: str
    title: str
    hardware: str
    owner: str
    online: bool
    support: str
    version: str
    version_code: int
    home_area: int
    mode: str
    elec: int
    seed: int
    anchor: int  # midnight (UTC) of the day the clock started: the history ends there
    shared_with: list[str] = field(default_factory=list)
    runs: int | None = None  # None: about one run a day for HISTORY_DAYS
    _records: list[dict] | None = None  # oldest first; the API serves newest first
    _positions: dict[str, int] = field(default_factory=dict)

    def history(self) -> list[dict]:
        if self._records is None:
            self._records = generate_history(self.seed, self.sn, self.anchor, self.runs)
            self._positions = {rec["cleanId"]: i for i, rec in enumerate(self._records)}
        return self._records

    def position(self, clean_id: str) -> int | None:
        self.history()
        return self._positions.get(clean_id)

    def add_record(self, record: dict) -> None:
        records = self.history()
        self._positions[record["cleanId"]] = len(records)
        records.append(record)

    def stats_offset(self) -> tuple[int, int, int]:
        """Lifetime totals from before the generated history (area, count, seconds)."""
        rng = random.Random(f"{self.seed}:qihoo360:offset:{self.sn}")
        area = rng.randint(400, 3000)
        return area, area // 45, area * 70 + rng.randint(0, 3600)


def generate_history(seed: int, sn: str, anchor: int, runs: int | None = None) -> list[dict]:
    """Past runs of one device, oldest first, all ending before ``anchor``."""
    rng = random.Random(f"{seed}:qihoo360:history:{sn}")
    starts = []  # newest first
    if runs is None:
        for day in range(1, HISTORY_DAYS + 1):
            if rng.random() < 0.92:
                starts.append(anchor - day * DAY + rng.randint(7 * 3600, 20 * 3600))
    else:
        # Benchmarks ask for many runs: space them out so runs never overlap.
        spacing = max(HISTORY_DAYS * DAY // max(runs, 1), 4 * 3600)
        starts = [anchor - (i + 1) * spacing + rng.randint(0, spacing // 4) for i in range(runs)]
    failed = set(rng.sample(range(len(starts)), min(3, len(starts))))
    codes = sorted(ERROR_TEXTS)
    records = []
    for i, start in enumerate(starts):
        area = rng.randint(30, 60)
        seconds = min(3600, max(1500, int(area * 55 + rng.uniform(-300, 600))))
        mode = "smartClean" if rng.random() < 0.88 else rng.choice(("edgeClean", "areaClean"))
        records.append(
            {
                "cleanId": f"{sn}-{start}",
                "startTime": start,
                "endTime": start + seconds,
                "cleanArea": area,
                "cleanTime": seconds,
                "mode": mode,
                "errorEnd": rng.choice(codes) if i in failed else 0,
            }
        )
    records.reverse()
    return records


@dataclass
class Seed:
    accounts: dict[str, Account]
    devices: dict[str, Device]


def build_seed(seed: int, anchor: int) -> Seed:
    """The two accounts and four devices of cloud-apis.md 5.3.1."""
    accounts = {
        "1234123412": Account(
            qid="1234123412",
            sid="4a20145c62428d31b52b53c9ccbfcee4",
            push_key="a1b2c3d4e5f60718a1b2c3d4e5f60718",
            nick="Demo owner",
        ),
        "2000000002": Account(
            qid="2000000002",
            # Not in the spec: a seed-derived SID, so tests may skip the login step.
            sid=derived_hex(seed, "sid", "2000000002"),
            push_key=derived_hex(seed, "pushkey", "2000000002"),
            nick="Guest",
            q="u=360H2000000002&n=demo&qid=2000000002&t=1",
            t="s=simT2000000002&t=1&v=2.0&a=1",
        ),
    }
    common = {"owner": "1234123412", "seed": seed, "anchor": anchor}
    devices = [
        Device("361TY000003000000", "Living room", "S7", online=True, support=FULL_SUPPORT,
               version="1.8.9", version_code=2976, home_area=48, mode="charge", elec=89,
               **common),
        Device("360TY000001000001", "Upstairs", "S5", online=True, support=S5_SUPPORT,
               version="1.6.2", version_code=2140, home_area=36, mode="fullcharge", elec=100,
               **common),
        Device("361TY000009000009", "Garage", "S9", online=False, support="",
               version="2.1.0", version_code=3105, home_area=40, mode="fullcharge", elec=100,
               runs=0, **common),
        Device("360TY000100000100", "Office", "X95", online=True, support=FULL_SUPPORT,
               version="3.0.4", version_code=4012, home_area=55, mode="fullcharge", elec=100,
               shared_with=["2000000002"], **common),
    ]  # fmt: skip
    return Seed(accounts, {device.sn: device for device in devices})


def generated_qid(index: int) -> str:
    return str(3000000000 + index)


def add_generated(
    accounts: dict[str, Account],
    devices: dict[str, Device],
    seed: int,
    anchor: int,
    index: int,
    runs_per_device: int | None,
    devices_per_account: int = 1,
) -> Account:
    """One benchmark account ``3000000000+index`` with seed-derived SID and pushKey."""
    qid = generated_qid(index)
    account = Account(
        qid=qid,
        sid=derived_hex(seed, "sid", qid),
        push_key=derived_hex(seed, "pushkey", qid),
        nick=f"Bench {index}",
        q=f"u=360H{qid}&n=bench&qid={qid}&t=1",
        t=f"s=simT{qid}&t=1&v=2.0&a=1",
        generated=True,
    )
    accounts[qid] = account
    for number in range(devices_per_account):
        sn = f"362TY{index:08d}{number:04d}"
        devices[sn] = Device(
            sn, f"Vacuum {index}-{number}", "S7", owner=qid, online=True, support=FULL_SUPPORT,
            version="1.8.9", version_code=2976, home_area=48, mode="fullcharge", elec=100,
            seed=seed, anchor=anchor, runs=runs_per_device,
        )  # fmt: skip
    return account


def support_flags(device: Device) -> dict:
    try:
        flags = json.loads(device.support)
    except ValueError:
        return {}
    return flags if isinstance(flags, dict) else {}
