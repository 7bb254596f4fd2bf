"""The buttons each vendor has and when each is offered (cloud-apis.md 3.6, 3.6.1, 3.6.2
for 360 vacuums; 4.4.6 for Mammotion mowers). Pure decisions on a Device row: no queries,
no vendor calls (devices.commands sends).

    spec_for(device, "start")            -> CommandSpec, or None (unknown key, or a station)
    command_panel(device, recent=...)    -> Panel: the buttons the device page shows
    clean_params(device, spec, form)     -> checked parameters, or CommandNotAllowed

Gating: a capability flag that is explicitly off hides a button (absent -> shown); the
last known state hides buttons that make no sense in it (3.6.2 / 4.4.6 tables), unless
the state is unknown, stale or older than the latest command: then everything is shown;
offline disables all but Refresh status; an account that must be re-linked disables all.
Roles are the view's business (viewers get no panel).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from devices.clouds.mammotion import MowerAction
from devices.clouds.qihoo360_commands import SUCTION_LEVELS
from devices.clouds.qihoo360_commands import Command as Q
from devices.machines import CommandLog, CommandStatus, Device, DeviceKind
from devices.models import AccountStatus, Vendor
from devices.status import cached_tasks

VENDOR_NAMES = {Vendor.QIHOO360: "360", Vendor.MAMMOTION: "Mammotion"}


@dataclass(frozen=True)
class CommandSpec:
    key: str  # URL slug and CommandLog.command
    label: str  # the button
    noun: str  # in messages: "Living room: start sent."
    vendor_command: str = ""  # 360 Command or Mammotion MowerAction value
    valid_from: frozenset[str] | None = None  # state keys it is offered in; None: any
    confirm: bool = False  # asks "Are you sure?" first
    question: str = ""  # the confirmation question, with {name}
    option: str = ""  # its one parameter: "level", "volume" or "task"
    flag: str = ""  # the capability flag that hides it
    offline_ok: bool = False  # offered while the device is offline
    changes_state: bool = True  # False: sound, settings, status request


def _states(*names: str) -> frozenset[str]:
    return frozenset(names)


# 3.6 buttons; valid_from is the "valid from mode" column of 3.6.2.
_Q360_STARTABLE = _states("idle", "charge", "fullcharge", "pause", "dormant")
QIHOO360_COMMANDS = (
    CommandSpec(
        "start",
        "Start cleaning",
        "start",
        Q.START,
        _Q360_STARTABLE,
        True,
        "Start {name} now? It will leave the dock and clean the whole home.",
    ),
    CommandSpec(
        "spot",
        "Spot clean",
        "spot clean",
        Q.SPOT,
        _Q360_STARTABLE,
        True,
        "Start a spot clean with {name} now?",
    ),
    CommandSpec(
        "edge",
        "Edge clean",
        "edge clean",
        Q.EDGE,
        _Q360_STARTABLE,
        True,
        "Start an edge clean with {name} now?",
    ),
    CommandSpec("pause", "Pause", "pause", Q.PAUSE, _states("sweep")),
    CommandSpec("resume", "Resume", "resume", Q.RESUME, _states("pause")),
    CommandSpec(
        "stop",
        "Stop",
        "stop",
        Q.STOP,
        _states("sweep", "pause"),
        True,
        "Stop {name}? The current run ends here.",
    ),
    CommandSpec(
        "dock", "Return to dock", "return to dock", Q.DOCK, _states("sweep", "pause", "idle")
    ),
    CommandSpec(
        "cancel_dock", "Cancel return", "cancel return", Q.CANCEL_DOCK, _states("backcharge")
    ),
    CommandSpec("find", "Find robot", "find robot", Q.FIND, changes_state=False),
    CommandSpec(
        "suction", "Set suction", "suction level", Q.SUCTION, option="level", changes_state=False
    ),
    CommandSpec(
        "volume",
        "Set volume",
        "volume",
        Q.VOLUME,
        option="volume",
        flag="volume",
        changes_state=False,
    ),
    CommandSpec(
        "status", "Refresh status", "status request", Q.STATUS, offline_ok=True, changes_state=False
    ),
)
QIHOO360_KNOWN_STATES = _states(
    "sweep", "pause", "backcharge", "charge", "fullcharge", "idle", "dormant"
)

# 4.4.6 "UI availability by status"; Standby is split by chargeStatus (4.5.2).
_MOWER_STARTABLE = _states("standby", "standby_docked", "standby_off_dock", "charging")
_MOWER_RUNNING = ("working", "mowing", "paused", "taskpaused")
MAMMOTION_COMMANDS = (
    CommandSpec(
        "start_task",
        "Start task",
        "start of the task",
        MowerAction.START,
        _MOWER_STARTABLE,
        True,
        "Start the selected task on {name} now? The mower will drive off and mow.",
        option="task",
    ),
    CommandSpec(
        "start_now",
        "Start mowing now",
        "start",
        MowerAction.CMD_START,
        _MOWER_STARTABLE,
        True,
        "Start {name} now, without a saved task? The mower will drive off and mow.",
    ),
    CommandSpec("pause", "Pause", "pause", MowerAction.PAUSE, _states("working", "mowing")),
    CommandSpec(
        "resume",
        "Resume",
        "resume",
        MowerAction.RESUME,
        _states("paused", "taskpaused"),
        True,
        "Resume mowing with {name}? The mower will start moving.",
    ),
    CommandSpec(
        "stop",
        "Stop",
        "stop",
        MowerAction.STOP,
        _states(*_MOWER_RUNNING, "returning"),
        True,
        "Stop {name}? The current job ends here.",
    ),
    CommandSpec(
        "dock",
        "Return to dock",
        "return to dock",
        MowerAction.RETURN,
        _states(*_MOWER_RUNNING, "standby", "standby_off_dock"),
    ),
    CommandSpec(
        "cancel_dock",
        "Cancel return",
        "cancel return",
        MowerAction.CANCEL_RETURN,
        _states("returning"),
    ),
    CommandSpec("status", "Refresh status", "status refresh", offline_ok=True, changes_state=False),
)
MAMMOTION_KNOWN_STATES = _MOWER_STARTABLE | _states(*_MOWER_RUNNING, "returning")

CATALOGUE = {Vendor.QIHOO360: QIHOO360_COMMANDS, Vendor.MAMMOTION: MAMMOTION_COMMANDS}
KNOWN_STATES = {Vendor.QIHOO360: QIHOO360_KNOWN_STATES, Vendor.MAMMOTION: MAMMOTION_KNOWN_STATES}
SUCTION_LABELS = {"quiet": "Quiet", "auto": "Auto", "strong": "Strong", "max": "Max"}
# CommandLog.status in the words people see (the stored values stay those of the model).
OUTCOME_LABELS = {
    CommandStatus.PENDING: "Sending",
    CommandStatus.SENT: "Sent",
    CommandStatus.ACKNOWLEDGED: "Accepted",
    CommandStatus.FAILED: "Failed",
    CommandStatus.LOST: "No answer",
}
RENAME = "rename"


class CommandNotAllowed(Exception):
    """A request the device or its catalogue cannot take; the text is for the user."""


def commands_of(device: Device) -> tuple[CommandSpec, ...]:
    if device.kind == DeviceKind.STATION:
        return ()  # 4.4.3: stations are listed, without controls
    return CATALOGUE.get(device.vendor, ())


def spec_for(device: Device, key: str) -> CommandSpec | None:
    return next((spec for spec in commands_of(device) if spec.key == key), None)


def command_label(vendor: str, key: str) -> str:
    if key == RENAME:
        return "Rename"
    spec = next((s for s in CATALOGUE.get(vendor, ()) if s.key == key), None)
    return spec.label if spec else key


def all_command_choices() -> list[tuple[str, str]]:
    """(key, label) of every command any vendor has, for the log's filter."""
    labels: dict[str, str] = {}
    for specs in CATALOGUE.values():
        for spec in specs:
            labels.setdefault(spec.key, spec.label)
    labels[RENAME] = "Rename"
    return sorted(labels.items(), key=lambda item: item[1])


