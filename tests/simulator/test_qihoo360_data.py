"""360 seed data and read endpoints (cloud-apis.md 3.5, 5.3.1, 5.3.3)."""

import base64
import json
import math
import time

from simulator.server import start_server
from tests.simulator.helpers import (
    OWNER_COOKIE,
    S5,
    S7,
    S9,
    X95,
    Vendor360,
    all_records,
    decode_grid,
    session,
)

GET_LIST = "/common/dev/GetList"


def by_sn(api) -> dict:
    return {item["sn"]: item for item in api.data(GET_LIST)["list"]}


def test_get_list_of_the_owner(api):
    devices = by_sn(api)
    s7 = devices[S7]
    assert s7["title"] == "Living room" and s7["hardware"] == "S7" and s7["online"] == 1
    assert s7["role"] == 2 and s7["ownerQid"] == 0 and s7["devType"] == 3
    assert json.loads(s7["support"])["maxMode"] == 1 and len(json.loads(s7["support"])) == 26
    assert json.loads(devices[S5]["support"]) == {
        "maxMode": 0,
        "volume": 0,
        "mop": 0,
        "roomSweep": 1,
    }
    assert devices[S9]["online"] == 0 and devices[S9]["support"] == ""
    assert devices[X95]["hardware"] == "X95" and devices[X95]["role"] == 2
    assert set(s7) >= {"icon", "version", "versionCode", "pkcode", "hwSn", "bindTime"}


def test_get_list_of_the_guest_shows_the_shared_device(guest_api):
    (x95,) = guest_api.data(GET_LIST)["list"]
    assert x95["sn"] == X95
    assert (x95["role"], x95["ownerQid"], x95["ownerNickName"]) == (1, 1234123412, "Demo owner")


def test_icons_are_served_by_the_simulator(api):
    icon = by_sn(api)[S7]["icon"]
    response = session().get(icon)
    assert response.status_code == 200
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_update_info_renames(api):
    assert api.call("/clean/devuser/updateInfo", sn=S5, title="Loft")["errno"] == 0
    assert by_sn(api)[S5]["title"] == "Loft"


def test_records_page_to_the_end(api):
    seen, last_id, pages = [], "", 0
    while True:
        page = api.records(S7, lastId=last_id, pageSize="20")
        pages += 1
        seen.extend(page)
        if len(page) < 20:
            break
        last_id = page[-1]["cleanId"]
    starts = [item["startTime"] for item in seen]
    assert starts == sorted(starts, reverse=True) and len(set(starts)) == len(starts)
    assert 150 <= len(seen) <= 180 and pages == math.ceil((len(seen) + 1) / 20)
    assert sum(1 for item in seen if item["errorEnd"] != 0) == 3
    for item in seen:
        assert item["cleanId"] == f"{S7}-{item['startTime']}"
        assert 30 <= item["cleanArea"] <= 60 and 25 * 60 <= item["cleanTime"] <= 60 * 60
        assert item["endTime"] == item["startTime"] + item["cleanTime"]
    modes = [item["mode"] for item in seen]
    assert modes.count("smartClean") > len(modes) * 0.7
    assert seen[-1]["startTime"] > time.time() - 181 * 86400


def test_records_default_page_size_and_unknown_last_id(api):
    assert len(api.records(S7)) == 20
    assert api.records(S7, lastId=f"{S7}-12345") == []
    assert len(api.records(S7, pageSize="5")) == 5


def test_offline_device_has_no_history(api):
    assert api.records(S9) == []


def test_get_one_decodes(api):
    newest = api.records(S7)[0]
    record = api.data("/clean/record/getOne", sn=S7, cleanId=newest["cleanId"])["record"]
    assert (record["start"], record["end"]) == (newest["startTime"], newest["endTime"])
    assert (record["width"], record["height"], record["resolution"]) == (240, 200, 0.05)
    assert (record["x_min"], record["y_min"]) == (-6.0, -5.0)
    grid = decode_grid(record)
    assert set(grid) == {0x00, 0x7F, 0xFF, 1, 2, 3, 4}
    assert grid[0] == 0x7F  # the corner is outside the flat
    assert 300 <= len(record["posArray"]) <= 1000
    assert all(isinstance(v, int) for point in record["posArray"] for v in point)
    y, x = record["chargeHandlePos"]  # [y, x]
    cx = math.floor((x / 1000 - record["x_min"]) / record["resolution"])
    cy = math.floor((y / 1000 - record["y_min"]) / record["resolution"])
    assert grid[cy * record["width"] + cx] == 0xFF  # the dock stands on free floor


def test_get_one_rooms_and_zones(api):
    clean_id = api.records(S7)[3]["cleanId"]
    record = api.data("/clean/record/getOne", sn=S7, cleanId=clean_id)["record"]
    rooms = record["smartArea"]["value"]
    names = [base64.b64decode(room["name"]).decode("utf-8") for room in rooms]
    assert [room["id"] for room in rooms] == [1, 2, 3, 4]
    assert any(not name.isascii() for name in names)
    assert all(len(room["vertexs"]) == 4 for room in rooms)
    assert "activeIds" in record["smartArea"]
    kinds = {zone["active"]: zone for zone in record["area"]}
    assert set(kinds) == {"forbid", "line"}
    for zone in record["area"]:
        assert zone["vertexs"][-1] == [0, 0]
        real = [v for v in zone["vertexs"] if v != [0, 0]]
        assert len(real) == (4 if zone["active"] == "forbid" else 2)


def test_get_one_is_stable(api):
    clean_id = api.records(S7)[1]["cleanId"]
    first = api.data("/clean/record/getOne", sn=S7, cleanId=clean_id)
    assert api.data("/clean/record/getOne", sn=S7, cleanId=clean_id) == first


