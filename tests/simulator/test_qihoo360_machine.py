"""The 360 vacuum state machine, driven by cmd/send and the clock (cloud-apis.md 3.6.2, 5.3.4).

These tests freeze simulated time (speed 0) and move it with ``sim.advance`` so the
numbers are exact.
"""

import json
import time

import pytest

from tests.simulator.helpers import S5, S7, X95, session

START = '{"mode":"smartClean","globalCleanTimes":1}'


def status(sim, sn=S7) -> dict:
    return sim.control("GET", f"360/devices/{sn}")["status"]


def pushes(sim, sn=S7, limit=500) -> list[dict]:
    return [p["event"] for p in sim.control("GET", f"360/pushes?sn={sn}&limit={limit}")["pushes"]]


def answer_to(sim, taskid: str, sn=S7) -> dict:
    """The robot's answer to a command: the push echoing its taskid (3.7.8)."""
    (event,) = [event for event in pushes(sim, sn) if event["taskid"] == taskid]
    return json.loads(event["data"])


def test_start_sweep_pause_resume_dock_charge_full(frozen, api):
    sim = frozen
    assert status(sim)["mode"] == "charge" and status(sim)["elecReal"] == 89
    started_at = int(sim.now())
    assert api.send(S7, 21005, START, taskid="t-start") == {
        "errno": 0,
        "errmsg": "Succeeded",
        "data": {},
    }
    now = status(sim)
    assert now["mode"] == "sweep" and now["subMode"] == "total"
    assert now["cleanId"] == f"{S7}-{started_at}" and now["cleanArea"] == 0

    sim.advance(400)
    now = status(sim)
    assert (now["cleanTime"], now["cleanArea"], now["elecReal"]) == (400, 10, 82)
    assert answer_to(sim, "t-start") == {"message": "ok", "infoType": 21005, "data": {}}

    api.send(S7, 21017, '{"cmd":"pause"}')
    sim.advance(100)
    assert status(sim)["mode"] == "pause" and status(sim)["cleanTime"] == 400

    api.send(S7, 21017, '{"cmd":"continue"}')
    sim.advance(200)
    assert status(sim)["mode"] == "sweep" and status(sim)["cleanArea"] == 15

    api.send(S7, 21012, '{"cmd":"start"}')
    assert status(sim)["mode"] == "backcharge"
    newest = api.records(S7)[0]
    assert newest["cleanId"] == f"{S7}-{started_at}"
    assert (newest["cleanArea"], newest["cleanTime"], newest["errorEnd"]) == (15, 600, 0)
    assert newest["startTime"] == started_at and newest["endTime"] == started_at + 700

    sim.advance(30)
    docked = status(sim)
    assert docked["mode"] == "charge" and docked["subMode"] == "null"
    elec = docked["elecReal"]
    sim.advance(36 * 3)
    assert status(sim)["elecReal"] == elec + 3
    sim.advance(36 * (100 - elec))
    assert status(sim)["mode"] == "fullcharge" and status(sim)["elecReal"] == 100

    record = api.data("/clean/record/getOne", sn=S7, cleanId=newest["cleanId"])["record"]
    assert record["start"] == started_at
    transitions = [t["to"] for t in sim.control("GET", f"360/transitions?sn={S7}")["transitions"]]
    assert transitions == ["sweep", "pause", "sweep", "backcharge", "charge", "fullcharge"]


def test_run_completes_at_the_home_area(frozen, api):
    api.send(S7, 21005, START)
    frozen.advance(48 * 40)
    assert status(frozen)["mode"] == "backcharge"
    newest = api.records(S7)[0]
    assert (newest["cleanArea"], newest["cleanTime"], newest["errorEnd"]) == (48, 1920, 0)
    stats = api.data("/clean/record/statis", sn=S7)
    assert status(frozen)["allArea"] == stats["cleanArea"]


def test_low_battery_sends_it_home(frozen, api):
    frozen.control("POST", f"360/devices/{S7}", {"elecReal": 20, "mode": "idle"})
    api.send(S7, 21005, START)
    frozen.advance(5 * 60)
    now = status(frozen)
    assert now["mode"] == "backcharge" and now["elecReal"] == 15
    assert api.records(S7)[0]["errorEnd"] == -2101


def test_stop_writes_the_run_and_idle_turns_dormant(frozen, api):
    api.send(S7, 21005, START)
    frozen.advance(120)
    api.send(S7, 21017, '{"cmd":"stop"}')
    assert status(frozen)["mode"] == "idle"
    newest = api.records(S7)[0]
    assert (newest["cleanTime"], newest["cleanArea"]) == (120, 3)
    frozen.advance(599)
    assert status(frozen)["mode"] == "idle"
    frozen.advance(2)
    assert status(frozen)["mode"] == "dormant"


