"""Work-report and fault history of the Mammotion simulator (docs/cloud-apis.md §4.4.7-§4.4.10).

History is generated per device on first read from a Random seeded with the simulator
seed and the device name, so identical seeds give identical data and unread devices cost
nothing. Detail fields are derived from a per-report seed only when a detail is requested.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from simulator.mammotion_model import FaultRecord, Mower, Report, World, ms, stable_number
from simulator.mammotion_texts import FAULTS

SEASON = range(4, 11)  # April-October: 1-2 jobs a day; otherwise an occasional one
HISTORY_DAYS = 180
_END_EVENT = {5: 12, 4: 13, 3: 14, 2: 6}
_START_EVENT = {1: 2, 2: 1, 3: 2, 4: 4}  # workType -> first eventCode
_REPORT_JOB_TO_PARAM = {0: 8, 1: 10, 2: 12}  # jobContent numbering differs (§4.4.9)


def save_time(area: float) -> float:
    """Minutes a person with a push mower would need (~8 m² a minute)."""
    return round(area / 8.0, 1)


def carbon_reduction(area: float) -> float:
    """Grams of CO₂ saved against a petrol mower (~1.75 g per m²)."""
    return round(area * 1.75, 1)


def energy_consume(time_used: float) -> float:
    """Wh drawn at ~110 W average while working."""
    return round(time_used / 3600.0 * 110.0, 1)


def reports(world: World, mower: Mower) -> list[Report]:
    """Seeded plus live reports of a device (unsorted)."""
    if mower.seeded is None:
        mower.seeded = _generate_reports(world, mower)
    return mower.seeded + mower.live_reports


def faults(world: World, mower: Mower) -> list[FaultRecord]:
    if mower.seeded_faults is None:
        mower.seeded_faults = _generate_faults(world, mower)
    return mower.seeded_faults + mower.live_faults


def _generate_reports(world: World, mower: Mower) -> list[Report]:
    if mower.kind != "mower":
        return []
    rng = random.Random(f"{world.seed}:{mower.name}:reports")
    starts = _job_starts(world, mower, rng)
    return [_seeded_report(world, mower, rng, start, index) for index, start in enumerate(starts)]


def _job_starts(world: World, mower: Mower, rng: random.Random) -> list[float]:
    """Start times (s) of the seeded jobs, all ending before the clock's start time."""
    if mower.history_reports is not None:
        # Generated devices: an exact count, spread evenly with jitter (at least 4 h apart).
        count = mower.history_reports
        gap = max(HISTORY_DAYS * 86400 / max(count, 1), 4 * 3600)
        return [world.anchor - (k + 1) * gap + rng.uniform(0, gap / 4) for k in range(count)]
    today = datetime.fromtimestamp(world.anchor, UTC).replace(hour=0, minute=0, second=0)
    starts = []
    for days_back in range(1, HISTORY_DAYS + 1):
        day = today - timedelta(days=days_back)
        if day.month in SEASON:
            jobs = 2 if rng.random() < 0.35 else 1
        else:
            jobs = 1 if rng.random() < 0.12 else 0
        for job in range(jobs):
            hour = rng.uniform(8.0, 10.5) if job == 0 else rng.uniform(14.0, 16.5)
            starts.append(day.timestamp() + hour * 3600)
    return starts


def _seeded_report(
    world: World, mower: Mower, rng: random.Random, start: float, index: int
) -> Report:
    task_area = rng.choice(mower.tasks).area if mower.tasks else 300.0
    work_type = rng.choices([2, 1, 4, 3], [60, 25, 10, 5])[0]
    result = rng.choices([5, 3, 4, 2, 0], [70, 10, 12, 4, 4])[0]
    progress = 100.0 if result == 5 else round(rng.uniform(8.0, 95.0), 1)
    time_used = int(3600 * rng.uniform(0.85, 1.15) * progress / 100)
    return Report(
        work_id=stable_number(world.seed, "report", mower.name, index),
        start=start,
        end=start + time_used + rng.randint(0, 600),
        work_type=work_type,
        work_result=result,
        progress=progress,
        area=round(task_area * progress / 100, 1),
        time_used=time_used,
        job_content=rng.choice([0, 2, 2, 1]) if mower.collector else 0,
        detail_seed=rng.getrandbits(32),
    )


