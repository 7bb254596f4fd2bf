"""``Qihoo360Client`` and ``Qihoo360ConfigClient`` against the simulator over real sockets.

cloud-apis.md 5.5 scenarios 1-5 (the HTTP side): method 1 and method 2 linking, SID
renewal, errno handling, paging, map decoding, statistics, shares, static JSON and the
support-flag gating of the buttons.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta

import pytest

from devices.clouds import (
    AuthExpired,
    CloudError,
    Command,
    DeviceOffline,
    NoPermission,
    Qihoo360Client,
    RunResult,
)
from devices.clouds.qihoo360_parse import QT_REJECTED, SessionExpired

from .conftest import (
    IMEI,
    NOTIFY_ID,
    OWNER_COOKIE,
    OWNER_QID,
    QT_Q,
    QT_QID,
    QT_T,
    S5,
    S7,
    S9,
    TIMEOUT,
    X95,
    config_client,
    decode_raw_grid,
    logged,
    q1,
    q2,
    raises_with,
    raw_360,
    sim_device,
)

CMD = "/clean/cmd/send"
GETLIST = "/common/dev/GetList"
LOGIN = "/common/user/login"
SESSION_GONE = "The 360 session (SID) has expired. Link the account again."


def mode_of(sim, sn: str) -> str:
    return sim_device(sim, sn)["status"]["mode"]


def qt_account(sim) -> dict:
    accounts = sim.control("GET", "360/accounts")["accounts"]
    return next(account for account in accounts if account["qid"] == QT_QID)


# --- method 1: devices and support flags (5.5 items 1, 5) ---------------------------------


def test_method1_lists_devices_with_parsed_support_flags(sim, http):
    client = q1(sim, http)
    devices = {device.remote_id: device for device in client.list_devices()}
    assert set(devices) == {S7, S5, S9, X95}

    s7 = devices[S7]
    assert (s7.name, s7.model, s7.firmware, s7.online) == ("Living room", "S7", "1.8.9", True)
    assert s7.capabilities_known and len(s7.capabilities) == 26
    assert all(s7.capabilities.values())
    assert s7.extra["role"] == 2 and s7.extra["ownerQid"] == 0

    # S5 gating (3.6.1): no max suction, no volume, no mop indicator; other flags absent
    # from its support string mean "available".
    s5 = devices[S5]
    assert s5.capabilities_known
    assert dict(s5.capabilities) == {
        "maxMode": False,
        "volume": False,
        "mop": False,
        "roomSweep": True,
    }
    assert not s5.supports("maxMode") and not s5.supports("volume") and not s5.supports("mop")
    assert s5.supports("roomSweep") and s5.supports("led")

    # S9: support "" is unparsable -> every flag unknown -> everything available; offline.
    s9 = devices[S9]
    assert s9.online is False
    assert not s9.capabilities_known and dict(s9.capabilities) == {}
    assert all(s9.supports(flag) for flag in ("maxMode", "volume", "mop", "roomSweep"))


def test_method1_sends_the_byte_exact_cookie_and_common_form(sim, http):
    client = q1(sim, http)
    client.list_devices()
    (entry,) = logged(sim, GETLIST)
    assert entry["method"] == "POST"
    assert client.cookie_header() == OWNER_COOKIE  # 3.3.1, byte for byte
    # The simulator's log shortens cookie values (the SID keeps 4 characters).
    assert entry["headers"]["cookie"].endswith(f"; qid={OWNER_QID}; sid=4a20…")
    assert entry["headers"]["content-type"] == "application/x-www-form-urlencoded"
    form = entry["body"]
    assert form["devType"] == "3" and form["from"] == "mpc_and" and form["lang"] == "en_US"
    assert len(form["taskid"]) == 36 and form["taskid"] == form["taskid"].lower()


def test_rename_changes_the_title_the_cloud_reports(sim, http):
    client = q1(sim, http)
    assert client.rename_device(S7, "  Hall downstairs  ") == "Hall downstairs"
    (entry,) = logged(sim, "/clean/devuser/updateInfo")
    assert entry["body"]["sn"] == S7 and entry["body"]["title"] == "Hall downstairs"
    assert sim_device(sim, S7)["title"] == "Hall downstairs"
    assert {d.remote_id: d.name for d in client.list_devices()}[S7] == "Hall downstairs"


def test_rename_rejects_a_bad_title_without_a_request(sim, http):
    client = q1(sim, http)
    with pytest.raises(ValueError):
        client.rename_device(S7, "x" * 33)
    with pytest.raises(ValueError):
        client.rename_device(S7, "   ")
    assert logged(sim, "/clean/devuser/updateInfo") == []


# --- every command of 3.6 and its effect (5.5 item 1; 3.6.2) ------------------------------

# (command, kwargs, modes forced first, infoType, data, mode after, status checks)
COMMANDS = [
    (
        Command.START,
        {},
        [],
        "21005",
        '{"mode":"smartClean","globalCleanTimes":1}',
        "sweep",
        {"subMode": "total"},
    ),
    (Command.PAUSE, {}, ["sweep"], "21017", '{"cmd":"pause"}', "pause", {}),
    (Command.RESUME, {}, ["sweep", "pause"], "21017", '{"cmd":"continue"}', "sweep", {}),
    (Command.STOP, {}, ["sweep"], "21017", '{"cmd":"stop"}', "idle", {"subMode": "null"}),
    (Command.DOCK, {}, ["idle"], "21012", '{"cmd":"start"}', "backcharge", {}),
    (Command.CANCEL_DOCK, {}, ["backcharge"], "21012", '{"cmd":"stop"}', "idle", {}),
    (Command.FIND, {}, [], "21020", '{"ctrlCode":3010}', "charge", {}),
    (
        Command.SUCTION,
        {"level": "strong"},
        [],
        "21022",
        '{"cmd":"strong","cleanType":"total"}',
        "charge",
        {"workNoisy": "strong"},
    ),
    (
        Command.SUCTION,
        {"level": "max", "clean_type": "area"},
        [],
        "21022",
        '{"cmd":"max","cleanType":"area"}',
        "charge",
        {"workNoisy": "max"},
    ),
    (
        Command.VOLUME,
        {"volume": 3},
        [],
        "21024",
        '{"cmd":"setVolume","value":3}',
        "charge",
        {"vol": 3},
    ),
    (
        Command.SPOT,
        {},
        [],
        "21005",
        '{"mode":"pointClean","count":1,"style":0}',
        "sweep",
        {"subMode": "point"},
    ),
    (Command.EDGE, {}, [], "21005", '{"mode":"edgeClean"}', "sweep", {"subMode": "edge"}),
    (Command.STATUS, {}, [], "20001", "", "charge", {}),
]


@pytest.mark.parametrize(
    ("command", "kwargs", "setup", "info_type", "data", "mode", "checks"),
    COMMANDS,
    ids=[f"{c[0].value}-{i}" for i, c in enumerate(COMMANDS)],
)
def test_each_command_reaches_the_robot_exactly_and_moves_the_state_machine(
    sim, http, command, kwargs, setup, info_type, data, mode, checks
):
    sim.set_speed(0)
    for forced in setup:
        sim.control("POST", f"360/devices/{S7}", {"mode": forced})
    assert mode_of(sim, S7) == (setup[-1] if setup else "charge")
    records_before = sim_device(sim, S7)["records"]

    result = q1(sim, http).send_command(S7, command, **kwargs)

    assert result.accepted and result.task_id
    (entry,) = logged(sim, CMD)
    form = entry["body"]
    assert (form["sn"], form["infoType"], form["devType"]) == (S7, info_type, "3")
    assert form.get("data", "") == data
    assert form["taskid"] == result.task_id
    state = sim_device(sim, S7)
    assert state["status"]["mode"] == mode
    for key, value in checks.items():
        assert state["status"][key] == value
    if command in (Command.STOP,):
        assert state["records"] == records_before + 1  # the run is written (3.6.2)

    # The robot's answer on the push channel carries our taskid and "ok" (5.3.5).
    sim.advance(1)
    pushes = sim.control("GET", f"360/pushes?sn={S7}&limit=50")["pushes"]
    answers = [p["event"] for p in pushes if p["event"]["taskid"] == result.task_id]
    assert len(answers) == 1
    inner = json.loads(answers[0]["data"])
    assert (str(inner["infoType"]), inner["message"]) == (info_type, "ok")
    if command is Command.STATUS:
        assert inner["data"]["mode"] == "charge" and inner["data"]["elecReal"] == 89


def test_a_gated_command_sent_anyway_is_refused_by_the_robot(sim, http):
    """Why the S5's flags hide the buttons: the cloud acknowledges, the robot says "fail"."""
    sim.set_speed(0)
    client = q1(sim, http)
    s5 = {d.remote_id: d for d in client.list_devices()}[S5]
    assert not s5.supports("volume") and not s5.supports("maxMode")
    volume = client.send_command(S5, Command.VOLUME, volume=4)
    suction = client.send_command(S5, Command.SUCTION, level="max")
    sim.advance(1)
    pushes = sim.control("GET", f"360/pushes?sn={S5}")["pushes"]
    by_task = {p["event"]["taskid"]: json.loads(p["event"]["data"]) for p in pushes}
    assert by_task[volume.task_id]["message"] == "fail"
    assert by_task[suction.task_id]["message"] == "fail"
    status = sim_device(sim, S5)["status"]
    assert status["vol"] == 9 and status["workNoisy"] == "auto"  # unchanged


