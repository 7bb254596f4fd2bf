"""Scenario 11 of cloud-apis.md 5.5: after exercising every client method against one
simulator, the tripwires saw nothing, no client request went to ``/_sim/`` or to a
``/work-params`` URL (D-MAM-4), and every request went to an endpoint the product uses
(D-360-4, D-MAM-2, D-MAM-3).

(The autouse ``_tripwires`` fixture of conftest.py repeats the first two checks after
every other test of this folder.)
"""

from __future__ import annotations

import re

from devices.clouds import (
    Command,
    InMemoryTokenStore,
    MowerAction,
)

from .conftest import (
    IMEI,
    LUBA,
    NOTIFY_ID,
    OWNER_EMAIL,
    OWNER_PASSWORD,
    QT_QID,
    S5,
    S7,
    S9,
    X95,
    YUKA,
    account_client,
    config_client,
    device_ids,
    mammotion_client,
    q1,
    q2,
)

ALLOWED_360 = {
    ("POST", "/common/user/login"),
    ("POST", "/common/dev/GetList"),
    ("POST", "/clean/devuser/updateInfo"),
    ("POST", "/clean/cmd/send"),
    ("POST", "/clean/record/getList"),
    ("POST", "/clean/record/getOne"),
    ("POST", "/clean/record/statis"),
    ("POST", "/clean/record/allStatis"),
    ("POST", "/clean/record/recentlycleanlist"),
    ("POST", "/common/share/getInviteList"),
    ("GET", "/clean/errorInfo_us.json"),
    ("GET", "/clean/modelalias.json"),
}
ALLOWED_MAMMOTION = [
    ("GET", r"/user-server/v1/area"),
    ("POST", r"/user-server/v1/user/oauth/token"),
    ("POST", r"/user-server/v1/user/oauth/check"),
    ("POST", r"/user-server/v1/email/register/code"),
    ("POST", r"/user-server/v1/email/register"),
    ("POST", r"/oauth2/token"),
    ("GET", r"/v1/mowers"),
    ("GET", r"/v1/mower/[^/]+"),
    ("GET", r"/v1/mower/[^/]+/plan"),
    ("POST", r"/v1/mower/action"),
    ("POST", r"/v1/mower/work-reports/search"),
    ("POST", r"/v1/mower/work-reports/summary"),
    ("GET", r"/v1/mower/[^/]+/work-reports/[^/]+"),
    ("POST", r"/v1/mower/error-codes/search"),
]


def allowed(entry: dict) -> bool:
    key = (entry["method"], entry["path"])
    if entry["vendor"] == "qihoo360":
        return key in ALLOWED_360
    return any(
        entry["method"] == method and re.fullmatch(pattern, entry["path"])
        for method, pattern in ALLOWED_MAMMOTION
    ) and not entry["path"].endswith("/work-params")


def exercise_360(sim, http) -> None:
    owner = q1(sim, http)
    devices = owner.list_devices()
    assert {device.remote_id for device in devices} == {S7, S5, S9, X95}
    owner.rename_device(S5, "Upstairs landing")
    for command, kwargs in [
        (Command.STATUS, {}),
        (Command.FIND, {}),
        (Command.SUCTION, {"level": "quiet"}),
        (Command.VOLUME, {"volume": 6}),
        (Command.START, {}),
        (Command.PAUSE, {}),
        (Command.RESUME, {}),
        (Command.STOP, {}),
        (Command.SPOT, {}),
        (Command.DOCK, {}),
        (Command.CANCEL_DOCK, {}),
        (Command.EDGE, {}),
    ]:
        assert owner.send_command(S7, command, **kwargs).accepted
    runs = owner.list_runs(S7)
    owner.get_run(S7, runs[0].remote_id)
    owner.get_device_totals(S7)
    owner.get_account_totals()
    owner.get_period_series(S7, utc_offset_hours=2)
    owner.list_shares(X95)

    guest, _ = q2(sim, http)
    guest.login(notify_id=NOTIFY_ID, imei=IMEI)
    sim.control("POST", f"360/accounts/{QT_QID}/expire-sid")
    assert [device.remote_id for device in guest.list_devices()] == [X95]  # renewed

    config = config_client(sim, http)
    config.get_error_catalogue().lookup(-2201)
    config.get_model_aliases().display_name("S7")


def exercise_mammotion(sim, http) -> None:
    account = account_client(sim, http)
    account.list_areas()
    login = account.login(OWNER_EMAIL, OWNER_PASSWORD)
    account.check_token(login.access_token)
    account.request_registration_code("dashboard@example.com")
    code = sim.control("GET", "mammotion/mailbox?email=dashboard@example.com")["latestCode"]
    account.register(
        area_code="SWE",
        email="dashboard@example.com",
        full_name="Dashboard",
        password="Dash-board7",
        verification_code=code,
    )

    ids = device_ids(sim)
    store = InMemoryTokenStore()
    client = mammotion_client(sim, http, store)
    for device in client.list_devices():
        client.get_status(device.remote_id)
        client.list_tasks(device.remote_id)
    luba = ids[LUBA]
    client.start_task(luba, "Front lawn")
    for action in (MowerAction.PAUSE, MowerAction.RESUME, MowerAction.STOP):
        client.send_action(luba, action)
    client.start_now(luba)
    client.return_to_dock(luba)
    client.cancel_return(luba)
    client.pause(ids[YUKA])
    runs = client.list_runs(luba)
    detail = client.get_run_detail(luba, runs[0].remote_id)
    assert "/_sim/" in detail.map_url  # handed out by the cloud, not fetched by the client
    client.get_summary(luba)
    client.list_faults(luba)
    sim.control("POST", "mammotion/tokens/expire")
    client.list_devices()  # 401 -> renewal -> retry


def test_the_whole_product_surface_leaves_no_violation(sim, http):
    exercise_360(sim, http)
    exercise_mammotion(sim, http)

    assert sim.violations() == []
    log = sim.requests()
    assert len(log) > 60
    assert {entry["vendor"] for entry in log} == {"qihoo360", "mammotion"}
    paths = [entry["path"] for entry in log]
    assert not [path for path in paths if "/_sim/" in path]
    assert not [path for path in paths if path.rstrip("/").endswith("/work-params")]
    unexpected = sorted({(e["method"], e["path"]) for e in log if not allowed(e)})
    assert unexpected == []
    assert all(entry["headers"]["user-agent"] == "robot-dashboard/0.1" for entry in log)


def test_the_tripwire_check_can_fail(sim, http):
    """The checks above would notice a never-call request: make one on purpose (not with
    a product client), see it recorded, then clear it for the autouse check."""
    store = InMemoryTokenStore()
    mammotion_client(sim, http, store).list_devices()
    luba = device_ids(sim)[LUBA]
    token = store.load().access_token
    answer = http.get(
        f"{sim.url}/v1/mower/{luba}/work-params",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert answer.status_code == 200
    (violation,) = sim.violations()
    assert violation["vendor"] == "mammotion" and violation["path"].endswith("/work-params")
    assert not allowed({"vendor": "mammotion", "method": "GET", "path": violation["path"]})
    sim.control("DELETE", "violations")
    assert sim.violations() == []
