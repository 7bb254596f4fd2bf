"""The mower state machine of the Mammotion simulator (docs/cloud-apis.md §5.4.5).

State advances in closed form between events (battery step boundaries are computed, not
stepped), so advancing the clock by a day costs a handful of iterations per mower.
"""

from __future__ import annotations

from simulator.mammotion_model import FaultRecord, Job, Mower, Report, World, ms, stable_number

DRAIN_SECONDS = 45.0  # -1 % per 45 s while working
CHARGE_SECONDS = 30.0  # +1 % per 30 s while charging
LOW_BATTERY = 15
AUTO_RESUME = 80
RETURN_SECONDS = 60.0
JOB_SECONDS = 3600.0
CMD_START_AREA = 500.0  # CMD_START mows "everything" without a saved task
LOW_BATTERY_FAULT = 1005
_EPS = 1e-6

ACTIONS = ("CMD_START", "START", "PAUSE", "RESUME", "STOP", "RETURN", "CANCEL_RETURN")


def is_active(mower: Mower) -> bool:
    """True when the mower's state changes with time alone."""
    if not mower.online or mower.kind != "mower":
        return False
    charging = mower.status == "Standby" and mower.charge_status == 2
    return mower.status in ("Working", "Returning") or charging


def advance(world: World, mower: Mower, now: float) -> None:
    """Run the mower's processes from `mower.t` up to `now`."""
    while mower.t < now - _EPS and is_active(mower):
        if mower.status == "Working":
            _step_working(world, mower, now)
        elif mower.status == "Returning":
            _step_returning(mower, now)
        else:
            _step_charging(mower, now)
    mower.t = max(mower.t, now)
    touch(world, mower)


def touch(world: World, mower: Mower) -> None:
    """Keep `world.active` in line with the mower's state after any change."""
    if is_active(mower):
        world.active.add(mower.id)
    else:
        world.active.discard(mower.id)