def _generate_faults(world: World, mower: Mower) -> list[FaultRecord]:
    if mower.kind != "mower":
        return []
    rng = random.Random(f"{world.seed}:{mower.name}:faults")
    count = rng.randint(1, 3) if mower.history_reports is not None else rng.randint(9, 11)
    records = []
    for k in range(count):
        level = k % 3 + 1  # every level is represented
        code = rng.choice(sorted(c for c, entry in FAULTS.items() if entry[0] == level))
        occurred = world.anchor - rng.uniform(0.5, HISTORY_DAYS) * 86400
        created = occurred + rng.uniform(0.3, 3.0)
        records.append(FaultRecord(code, level, occurred, created, with_image=level == 3))
    return records


def timeline(report: Report) -> list[dict]:
    if report.events is not None:
        events = report.events
    else:
        events = _seeded_events(report)
    return [{"timeStamp": stamp, "eventCode": code} for stamp, code in events]


def _seeded_events(report: Report) -> list[tuple[int, int]]:
    rng = random.Random(report.detail_seed)
    start, end = ms(report.start), ms(report.end)
    events = [(start, _START_EVENT.get(report.work_type, 2))]
    span = max(end - start, 10)
    if rng.random() < 0.3:  # a manual pause and resume
        pause = start + int(span * rng.uniform(0.2, 0.5))
        events += [(pause, 6), (pause + int(span * 0.05), 4)]
    if rng.random() < 0.15:  # bad-weather protection, then an automatic resume
        stop = start + int(span * rng.uniform(0.55, 0.75))
        events += [(stop, 8), (stop + int(span * 0.05), 3)]
    if report.work_result in _END_EVENT:
        events.append((end, _END_EVENT[report.work_result]))
    return sorted(events)


def work_param(report: Report, collector: bool) -> dict:
    """The `workParam` of a job (§4.4.11 schema), stable per report."""
    rng = random.Random(report.detail_seed ^ 0x5EED)
    return {
        "edgeMode": rng.randint(0, 3),
        "rideBoundaryDistance": round(rng.uniform(0.0, 0.3), 2),
        "channelMode": rng.choice([0, 0, 1, 2, 3]),
        "jobContent": _REPORT_JOB_TO_PARAM.get(report.job_content, 8),
        "dumpPeriodSqm": rng.choice([50, 100, 150]) if collector else 0,
        "knifeHeight": rng.randrange(25, 80, 5),
        "speed": round(rng.uniform(0.3, 1.0), 1),
        "channelWidth": rng.randint(15, 30),
        "toward": rng.randint(0, 179),
        "towardIncludedAngle": 90,
        "towardMode": rng.randint(0, 2),
        "boundaryZigzagOrder": rng.randint(0, 1),
        "ultraWave": rng.choice([0, 1, 10, 11]),
        "forbiddenAreaCircleTimes": rng.randint(0, 2),
        "visualHashs": [],
    }


def zero_work_param() -> dict:
    """What a LUBA 2 answered to work-params during real work: all zeros (§4.4.11)."""
    return {
        "commandResult": True,
        "resultMessage": "Success",
        "edgeMode": 0,
        "rideBoundaryDistance": 0.0,
        "channelMode": 0,
        "jobContent": 0,
        "dumpPeriodSqm": 0,
        "knifeHeight": 0,
        "speed": 0.0,
        "channelWidth": 0,
        "toward": 0,
        "towardIncludedAngle": 0,
        "towardMode": 0,
        "boundaryZigzagOrder": 0,
        "ultraWave": 0,
        "forbiddenAreaCircleTimes": 0,
        "visualHashs": [],
    }


def list_item(report: Report) -> dict:
    return {
        "workId": report.work_id,
        "endWorkTime": ms(report.end),
        "workType": report.work_type,
        "workResult": report.work_result,
        "workProgress": float(report.progress),
        "workArea": float(report.area),
        "workTimeUsed": int(report.time_used),
    }


def detail(report: Report, collector: bool, map_url: str) -> dict:
    return {
        "workId": report.work_id,
        "workArea": float(report.area),
        "workTimeUsed": int(report.time_used),
        "saveTime": save_time(report.area),
        "carbonReduction": carbon_reduction(report.area),
        "energyConsume": energy_consume(report.time_used),
        "startWorkTime": ms(report.start),
        "endWorkTime": ms(report.end),
        "workType": report.work_type,
        "workResult": report.work_result,
        "workProgress": float(report.progress),
        "jobContent": report.job_content,
        "workProcess": timeline(report),
        "workParam": work_param(report, collector),
        "mapFilePath": map_url,
    }


def summary(selected: list[Report]) -> dict:
    return {
        "saveTime": round(sum(save_time(r.area) for r in selected), 1),
        "carbonReduction": round(sum(carbon_reduction(r.area) for r in selected), 1),
        "workCount": len(selected),
        "totalWorkArea": round(sum(r.area for r in selected), 1),
    }