def test_return_and_cancel_return(frozen, api):
    frozen.control("POST", f"360/devices/{S7}", {"mode": "idle"})
    api.send(S7, 21012, '{"cmd":"start"}')
    assert status(frozen)["mode"] == "backcharge"
    api.send(S7, 21012, '{"cmd":"stop"}')
    assert status(frozen)["mode"] == "idle"


def test_fault_ends_the_run_and_clears(frozen, api):
    api.send(S7, 21005, START)
    frozen.advance(80)
    frozen.control("POST", f"360/devices/{S7}/fault", {"code": -2201})
    now = status(frozen)
    assert now["mode"] == "fault" and now["errorState"] == [-2201]
    assert api.records(S7)[0]["errorEnd"] == -2201
    frozen.control("POST", f"360/devices/{S7}/fault", {"clear": True})
    assert status(frozen)["mode"] == "idle" and status(frozen)["errorState"] == [0]
    frozen.control("POST", f"360/devices/{S7}/fault", {"code": 5058})
    api.send(S7, 21017, '{"cmd":"stop"}')  # stop also clears a fault
    assert status(frozen)["errorState"] == [0]


@pytest.mark.parametrize(
    ("sn", "info_type", "data", "message", "field", "value"),
    [
        (S7, 21022, '{"cmd":"max","cleanType":"total"}', "ok", "workNoisy", "max"),
        (S5, 21022, '{"cmd":"max","cleanType":"total"}', "fail", "workNoisy", "auto"),
        (S5, 21022, '{"cmd":"quiet","cleanType":"area"}', "ok", "workNoisy", "quiet"),
        (S7, 21024, '{"cmd":"setVolume","value":5}', "ok", "vol", 5),
        (S7, 21024, '{"cmd":"setVolume","value":11}', "fail", "vol", 9),
        (S5, 21024, '{"cmd":"setVolume","value":5}', "fail", "vol", 9),
        (S7, 21020, '{"ctrlCode":3010}', "ok", "mode", "charge"),
        (S7, 21017, '{"cmd":"pause"}', "fail", "mode", "charge"),
        (S7, 21005, "{not json", "fail", "mode", "charge"),
    ],
)
def test_settings_and_refusals(frozen, api, sn, info_type, data, message, field, value):
    assert api.send(sn, info_type, data, taskid="t-1")["errno"] == 0
    frozen.advance(1)
    assert answer_to(frozen, "t-1", sn)["message"] == message
    assert status(frozen, sn)[field] == value


def test_status_request_is_answered_with_the_full_status(frozen, api):
    api.send(S7, 20001, "", taskid="t-status")
    assert not [e for e in pushes(frozen) if e["taskid"] == "t-status"]  # not before 0.3 s
    frozen.advance(1)
    answer = answer_to(frozen, "t-status")
    assert answer["infoType"] == 20001 and answer["message"] == "ok"
    expected = {"allArea", "allTime", "autoBoost", "cleanArea", "cleanId", "cleanTime", "elec",
                "elecReal", "errorState", "errorTime", "lastSubMode", "led", "mode", "mopStatus",
                "phi", "pos", "reliable", "showSmartArea", "showSweepArea", "soft", "subMode",
                "timeStamp", "timerStatus", "vol", "windPower", "workNoisy"}  # fmt: skip
    assert set(answer["data"]) == expected
    assert answer["data"]["cleanId"] == api.records(S7)[0]["cleanId"]


def test_unknown_info_types_are_acknowledged_without_an_answer(frozen, api):
    assert api.send(S7, 21014, "", taskid="t-map")["errno"] == 0
    frozen.advance(1)
    assert not [e for e in pushes(frozen) if e["taskid"] == "t-map"]


def test_unsolicited_status_pushes(frozen, api):
    api.send(S7, 21005, START)
    frozen.advance(300)
    statuses = [e for e in pushes(frozen) if e["taskid"].isdigit()]
    assert len(statuses) >= 6  # the state change plus one every 60 s
    event = statuses[-1]
    assert event["event"] == 4 and event["sn"] == S7 and event["createTime"].isdigit()
    inner = json.loads(event["data"])
    assert inner["infoType"] == 20001 and inner["data"]["mode"] == "sweep"


def test_shared_device_pushes_reach_both_accounts(frozen, api):
    api.send(X95, 21020, '{"ctrlCode":3010}', taskid="t-find")
    frozen.advance(1)
    (push,) = [p for p in frozen.control("GET", f"360/pushes?sn={X95}")["pushes"]
               if p["event"]["taskid"] == "t-find"]  # fmt: skip
    assert push["qids"] == ["1234123412", "2000000002"]


def test_injected_push_and_push_data_url(frozen):
    body = {"sn": S7, "infoType": 21027, "data": {"id": "v1", "cmd": "process", "process": 40}}
    injected = frozen.control("POST", "360/push", body)
    assert json.loads(injected["event"]["data"])["data"]["process"] == 40
    assert pushes(frozen)[-1]["taskid"] == injected["event"]["taskid"]
    frozen.knobs(push_data_url=True)
    frozen.control("POST", "360/push", {"sn": S7, "infoType": 20001, "data": {"mode": "idle"}})
    last = pushes(frozen)[-1]
    assert "data" not in last
    fetched = session().get(last["pushDataUrl"]).json()
    assert fetched == {"message": "ok", "infoType": 20001, "data": {"mode": "idle"}}