def test_a_full_cleaning_cycle_ends_in_the_history(sim, http):
    sim.set_speed(0)
    client = q1(sim, http)
    before = client.get_runs_page(S7, page_size=1)[0]
    client.send_command(S7, Command.START)
    sim.advance(600)  # 10 simulated minutes of cleaning: 15 m²
    client.send_command(S7, Command.STOP)
    newest = client.get_runs_page(S7, page_size=1)[0]
    assert newest.remote_id != before.remote_id
    assert newest.remote_id.startswith(f"{S7}-")
    assert newest.duration_s == 600 and newest.area_m2 == 15
    assert newest.result is RunResult.COMPLETED and newest.mode == "smartClean"


def test_commands_to_the_offline_s9_are_device_offline_and_sent_once(sim, http):
    client = q1(sim, http)
    for command in (Command.START, Command.STATUS):
        error = raises_with(DeviceOffline, lambda c=command: client.send_command(S9, c))
        assert error.vendor_code == 212
        assert error.user_message == "The device is offline."
    assert len(logged(sim, CMD)) == 2  # one each, never retried


def test_method1_errno_102_is_auth_expired_without_a_login_attempt(sim, http):
    client = q1(sim, http)
    sim.control("POST", f"360/accounts/{OWNER_QID}/expire-sid")
    error = raises_with(SessionExpired, client.list_devices)
    assert isinstance(error, AuthExpired) and error.reason == "expired"
    assert error.vendor_code == 102 and error.user_message == SESSION_GONE
    assert not error.retryable
    with pytest.raises(AuthExpired):
        client.send_command(S7, Command.START)
    assert logged(sim, LOGIN) == []
    assert len(logged(sim, GETLIST)) == 1 and len(logged(sim, CMD)) == 1
    assert mode_of(sim, S7) == "charge"  # the rejected command did nothing