def changes_state(vendor: str, key: str) -> bool:
    """Whether a logged command may have moved the machine (renames and settings do not)."""
    spec = next((s for s in CATALOGUE.get(vendor, ()) if s.key == key), None)
    return spec is not None and spec.changes_state


def state_key(device: Device) -> str:
    raw = (device.state or "").strip().lower()
    if device.vendor == Vendor.MAMMOTION and raw == "standby":
        if device.charge_status in (1, 2):
            return "standby_docked"
        if device.charge_status == 0:
            return "standby_off_dock"
    return raw


def known_state(device: Device, recent: Iterable[CommandLog] = (), now=None) -> str | None:
    """The state the buttons follow, or None when it is not known: never reported, not
    one of the table's states, stale, or a command was sent after it was observed (the
    robot may have moved on). Unknown -> every button is offered."""
    key = state_key(device)
    if key not in KNOWN_STATES.get(device.vendor, ()) or device.is_stale(now):
        return None
    observed = device.status_observed_at
    for entry in recent:
        moved = entry.status != CommandStatus.FAILED and changes_state(device.vendor, entry.command)
        if moved and entry.created_at > observed:
            return None
    return key


def needs_confirmation(device: Device, spec: CommandSpec, state: str | None) -> bool:
    # 4.4.6: with an unknown status every mower button asks first.
    return spec.confirm or (
        device.vendor == Vendor.MAMMOTION and state is None and spec.key != "status"
    )


def confirm_question(device: Device, spec: CommandSpec, params: Mapping | None = None) -> str:
    task = (params or {}).get("task")
    if spec.option == "task" and task:
        return f"Start the task “{task}” on {device.name} now? The mower will drive off and mow."
    if spec.question:
        return spec.question.format(name=device.name)
    return f"{spec.label}: {device.name}? Its current state is not known."