def test_statis_adds_an_offset_to_the_history(api):
    stats = api.data("/clean/record/statis", sn=S7)
    history = all_records(api, S7)
    assert stats["cleanCount"] > len(history)
    assert stats["cleanArea"] > sum(item["cleanArea"] for item in history)
    assert stats["mopArea"] == 0
    courts, hours = stats["cleanArea"] / 145, stats["cleanTime"] / 3600
    assert stats["clues"] == (
        f"The accumulated cleaning area is equivalent to (({courts:.1f})) basketball courts, "
        f"saving you (({hours:.1f})) hours"
    )


def test_all_statis_sums_the_account(api, guest_api):
    totals = api.data("/clean/record/allStatis")
    per_device = [api.data("/clean/record/statis", sn=sn) for sn in (S7, S5, S9, X95)]
    assert totals["allCleanArea"] == sum(d["cleanArea"] for d in per_device)
    assert totals["allCleanCount"] == sum(d["cleanCount"] for d in per_device)
    assert totals["allCleanTime"] == sum(d["cleanTime"] for d in per_device)
    assert totals["bindNum"] == 4 and totals["allMopArea"] == 0
    assert guest_api.data("/clean/record/allStatis")["bindNum"] == 1


def test_recently_clean_list(api):
    data = api.data("/clean/record/recentlycleanlist", sn=S7, timezone="1")
    assert len(data["week"]) == 7 and len(data["month"]) == 6
    assert all(set(item) == {"date", "area"} for item in data["week"] + data["month"])
    assert len(data["week"][0]["date"]) == 10 and len(data["month"][0]["date"]) == 7
    assert sum(item["area"] for item in data["week"][:-1]) > 0  # a run on most days
    assert sum(item["area"] for item in data["month"]) >= sum(i["area"] for i in data["week"])
    assert api.data("/clean/record/recentlycleanlist", sn=S7, timezone="bogus")["week"]


def test_invite_list(api):
    (guest,) = api.data("/common/share/getInviteList", sn=X95)["list"]
    assert guest["qid"] == "2000000002" and guest["status"] == 1
    assert set(guest) == {"qid", "nickName", "image", "status", "createTime"}
    assert api.data("/common/share/getInviteList", sn=S7)["list"] == []


def test_error_info_covers_the_firmware_codes(sim):
    info = session().get(sim.url + "/clean/errorInfo_us.json").json()
    codes = [-2101, -2102, -2201, -2302, -2304, -2305, -2306, -2308, -2309, -2401, -2402,
             -2403, -2404, -2405, -2406, -2501, -2502, -2601, -2602, -2603, -2605, -2606,
             -2607, 5058]  # fmt: skip
    assert set(info) == {str(code) for code in codes}
    kinds = {type(value) for value in info.values()}
    assert kinds == {str, dict}
    assert info["-2201"]["title"] == "Wheel fault / stuck"


def test_model_alias(sim):
    alias = session().get(sim.url + "/clean/modelalias.json").json()
    assert set(alias) == {"S5", "S7", "S9", "X95"}
    assert all(isinstance(v, str) for entry in alias.values() for v in entry.values())


def snapshot(url: str) -> list:
    client = Vendor360(url, OWNER_COOKIE)
    records = client.records(S7, pageSize="50")
    one = client.data("/clean/record/getOne", sn=S7, cleanId=records[7]["cleanId"])
    stats = client.data("/clean/record/statis", sn=X95)
    return [records, one, stats]


def test_same_seed_same_data_other_seed_other_data():
    start = time.time()
    servers = [start_server(seed=seed, start=start) for seed in (7, 7, 8)]
    try:
        first, again, other = (snapshot(server.url) for server in servers)
    finally:
        for server in servers:
            server.stop()
    assert first == again
    assert first[0] != other[0] and first[2] != other[2]


def test_history_ends_before_the_clock_start(api, sim):
    newest = api.records(S7)[0]
    assert newest["endTime"] < sim.now()


def test_generated_accounts(sim):
    made = sim.control("POST", "360/generate", {"accounts": 3, "runs_per_device": 45})
    qids = [acc["qid"] for acc in made["accounts"]]
    assert qids == ["3000000000", "3000000001", "3000000002"]
    account = made["accounts"][1]
    client = Vendor360(sim.url, f"qid={account['qid']};sid={account['sid']}")
    (device,) = client.data(GET_LIST)["list"]
    assert device["sn"] == account["sns"][0]
    first = client.records(device["sn"], pageSize="100")
    assert len(first) == 45
    more = sim.control("POST", "360/generate", {"accounts": 1})["accounts"]
    assert more[0]["qid"] == "3000000003"
    sim.reset()
    assert client.call(GET_LIST)["errno"] == 102


def test_generated_accounts_from_start_up_options_survive_reset():
    handle = start_server(extra_360_accounts=2, runs_per_device=10)
    try:
        from simulator.pytest_plugin import SimClient

        control = SimClient(handle.url)
        control.reset()
        accounts = control.control("GET", "360/accounts")["accounts"]
        generated = [acc for acc in accounts if acc["qid"].startswith("30000000")]
        assert len(generated) == 2
        client = Vendor360(handle.url, f"qid=3000000001;sid={generated[1]['sid']}")
        (device,) = client.data(GET_LIST)["list"]
        assert len(client.records(device["sn"], pageSize="100")) == 10
    finally:
        handle.stop()


def test_many_generated_accounts_are_cheap(sim):
    started = time.monotonic()
    sim.control("POST", "360/generate", {"accounts": 2000, "runs_per_device": 10000})
    assert time.monotonic() - started < 2