def test_method1_http_401_is_handled_like_102(sim, http):
    sim.add_fault(vendor="qihoo360", path=GETLIST, http_status=401)
    error = raises_with(SessionExpired, q1(sim, http).list_devices)
    assert error.http_status == 401 and error.user_message == SESSION_GONE
    assert logged(sim, LOGIN) == []


# --- method 2: Q/T login and renewal (5.5 item 2) ----------------------------------------


def test_method2_login_obtains_sid_and_push_key(sim, http):
    client, _ = q2(sim, http)
    login = client.login(notify_id=NOTIFY_ID, imei=IMEI)
    account = qt_account(sim)
    assert login.sid == account["sid"] == client.sid and len(login.sid) == 32
    assert login.push_key == account["pushKey"] == client.push_key

    (entry,) = logged(sim, LOGIN)
    cookie = entry["headers"]["cookie"]
    assert cookie.startswith("q=u=36…;t=s=si…;qid=2000000002") and "sid=" not in cookie
    info = json.loads(entry["body"]["clientInfo"])
    assert info["notifyId"] == NOTIFY_ID and info["imei"] == IMEI and info["brand"] == "iPhone"
    assert entry["body"]["phoneNum"] == "" and entry["body"]["lang"] == "en_US"

    # The guest sees the device shared with it, as a guest (5.3.1).
    (office,) = client.list_devices()
    assert office.remote_id == X95 and office.extra["role"] == 1
    assert office.extra["ownerQid"] == int(OWNER_QID)
    assert office.extra["ownerNickName"] == "Demo owner"
    (entry,) = logged(sim, GETLIST)
    assert entry["headers"]["cookie"].endswith(f";qid={QT_QID};sid={login.sid[:4]}…")


