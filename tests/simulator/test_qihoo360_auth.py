"""360 sessions and errors (cloud-apis.md 3.3, 5.3.2, 5.3.6)."""

import pytest

from tests.simulator.helpers import (
    OWNER_QID,
    OWNER_SID,
    QT_COOKIE,
    QT_Q,
    QT_QID,
    QT_T,
    S5,
    S7,
    S9,
    X95,
    Vendor360,
)

GET_LIST = "/common/dev/GetList"
LOGIN = "/common/user/login"
CLIENT_INFO = '{"release":"appstore","brand":"iPhone","model":"iPhone10,5","lang":"en_US"}'


def login(sim, cookie=QT_COOKIE) -> dict:
    return Vendor360(sim.url, cookie).call(LOGIN, clientInfo=CLIENT_INFO, lang="en_US", phoneNum="")


def test_method_1_cookie_lists_the_devices(api):
    sns = [item["sn"] for item in api.data(GET_LIST)["list"]]
    assert sns == [S7, S5, S9, X95]


@pytest.mark.parametrize(
    "cookie",
    [
        f"qid={OWNER_QID};sid={OWNER_SID}",
        f"q=x;t=y;qid={OWNER_QID};sid={OWNER_SID}",
        f"q=u=&t=1;t=&v=2.0&a=1; qid={OWNER_QID}; sid=%34a20145c62428d31b52b53c9ccbfcee4",
        f"sid={OWNER_SID} ;  qid = {OWNER_QID} ;",
    ],
)
def test_cookie_parsing_is_tolerant(sim, cookie):
    assert Vendor360(sim.url, cookie).call(GET_LIST)["errno"] == 0


@pytest.mark.parametrize(
    "cookie",
    [
        None,
        f"qid={OWNER_QID}",
        f"qid={OWNER_QID};sid=ffffffffffffffffffffffffffffffff",
        f"qid={QT_QID};sid={OWNER_SID}",  # someone else's SID
    ],
)
def test_missing_unknown_or_foreign_sid_is_102(sim, cookie):
    client = Vendor360(sim.url, cookie or "")
    for path in (GET_LIST, "/clean/record/getList", "/clean/cmd/send", "/clean/record/allStatis"):
        assert client.call(path, sn=S7)["errno"] == 102


def test_static_json_needs_no_session(sim):
    client = Vendor360(sim.url, "")
    assert client.http.get(sim.url + "/clean/errorInfo_us.json").status_code == 200
    assert client.http.get(sim.url + "/clean/modelalias.json").json()["S7"]["name"] == "360 S7"


def test_login_issues_a_fresh_sid_and_push_key_each_time(sim):
    first = login(sim)
    assert first["errno"] == 0
    data = first["data"]
    assert len(data["sid"]) == 32 and int(data["sid"], 16) >= 0
    assert data["pushKey"]
    second = login(sim)["data"]
    assert second["sid"] != data["sid"] and second["pushKey"] != data["pushKey"]
    old = Vendor360(sim.url, f"{QT_COOKIE};sid={data['sid']}")
    new = Vendor360(sim.url, f"{QT_COOKIE};sid={second['sid']}")
    assert old.call(GET_LIST)["errno"] == 102  # superseded
    assert new.call(GET_LIST)["errno"] == 0


def test_login_accepts_percent_encoded_cookies(sim):
    from urllib.parse import quote

    cookie = f"q={quote(QT_Q, safe='')};t={quote(QT_T, safe='')};qid={QT_QID}"
    assert login(sim, cookie)["errno"] == 0


@pytest.mark.parametrize(
    "cookie",
    [
        f"q={QT_Q};t=wrong;qid={QT_QID}",
        f"q=wrong;t={QT_T};qid={QT_QID}",
        f"q={QT_Q};t={QT_T};qid=1234123412",  # a method-1 account has no Q/T
        f"q={QT_Q};t={QT_T}",
        "",
    ],
)
def test_login_with_wrong_q_t_is_103(sim, cookie):
    assert login(sim, cookie)["errno"] == 103


def test_expire_sid_gives_102_and_login_renews(sim, guest_api):
    assert guest_api.call(GET_LIST)["errno"] == 0
    sim.control("POST", f"360/accounts/{QT_QID}/expire-sid")
    assert guest_api.call(GET_LIST)["errno"] == 102
    fresh = login(sim)["data"]["sid"]
    assert Vendor360(sim.url, f"{QT_COOKIE};sid={fresh}").call(GET_LIST)["errno"] == 0


def test_expire_sid_of_the_method_1_account(sim, api):
    sim.control("POST", f"360/accounts/{OWNER_QID}/expire-sid")
    assert api.call(GET_LIST)["errno"] == 102
    fresh = sim.control("POST", f"360/accounts/{OWNER_QID}/new-sid")["sid"]
    assert Vendor360(sim.url, f"qid={OWNER_QID};sid={fresh}").call(GET_LIST)["errno"] == 0


def test_revoke_qt_makes_login_103_but_keeps_the_sid(sim, guest_api):
    sim.control("POST", f"360/accounts/{QT_QID}/revoke-qt")
    assert login(sim)["errno"] == 103
    assert guest_api.call(GET_LIST)["errno"] == 0


def test_deactivate_blocks_everything(sim, guest_api):
    sim.control("POST", f"360/accounts/{QT_QID}/deactivate")
    assert guest_api.call(GET_LIST)["errno"] == 102
    assert login(sim)["errno"] == 103


def test_unknown_account_control_is_404(sim):
    from simulator.pytest_plugin import SimControlError

    with pytest.raises(SimControlError) as caught:
        sim.control("POST", "360/accounts/999/expire-sid")
    assert caught.value.status == 404


def test_someone_elses_device_is_205(guest_api):
    body = guest_api.call("/clean/record/getList", sn=S7)
    assert body == {"errno": 205, "errmsg": "no permission", "errorCode": 205}


def test_unknown_sn_is_205(api):
    body = api.call("/clean/record/statis", sn="361TY999999999999")
    assert body["errno"] == 205 and body["errorCode"] == 205


def test_offline_device_command_is_212(api):
    assert api.send(S9, 20001)["errno"] == 212
    assert api.data("/clean/record/statis", sn=S9)["cleanCount"] > 0  # reads still work


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/clean/cmd/send", {"infoType": "20001"}),
        ("/clean/cmd/send", {"sn": S7}),
        ("/clean/record/getOne", {"sn": S7}),
        ("/clean/record/getList", {}),
        ("/clean/devuser/updateInfo", {"sn": S7}),
    ],
)
def test_missing_fields_are_9999_param_error(api, path, fields):
    assert api.call(path, **fields) == {"errno": 9999, "errmsg": "param error"}


def test_unknown_clean_id_is_9999_record_not_found(api):
    body = api.call("/clean/record/getOne", sn=S7, cleanId=f"{S7}-1")
    assert body == {"errno": 9999, "errmsg": "record not found"}


def test_session_check_comes_before_parameters(sim):
    assert Vendor360(sim.url, "").call("/clean/cmd/send")["errno"] == 102