def test_offline_device(frozen, api):
    frozen.control("POST", f"360/devices/{S7}", {"online": False})
    assert api.send(S7, 21005, START) == {"errno": 212, "errmsg": "device offline"}
    online = {d["sn"]: d["online"] for d in api.data("/common/dev/GetList")["list"]}
    assert online[S7] == 0
    before = len(pushes(frozen))
    frozen.control("POST", f"360/devices/{S7}/fault", {"code": -2405})
    frozen.advance(600)
    assert len(pushes(frozen)) == before  # an offline robot sends nothing
    frozen.control("POST", f"360/devices/{S7}", {"online": True})
    assert api.send(S7, 20001)["errno"] == 0


def test_device_listing_control(frozen):
    devices = frozen.control("GET", "360/devices")["devices"]
    assert [d["sn"] for d in devices] == [S7, S5, "361TY000009000009", X95]
    assert devices[0]["records"] > 150 and devices[0]["status"]["elecReal"] == 89


def test_device_control_sets_fields(frozen, api):
    frozen.control("POST", f"360/devices/{S5}",
                   {"title": "Attic", "support": {"volume": 1}, "mode": "dormant", "elecReal": 42})  # fmt: skip
    item = next(d for d in api.data("/common/dev/GetList")["list"] if d["sn"] == S5)
    assert item["title"] == "Attic" and json.loads(item["support"]) == {"volume": 1}
    assert (status(frozen, S5)["mode"], status(frozen, S5)["elecReal"]) == ("dormant", 42)


@pytest.mark.parametrize(
    ("info_type", "data"),
    [
        (21020, '{"ctrlCode":3004}'),
        (21020, '{"ctrlCode":3012}'),
        (21021, '{"version":"9.9.9","downUrl":"http://x"}'),
        (21024, '{"cmd":"reboot"}'),
        (21024, '{"cmd":"cancleMap"}'),
        (21028, '{"cmd":"deleteWifi"}'),
    ],
)
def test_never_call_commands_are_violations(frozen, api, info_type, data):
    assert api.send(S7, info_type, data)["errno"] == 0
    (violation,) = frozen.violations()
    assert violation["vendor"] == "qihoo360" and violation["path"] == "/clean/cmd/send"
    assert str(info_type) in violation["description"]
    assert status(frozen)["mode"] == "charge"


@pytest.mark.parametrize(
    "path",
    [
        "/common/user/cancel",
        "/clean/bind/unbind",
        "/common/share/cancelAccept",
        "/clean/record/delByIds",
        "/clean/record/delMapByIds",
    ],
)
def test_never_call_endpoints_are_violations(sim, api, path):
    before = len(api.records(S7))
    assert api.call(path, sn=S7, ids="1,2") == {"errno": 0, "errmsg": "Succeeded", "data": {}}
    assert [v["path"] for v in sim.violations()] == [path]
    assert len(api.records(S7)) == before


def test_never_call_commands_are_violations_even_without_a_session(sim):
    from tests.simulator.helpers import Vendor360

    body = Vendor360(sim.url, "").send(S7, 21021, '{"version":"9.9.9"}')
    assert body["errno"] == 102
    assert [v["description"] for v in sim.violations()] == ["cmd/send 21021 (firmware update)"]


def test_harmless_commands_are_not_violations(frozen, api):
    api.send(S7, 21020, '{"ctrlCode":3010}')
    api.send(S7, 21024, '{"cmd":"setVolume","value":3}')
    assert frozen.violations() == []


def test_reset_restores_the_seed(frozen, api):
    seeded_newest = api.records(S7)[0]
    api.call("/clean/devuser/updateInfo", sn=S7, title="Renamed")
    api.send(S7, 21005, START)
    frozen.advance(100)
    api.send(S7, 21017, '{"cmd":"stop"}')
    assert api.records(S7)[0] != seeded_newest
    frozen.reset()
    assert api.records(S7)[0] == seeded_newest
    assert status(frozen)["mode"] == "charge"
    titles = {d["sn"]: d["title"] for d in api.data("/common/dev/GetList")["list"]}
    assert titles[S7] == "Living room"


def test_a_week_of_simulated_time_is_fast(frozen, api):
    api.send(S7, 21005, START)
    api.send(X95, 21005, START)
    started = time.monotonic()
    for _ in range(7):
        frozen.advance(86400)
    assert time.monotonic() - started < 1.0
    assert status(frozen)["mode"] == "fullcharge" and status(frozen, X95)["mode"] == "fullcharge"
    assert api.records(S7)[0]["cleanArea"] == 48