def test_method2_without_a_sid_logs_in_on_first_use(sim, http):
    client, renewer = q2(sim, http)
    assert [d.remote_id for d in client.list_devices()] == [X95]
    assert renewer.failed_sids == [""] and len(logged(sim, LOGIN)) == 1
    assert len(logged(sim, GETLIST)) == 1


def test_expired_sid_is_renewed_once_and_the_request_retried_once(sim, http):
    client, renewer = q2(sim, http)
    first = client.login(notify_id=NOTIFY_ID, imei=IMEI)
    sim.control("POST", f"360/accounts/{QT_QID}/expire-sid")

    assert [d.remote_id for d in client.list_devices()] == [X95]

    assert renewer.failed_sids == [first.sid]
    (renewed,) = renewer.logins
    assert renewed.sid != first.sid and renewed.push_key != first.push_key
    assert client.sid == renewed.sid and client.push_key == renewed.push_key
    assert len(logged(sim, LOGIN)) == 2  # the first login and exactly one renewal
    rejected, retried = logged(sim, GETLIST)  # exactly one retry
    assert rejected["headers"]["cookie"].endswith(f"sid={first.sid[:4]}…")
    assert retried["headers"]["cookie"].endswith(f"sid={renewed.sid[:4]}…")
    assert rejected["body"]["taskid"] == retried["body"]["taskid"]


def test_error_code_102_also_triggers_the_renewal(sim, http):
    client, renewer = q2(sim, http)
    client.login(notify_id=NOTIFY_ID, imei=IMEI)
    sim.add_fault(vendor="qihoo360", path="/clean/record/statis", error_code=102)
    assert client.get_device_totals(X95).run_count > 0
    assert len(renewer.logins) == 1 and len(logged(sim, "/clean/record/statis")) == 2


def test_a_command_rejected_with_102_is_sent_again_after_renewal(sim, http):
    """3.4.4: writes are never retried, except after a successful SID renewal."""
    sim.set_speed(0)
    client, renewer = q2(sim, http)
    client.login(notify_id=NOTIFY_ID, imei=IMEI)
    sim.control("POST", f"360/accounts/{QT_QID}/expire-sid")
    result = client.send_command(X95, Command.START)
    assert result.accepted and len(renewer.logins) == 1
    assert len(logged(sim, CMD)) == 2
    assert mode_of(sim, X95) == "sweep"


def test_a_second_102_after_renewal_is_auth_expired(sim, http):
    client, renewer = q2(sim, http)
    client.login(notify_id=NOTIFY_ID, imei=IMEI)
    sim.add_fault(vendor="qihoo360", path=GETLIST, errno=102, count=2)
    error = raises_with(AuthExpired, client.list_devices)
    assert error.vendor_code == 102 and "again after renewing" in str(error)
    assert error.user_message == "The cloud session has expired. Link the account again."
    assert len(renewer.logins) == 1 and len(logged(sim, GETLIST)) == 2


def test_revoked_qt_cookies_end_in_auth_expired(sim, http):
    client, renewer = q2(sim, http)
    client.login(notify_id=NOTIFY_ID, imei=IMEI)
    sim.control("POST", f"360/accounts/{QT_QID}/revoke-qt")
    assert client.list_devices()  # the current SID keeps working (5.3.6)

    sim.control("POST", f"360/accounts/{QT_QID}/expire-sid")
    error = raises_with(AuthExpired, client.list_devices)
    assert error.vendor_code == 103 and error.user_message == QT_REJECTED
    assert len(renewer.failed_sids) == 1 and renewer.logins == []
    assert len(logged(sim, LOGIN)) == 2  # the link-time login and the refused renewal
    assert len(logged(sim, GETLIST)) == 2  # the working call and the rejected one

    error = raises_with(AuthExpired, lambda: client.login(notify_id=NOTIFY_ID, imei=IMEI))
    assert error.user_message == QT_REJECTED