def _battery_steps(mower: Mower, seconds: float, period: float) -> int:
    total = mower.acc + seconds
    steps = int((total + _EPS) // period)
    mower.acc = max(0.0, total - steps * period)
    return steps


def _step_working(world: World, mower: Mower, now: float) -> None:
    job = mower.job or _ensure_job(world, mower, mower.t)
    t_low = mower.t + max(0.0, (mower.battery - LOW_BATTERY) * DRAIN_SECONDS - mower.acc)
    t_done = mower.t + max(0.0, job.duration - job.worked)
    t_next = min(now, t_low, t_done)
    elapsed = t_next - mower.t
    mower.battery = max(0, mower.battery - _battery_steps(mower, elapsed, DRAIN_SECONDS))
    job.worked += elapsed
    mower.t = t_next
    if t_done <= t_next + _EPS:
        job.worked = job.duration
        _finish_job(world, mower, 5, 12, t_next)
        _start_return(mower, t_next)
    elif t_low <= t_next + _EPS:
        job.events.append((ms(t_next), 10))  # low-battery recharge
        add_fault(mower, LOW_BATTERY_FAULT, 1, t_next)
        mower.resume_at_80 = True
        _start_return(mower, t_next)


def _step_returning(mower: Mower, now: float) -> None:
    if now < mower.return_due:
        mower.t = now
        return
    mower.t = mower.return_due
    mower.status, mower.docked, mower.acc = "Standby", True, 0.0
    mower.charge_status = 1 if mower.battery >= 100 else 2


def _step_charging(mower: Mower, now: float) -> None:
    target = AUTO_RESUME if mower.resume_at_80 and mower.job else 100
    t_event = mower.t + max(0.0, (target - mower.battery) * CHARGE_SECONDS - mower.acc)
    t_next = min(now, t_event)
    gained = _battery_steps(mower, t_next - mower.t, CHARGE_SECONDS)
    mower.battery = min(100, mower.battery + gained)
    mower.t = t_next
    if t_event > t_next + _EPS:
        return
    mower.battery, mower.acc = max(mower.battery, target), 0.0
    if target == 100:
        mower.charge_status = 1
        return
    mower.resume_at_80 = False  # auto resume after the low-battery recharge
    mower.status, mower.charge_status, mower.docked = "Working", 0, False
    mower.job.events.append((ms(t_next), 3))


def _start_return(mower: Mower, at: float) -> None:
    mower.status, mower.return_due, mower.acc = "Returning", at + RETURN_SECONDS, 0.0


def _ensure_job(world: World, mower: Mower, at: float) -> Job:
    """A job for a mower put into Working without one (e.g. by the devices control)."""
    mower.job = _new_job(world, mower, None, CMD_START_AREA, at, work_type=1)
    return mower.job


def _new_job(
    world: World, mower: Mower, task_name: str | None, area: float, at: float, work_type: int
) -> Job:
    mower.job_counter += 1
    return Job(
        work_id=stable_number(world.seed, "job", mower.name, mower.job_counter, ms(at)),
        task_name=task_name,
        area=area,
        duration=JOB_SECONDS,
        start=at,
        work_type=work_type,
        job_content=2 if mower.collector else 0,
    )


def _finish_job(world: World, mower: Mower, result: int, event: int, at: float) -> None:
    """Turn the running job into a work report (§5.4.5: every finished job creates one)."""
    job = mower.job
    if job is None:
        return
    job.events.append((ms(at), event))
    progress = 100.0 if result == 5 else round(min(99.9, job.worked / job.duration * 100), 1)
    mower.live_reports.append(
        Report(
            work_id=job.work_id,
            start=job.start,
            end=at,
            work_type=job.work_type,
            work_result=result,
            progress=progress,
            area=round(job.area * progress / 100, 1),
            time_used=int(job.worked),
            job_content=job.job_content,
            detail_seed=int(job.work_id) & 0xFFFFFFFF,
            events=list(job.events),
        )
    )
    mower.job, mower.resume_at_80 = None, False


def add_fault(mower: Mower, code: int, level: int, at: float) -> None:
    mower.live_faults.append(FaultRecord(code, level, at, at + 1.5, with_image=level == 3))


def raise_fault(world: World, mower: Mower, code: int, level: int) -> None:
    """Fault control: Abnormal, a fault record, and a running job ends interrupted."""
    now = world.now()
    advance(world, mower, now)
    _finish_job(world, mower, 4, 13, now)
    add_fault(mower, code, level, now)
    mower.status = "Abnormal"
    if not mower.docked:
        mower.charge_status = 0
    touch(world, mower)


def clear_fault(world: World, mower: Mower) -> None:
    advance(world, mower, world.now())
    if mower.status == "Abnormal":
        _settle_standby(mower)
    touch(world, mower)


def _settle_standby(mower: Mower) -> None:
    mower.status, mower.acc = "Standby", 0.0
    if mower.docked:
        mower.charge_status = 1 if mower.battery >= 100 else 2
    else:
        mower.charge_status = 0


# --- actions (POST /v1/mower/action, §4.4.6 and §5.4.5) ---------------------------------


def perform(world: World, mower: Mower, action: str, params: dict) -> tuple[bool, str]:
    """Apply an action; returns (commandResult, resultMessage)."""
    if mower.kind != "mower":
        return False, "not supported"
    if not mower.online:
        return False, "device offline"
    task_area, task_name = CMD_START_AREA, None
    if action == "START":
        task_name = params.get("taskName")
        if not task_name:
            return False, "taskName is required"
        task = mower.task(str(task_name))
        if task is None:
            return False, "task not found"
        task_area = task.area
    now = world.now()
    advance(world, mower, now)
    if _allowed(mower, action):
        _HANDLERS[action](world, mower, now, task_name, task_area)
    elif world.knobs["strict_actions"]:
        return False, "invalid state"
    elif action in ("CMD_START", "START", "STOP"):
        # Lenient mode: the mower obeys the commands that make sense from any state and
        # silently ignores the others (PAUSE when not working, ...).
        _HANDLERS[action](world, mower, now, task_name, task_area)
    touch(world, mower)
    return True, "Recharge command has been sent" if action == "RETURN" else "Success"


def _allowed(mower: Mower, action: str) -> bool:
    status, has_job = mower.status, mower.job is not None
    if action in ("CMD_START", "START"):
        return status == "Standby"
    if action == "PAUSE":
        return status == "Working"
    if action == "RESUME":
        return status == "Paused" and has_job
    if action == "STOP":
        return status in ("Working", "Paused", "Abnormal") or (
            has_job and status in ("Returning", "Standby")
        )
    if action == "RETURN":
        return status in ("Working", "Paused", "Abnormal") or (
            status == "Standby" and not mower.docked
        )
    return status == "Returning"  # CANCEL_RETURN


def _start(world: World, mower: Mower, now: float, task_name: str | None, area: float) -> None:
    _finish_job(world, mower, 4, 13, now)  # a suspended job is superseded
    mower.job = _new_job(world, mower, task_name, area, now, work_type=1)
    mower.job.events.append((ms(now), 2))  # manual start
    mower.status, mower.charge_status, mower.docked = "Working", 0, False
    mower.resume_at_80, mower.acc = False, 0.0


def _pause(world: World, mower: Mower, now: float, *_: object) -> None:
    mower.status = "Paused"
    mower.job.events.append((ms(now), 6))


def _resume(world: World, mower: Mower, now: float, *_: object) -> None:
    mower.status, mower.acc = "Working", 0.0
    mower.job.events.append((ms(now), 4))


def _stop(world: World, mower: Mower, now: float, *_: object) -> None:
    _finish_job(world, mower, 3, 14, now)
    if mower.status != "Standby":
        mower.docked = False  # stopped where it stands
    _settle_standby(mower)


def _return(world: World, mower: Mower, now: float, *_: object) -> None:
    _finish_job(world, mower, 4, 13, now)
    mower.docked, mower.charge_status = False, 0
    _start_return(mower, now)


def _cancel_return(world: World, mower: Mower, now: float, *_: object) -> None:
    mower.resume_at_80 = False
    if mower.job is not None:
        mower.status = "Paused"
    else:
        # Nothing to pause (the return followed a finished job): it stays where it is.
        mower.docked = False
        _settle_standby(mower)


_HANDLERS = {
    "CMD_START": _start,
    "START": _start,
    "PAUSE": _pause,
    "RESUME": _resume,
    "STOP": _stop,
    "RETURN": _return,
    "CANCEL_RETURN": _cancel_return,
}


def set_device(world: World, mower: Mower, fields: dict) -> None:
    """The `devices/{deviceId}` control: force online/status/batteryLevel/chargeStatus."""
    now = world.now()
    advance(world, mower, now)
    if "batteryLevel" in fields:
        level = int(fields["batteryLevel"])
        if not 0 <= level <= 100:
            raise ValueError("batteryLevel must be 0..100")
        mower.battery, mower.acc = level, 0.0
    if "chargeStatus" in fields:
        mower.charge_status = int(fields["chargeStatus"])
        mower.docked = mower.charge_status in (1, 2)
    if "status" in fields:
        _force_status(world, mower, str(fields["status"]), now)
    if "online" in fields:
        mower.online = bool(fields["online"]) and fields["online"] not in ("0", "false")
        if not mower.online:
            mower.status = "Offline"
        elif mower.status == "Offline":
            _settle_standby(mower)
    mower.t = now
    touch(world, mower)


def _force_status(world: World, mower: Mower, status: str, now: float) -> None:
    if status == "Offline":
        mower.online, mower.status = False, "Offline"
        return
    mower.status = status
    if status == "Working":
        mower.docked = False
        if mower.job is None:
            _ensure_job(world, mower, now)
    elif status == "Returning":
        mower.return_due = now + RETURN_SECONDS