@dataclass(frozen=True)
class Button:
    spec: CommandSpec
    disabled: bool
    confirm: bool
    question: str
    choices: tuple[tuple[str, str], ...] = ()  # (value, label) of its option
    initial: str = ""


@dataclass(frozen=True)
class Panel:
    buttons: tuple[Button, ...]
    notes: tuple[str, ...]
    state_known: bool


def _choices(device: Device, spec: CommandSpec) -> tuple[tuple[tuple[str, str], ...], str]:
    if spec.option == "level":
        levels = [lv for lv in SUCTION_LEVELS if lv != "max" or device.capability("maxMode")]
        return tuple((lv, SUCTION_LABELS[lv]) for lv in levels), device.fan_level or "auto"
    if spec.option == "volume":
        volume = (device.status_extra or {}).get("vol")
        initial = str(volume) if isinstance(volume, int) and 0 <= volume <= 10 else "5"
        return tuple((str(v), str(v)) for v in range(11)), initial
    if spec.option == "task":
        return tuple((name, name) for name in cached_tasks(device) or ()), ""
    return (), ""


def command_panel(device: Device, *, recent: Iterable[CommandLog] = (), now=None) -> Panel | None:
    """The controls of the device page (for people who may command), or None when the
    device has none: RTK stations, and machines gone from their account."""
    specs = commands_of(device)
    if not specs or device.is_gone:
        return None
    state = known_state(device, list(recent), now)
    relinking = device.account.status == AccountStatus.REAUTH_REQUIRED
    notes = []
    if relinking:
        notes.append(
            f"The {VENDOR_NAMES.get(device.vendor, '')} account of this machine must be linked "
            "again; until an owner does, commands cannot be sent."
        )
    elif not device.online:
        notes.append(f"{device.name} is offline, so only Refresh status works.")
    if state is None and device.online and not relinking:
        notes.append("Its current state is not known (or out of date), so every control is shown.")
    buttons = []
    for spec in specs:
        if spec.flag and not device.capability(spec.flag):
            continue
        if state is not None and spec.valid_from is not None and state not in spec.valid_from:
            continue
        choices, initial = _choices(device, spec)
        if spec.option == "task" and not choices:
            tasks = cached_tasks(device)
            notes.append(
                "Saved tasks have not been loaded yet: press Refresh status to load them."
                if tasks is None
                else "This mower has no saved tasks; create them in the Mammotion app."
            )
            continue
        disabled = relinking or (not device.online and not spec.offline_ok)
        buttons.append(
            Button(
                spec=spec,
                disabled=disabled,
                confirm=needs_confirmation(device, spec, state),
                question=confirm_question(device, spec),
                choices=choices,
                initial=initial,
            )
        )
    return Panel(buttons=tuple(buttons), notes=tuple(notes), state_known=state is not None)


def clean_params(device: Device, spec: CommandSpec, data: Mapping) -> dict:
    """The command's parameters from a form, checked; raises CommandNotAllowed."""
    if spec.flag and not device.capability(spec.flag):
        raise CommandNotAllowed(f"{device.name} does not support the {spec.noun} setting.")
    if spec.option == "level":
        level = str(data.get("level") or "")
        if level not in SUCTION_LEVELS:
            raise CommandNotAllowed("Choose a suction level: quiet, auto, strong or max.")
        if level == "max" and not device.capability("maxMode"):
            raise CommandNotAllowed(f"{device.name} has no max suction level.")
        return {"level": level}
    if spec.option == "volume":
        raw = str(data.get("volume") or "").strip()
        if not raw.isdigit() or not 0 <= int(raw) <= 10:
            raise CommandNotAllowed("The volume must be a whole number from 0 to 10.")
        return {"volume": int(raw)}
    if spec.option == "task":
        task = str(data.get("task") or "").strip()
        if not task or len(task) > 100:
            raise CommandNotAllowed("Choose one of the mower's saved tasks.")
        return {"task": task}
    return {}


def describe(spec: CommandSpec, params: Mapping) -> str:
    """The command in a sentence's words: "start", "suction level max", ..."""
    if spec.option == "level":
        return f"suction level {params.get('level', '')}"
    if spec.option == "volume":
        return f"volume {params.get('volume', '')}"
    if spec.option == "task":
        return f"start of the task “{params.get('task', '')}”"
    return spec.noun


def params_text(command: str, params) -> str:
    """A log row's parameters in words ("max", "Front lawn", "“Old” → “New”")."""
    params = params if isinstance(params, dict) else {}
    if command == RENAME:
        return f"“{params.get('old', '')}” → “{params.get('name', '')}”"
    for key in ("level", "volume", "task"):
        if key in params:
            value = params[key]
            if key == "task":
                return f"“{value}”"
            return SUCTION_LABELS.get(value, str(value)) if key == "level" else str(value)
    return ""