def test_a_new_login_invalidates_the_previous_sid(sim, http):
    client, _ = q2(sim, http)
    old = client.login(notify_id=NOTIFY_ID, imei=IMEI)
    new = client.login(notify_id=NOTIFY_ID, imei=IMEI)
    assert new.sid != old.sid
    assert client.list_devices()  # the new SID works

    # Another worker still holding the old SID (and not allowed to renew) is refused.
    stale = Qihoo360Client(
        http, qid=QT_QID, q=QT_Q, t=QT_T, sid=old.sid, api_url=sim.url, timeout=TIMEOUT
    )
    error = raises_with(SessionExpired, stale.list_devices)
    assert error.vendor_code == 102 and error.user_message == SESSION_GONE
    assert len(logged(sim, LOGIN)) == 2


# --- envelope variants and errno table (5.5 item 3; 3.4.2, 3.4.3) ---------------------


def test_errno_as_a_numeric_string_is_understood(sim, http):
    client = q1(sim, http)
    sim.add_fault(vendor="qihoo360", path=CMD, errno_as_string=212)
    error = raises_with(DeviceOffline, lambda: client.send_command(S7, Command.START))
    assert error.vendor_code == 212 and error.user_message == "The device is offline."
    sim.add_fault(vendor="qihoo360", path=GETLIST, errno_as_string=102)
    error = raises_with(SessionExpired, client.list_devices)
    assert error.vendor_code == 102 and error.user_message == SESSION_GONE
    assert mode_of(sim, S7) == "charge"


def test_top_level_error_code_wins_over_errno_zero(sim, http):
    sim.add_fault(vendor="qihoo360", path="/clean/record/statis", error_code=205)
    error = raises_with(NoPermission, lambda: q1(sim, http).get_device_totals(S7))
    assert error.vendor_code == 205
    assert error.user_message == "No permission for this device. Refresh the device list."


@pytest.mark.parametrize(
    ("fault", "user_message", "vendor_code"),
    [
        ({"errno": 9999}, "360 Smart cloud: param error (error 9999)", 9999),
        (
            {"errno": 4711, "errmsg": "busy brewing"},
            "360 Smart cloud: busy brewing (error 4711)",
            4711,
        ),
        ({"errno_as_string": 10001, "errmsg": ""}, "360 Smart cloud: Error 10001", 10001),
        (
            {"http_status": 200, "body": {"errno": "n/a", "errmsg": "odd"}},
            "360 Smart cloud: odd (unknown error)",
            None,
        ),
    ],
)
def test_unknown_errno_is_a_generic_error_shown_verbatim_and_not_retried(
    sim, http, fault, user_message, vendor_code
):
    sim.add_fault(vendor="qihoo360", path=GETLIST, **fault)
    error = raises_with(CloudError, q1(sim, http).list_devices)
    assert error.user_message == user_message and error.vendor_code == vendor_code
    assert not error.retryable
    assert len(logged(sim, GETLIST)) == 1 and logged(sim, LOGIN) == []


def test_real_errno_205_for_a_device_of_another_account(sim, http):
    client, _ = q2(sim, http)
    client.login(notify_id=NOTIFY_ID, imei=IMEI)
    for call in (
        lambda: client.get_device_totals(S7),  # the owner's, not shared with "qt"
        lambda: client.send_command("360TY999999999999", Command.STATUS),  # unknown sn
    ):
        error = raises_with(NoPermission, call)
        assert error.vendor_code == 205
        assert error.user_message == "No permission for this device. Refresh the device list."


def test_real_errno_212_from_a_robot_taken_offline(sim, http):
    sim.control("POST", f"360/devices/{S7}", {"online": 0})
    client = q1(sim, http)
    assert {d.remote_id: d.online for d in client.list_devices()}[S7] is False
    error = raises_with(DeviceOffline, lambda: client.send_command(S7, Command.FIND))
    assert error.vendor_code == 212


def test_an_unknown_clean_id_is_a_generic_error(sim, http):
    error = raises_with(CloudError, lambda: q1(sim, http).get_run(S7, f"{S7}-1"))
    assert error.vendor_code == 9999
    assert error.user_message == "360 Smart cloud: record not found (error 9999)"


# --- records, map, statistics, shares (5.5 item 4) ----------------------------------------


def test_get_list_pages_to_the_end_without_repeats(sim, http):
    client = q1(sim, http)
    expected = sim_device(sim, S7)["records"]
    runs = client.list_runs(S7)
    assert len(runs) == expected > 100
    ids = [run.remote_id for run in runs]
    assert len(set(ids)) == len(ids)
    starts = [run.started_at for run in runs]
    assert starts == sorted(starts, reverse=True)  # newest first
    assert all(run.started_at.timestamp() == int(run.remote_id.rsplit("-", 1)[1]) for run in runs)
    failed = [run for run in runs if run.result is RunResult.ERROR]
    assert len(failed) == 3 and all(run.error_code for run in failed)

    pages = logged(sim, "/clean/record/getList")
    assert len(pages) == expected // 20 + 1  # full pages, then the short (or empty) one
    assert pages[0]["body"]["lastId"] == "" and pages[0]["body"]["pageSize"] == "20"
    for previous, page in zip(ids[19::20], pages[1:], strict=False):
        assert page["body"]["lastId"] == previous


def test_paging_stops_when_the_server_ignores_last_id(sim, http):
    items = [{"cleanId": f"{S7}-{1700000000 + i}"} for i in range(20)]
    sim.add_fault(vendor="qihoo360", path="/clean/record/getList", shape={"list": items}, count=-1)
    runs = q1(sim, http).list_runs(S7)
    assert len(runs) == 20 and len({run.remote_id for run in runs}) == 20
    assert len(logged(sim, "/clean/record/getList")) == 2


def test_get_one_decodes_the_map_rooms_zones_and_path(sim, http):
    client = q1(sim, http)
    newest = client.get_runs_page(S7)[0]
    run = client.get_run(S7, newest.remote_id)
    raw = raw_360(http, sim, "/clean/record/getOne", sn=S7, cleanId=newest.remote_id)
    record = raw["data"]["record"]

    assert run.clean_id == newest.remote_id and run.device_id == S7
    assert run.started_at == newest.started_at == datetime.fromtimestamp(record["start"], UTC)
    assert run.ended_at == datetime.fromtimestamp(record["end"], UTC)

    grid = run.grid
    assert run.map_error is None and grid is not None
    assert (grid.width, grid.height, grid.resolution, grid.x_min, grid.y_min) == (
        240,
        200,
        0.05,
        -6.0,
        -5.0,
    )
    assert len(grid.cells) == 240 * 200 == len(decode_raw_grid(record))
    assert grid.cells == decode_raw_grid(record)
    assert set(grid.cells) <= {0x00, 1, 2, 3, 4, 0x7F, 0xFF} and {1, 2, 3, 4} <= set(grid.cells)
    assert grid.cell(0, 0) == 0x7F and grid.cell(11, 50) == 0x00 and grid.cell(100, 100) == 0xFF

    # chargeHandlePos is [y, x] on the wire; the client hands out (x, y).
    y_mm, x_mm = record["chargeHandlePos"]
    assert run.charger == (x_mm, y_mm)
    assert grid.world_to_cell(*run.charger) == (20, 100)  # the dock in the hallway

    assert len(run.path) == len(record["posArray"]) >= 20
    assert run.path[0] == tuple(record["posArray"][0])

    assert [room.name for room in run.rooms] == ["Living room", "Kitchen", "Bedroom", "Büro"]
    assert [room.wind_mode for room in run.rooms] == ["strong", "auto", "quiet", "max"]
    assert all(len(room.vertices) == 4 and not room.active for room in run.rooms)

    forbid, wall = run.zones
    assert (forbid.kind, forbid.forbid_type, forbid.name) == ("forbid", "all", "Desk")
    assert (wall.kind, wall.name) == ("line", "Rug edge")
    raw_zones = record["area"]
    assert [len(zone["vertexs"]) for zone in raw_zones] == [6, 6]  # padded on the wire
    assert len(forbid.vertices) == 4 and len(wall.vertices) == 2
    assert all((0.0, 0.0) not in zone.vertices for zone in run.zones)


def test_device_and_account_totals_agree(sim, http):
    client = q1(sim, http)
    totals = {sn: client.get_device_totals(sn) for sn in (S7, S5, S9, X95)}
    account = client.get_account_totals()
    assert account.device_count == 4
    assert account.area_m2 == sum(t.area_m2 for t in totals.values())
    assert account.run_count == sum(t.run_count for t in totals.values())
    assert account.duration_s == sum(t.duration_s for t in totals.values())
    assert account.mop_area_m2 == 0

    s7 = totals[S7]
    assert s7.run_count >= sim_device(sim, S7)["records"]  # the history plus older runs
    clues = s7.clues
    assert "((" not in clues.text and "))" not in clues.text
    bold = [text for text, is_bold in clues.segments if is_bold]
    assert bold == [f"{s7.area_m2 / 145:.1f}", f"{s7.duration_s / 3600:.1f}"]  # 5.3.1
    assert clues.text.startswith("The accumulated cleaning area is equivalent to ")


def test_recently_clean_list_matches_the_history(sim, http):
    sim.set_speed(0)
    client = q1(sim, http)
    series = client.get_period_series(S7, utc_offset_hours=0)
    assert len(series.week) == 7 and len(series.month) == 6
    today = datetime.fromtimestamp(sim.now(), UTC).date()
    assert [point.day for point in series.week] == [
        today - timedelta(days=back) for back in range(6, -1, -1)
    ]
    # The last six months up to and including the current one, oldest first.
    months = [(today.year * 12 + today.month - 1 - back) for back in range(5, -1, -1)]
    assert [point.day for point in series.month] == [
        date(index // 12, index % 12 + 1, 1) for index in months
    ]
    assert [point.label for point in series.month][-1] == today.strftime("%Y-%m")
    runs = client.list_runs(S7)
    for point in series.week:
        area = sum(run.area_m2 for run in runs if run.started_at.date() == point.day)
        assert point.area_m2 == area
    for point in series.month:
        area = sum(
            run.area_m2
            for run in runs
            if (run.started_at.year, run.started_at.month) == (point.day.year, point.day.month)
        )
        assert point.area_m2 == area
    client.get_period_series(S7, utc_offset_hours=5.5)
    forms = [entry["body"]["timezone"] for entry in logged(sim, "/clean/record/recentlycleanlist")]
    assert forms == ["0", "5.5"]


def test_share_list(sim, http):
    client = q1(sim, http)
    (guest,) = client.list_shares(X95)
    assert (guest.qid, guest.nick_name, guest.status) == (QT_QID, "Guest", 1)
    assert guest.display_name == "Guest"
    assert guest.created_at is not None and guest.image_url is None
    assert client.list_shares(S7) == []


def test_error_catalogue_and_model_aliases(sim, http):
    config = config_client(sim, http)
    catalogue = config.get_error_catalogue()
    wheel = catalogue.lookup(-2201)  # an object value
    assert (wheel.title, wheel.detail) == (
        "Wheel fault / stuck",
        "Check the drive wheels for tangles.",
    )
    low = catalogue.lookup("-2101")  # a plain string value
    assert (low.title, low.detail) == ("Low battery, returning", None)
    assert catalogue.lookup(5058).title == "Could not find charger"
    assert catalogue.lookup(31337).title == "Error 31337"

    # Every errorEnd in the history has a text.
    runs = q1(sim, http).list_runs(S7)
    codes = {run.error_code for run in runs if run.error_code}
    assert codes and all(not catalogue.lookup(code).title.startswith("Error ") for code in codes)

    aliases = config.get_model_aliases()
    for device in q1(sim, http).list_devices():
        assert aliases.display_name(device.model) == f"360 {device.model}"
    assert aliases.display_name("S10") == "S10" and aliases.display_name(None) == ""

    gets = sim.requests(vendor="qihoo360", path="/clean/*.json")
    assert [entry["method"] for entry in gets] == ["GET", "GET"]
    assert all("cookie" not in entry["headers"] for entry in gets)


def test_run_timestamps_survive_the_round_trip(sim, http):
    """cleanId is "<SN>-<start>" and getOne's start equals it (3.2, 3.5.6)."""
    client = q1(sim, http)
    oldest = client.list_runs(S7)[-1]
    run = client.get_run(S7, oldest.remote_id)
    assert run.started_at == oldest.started_at
    assert math.isclose(
        (oldest.ended_at - oldest.started_at).total_seconds(), oldest.duration_s, abs_tol=1
    )
