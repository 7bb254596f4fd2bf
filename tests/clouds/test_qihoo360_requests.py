"""360 client: exact request shapes (cloud-apis.md 3.3, 3.4.1, 3.5, 3.6)."""

from __future__ import annotations

import copy
import json
import re
from urllib.parse import parse_qs

import pytest
import responses

from devices.clouds import Command, Qihoo360Client, build_command
from devices.clouds.qihoo360 import READ_PATHS, client_info_json, qid_from_q_cookie

from . import samples
from .conftest import API, TIMEOUT

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
Q_RAW = "u%3D360H2000000002%26n%3Ddemo%26qid%3D2000000002%26t%3D1"
Q = "u=360H2000000002&n=demo&qid=2000000002&t=1"
T = "s=simT2000000002&t=1&v=2.0&a=1"


def form_of(call) -> dict[str, str]:
    parsed = parse_qs(call.request.body.decode(), keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in parsed.values())
    return {key: values[0] for key, values in parsed.items()}


def test_method1_cookie_is_byte_exact(mocked, qclient):
    mocked.post(f"{API}/common/dev/GetList", json=samples.GETLIST)
    qclient.list_devices()
    request = mocked.calls[0].request
    assert request.headers["Cookie"] == (
        "q=u=&t=1;t=&v=2.0&a=1; qid=1234123412; sid=4a20145c62428d31b52b53c9ccbfcee4"
    )
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Accept-Encoding"] == "gzip"
    assert request.method == "POST"


def test_common_parameters_are_added_to_every_post(mocked, qclient):
    mocked.post(f"{API}/common/dev/GetList", json=samples.GETLIST)
    qclient.list_devices()
    qclient.list_devices()
    first, second = (form_of(call) for call in mocked.calls)
    assert set(first) == {"taskid", "devType", "lang", "appVer", "from"}
    assert first["devType"] == "3"
    assert first["lang"] == "en_US"
    assert first["appVer"] == "11.1.7"
    assert first["from"] == "mpc_and"
    assert UUID4.match(first["taskid"]) and UUID4.match(second["taskid"])
    assert first["taskid"] != second["taskid"]


def test_method2_cookie_uses_percent_decoded_q_and_t(mocked, session):
    client = Qihoo360Client(
        session, qid="2000000002", q=Q_RAW, t=T, sid="ab" * 16, timeout=TIMEOUT, retry_pause=0
    )
    mocked.post(f"{API}/common/dev/GetList", json=samples.GETLIST)
    client.list_devices()
    assert (
        mocked.calls[0].request.headers["Cookie"] == f"q={Q};t={T};qid=2000000002;sid={'ab' * 16}"
    )


def test_login_sends_client_info_and_q_t_cookie_without_sid(mocked, session):
    client = Qihoo360Client(session, qid="2000000002", q=Q, t=T, timeout=TIMEOUT, retry_pause=0)
    body = {
        "errno": 0,
        "errmsg": "Succeeded",
        "data": {"sid": "cd" * 16, "pushKey": "pk-new-0001", "x": 1},
    }
    mocked.post(f"{API}/common/user/login", json=body)
    login = client.login(notify_id="1" * 32, imei="2" * 32)
    request = mocked.calls[0].request
    assert request.headers["Cookie"] == f"q={Q};t={T};qid=2000000002"
    form = form_of(mocked.calls[0])
    assert json.loads(form["clientInfo"]) == {
        "release": "appstore",
        "brand": "iPhone",
        "model": "iPhone10,5",
        "notifyId": "1" * 32,
        "lang": "en_US",
        "imei": "2" * 32,
    }
    assert form["phoneNum"] == ""
    assert form["lang"] == "en_US" and form["devType"] == "3" and UUID4.match(form["taskid"])
    assert "form" not in form
    assert (login.sid, login.push_key) == ("cd" * 16, "pk-new-0001")
    assert client.sid == "cd" * 16 and client.push_key == "pk-new-0001"
    assert "cd" * 16 not in repr(login)


def test_client_info_is_compact_json():
    text = client_info_json(notify_id="a", imei="b")
    assert " " not in text and text.startswith('{"release":"appstore"')


def test_qid_cross_check_helper():
    assert qid_from_q_cookie(Q) == "2000000002"
    assert qid_from_q_cookie("qid=123&x=1") == "123"
    assert qid_from_q_cookie("nothing here") is None


def test_set_cookie_in_responses_is_ignored(mocked, qclient):
    mocked.post(
        f"{API}/common/dev/GetList",
        json=samples.GETLIST,
        headers={"Set-Cookie": "sid=evil; Path=/; Domain=q.smart.360.cn"},
    )
    qclient.list_devices()
    qclient.list_devices()
    assert mocked.calls[1].request.headers["Cookie"].endswith(f"sid={samples.SID}")


def test_base_url_keeps_prefix_and_strips_trailing_slash(mocked, session):
    client = Qihoo360Client(
        session,
        qid=samples.QID,
        sid=samples.SID,
        timeout=TIMEOUT,
        api_url="http://127.0.0.1:8900/clouds/",
        retry_pause=0,
    )
    mocked.post("http://127.0.0.1:8900/clouds/common/dev/GetList", json=samples.GETLIST)
    assert client.list_devices()[0].remote_id == samples.SN


def test_timeouts_are_passed_explicitly(mocked, qclient):
    mocked.post(f"{API}/common/dev/GetList", json=samples.GETLIST)
    qclient.list_devices()
    assert mocked.calls[0].request.req_kwargs["timeout"] == TIMEOUT


@pytest.mark.parametrize(
    ("command", "kwargs", "info_type", "data"),
    [
        (Command.START, {}, "21005", '{"mode":"smartClean","globalCleanTimes":1}'),
        (Command.PAUSE, {}, "21017", '{"cmd":"pause"}'),
        (Command.RESUME, {}, "21017", '{"cmd":"continue"}'),
        (Command.STOP, {}, "21017", '{"cmd":"stop"}'),
        (Command.DOCK, {}, "21012", '{"cmd":"start"}'),
        (Command.CANCEL_DOCK, {}, "21012", '{"cmd":"stop"}'),
        (Command.FIND, {}, "21020", '{"ctrlCode":3010}'),
        (Command.SUCTION, {"level": "quiet"}, "21022", '{"cmd":"quiet","cleanType":"total"}'),
        (Command.SUCTION, {"level": "auto"}, "21022", '{"cmd":"auto","cleanType":"total"}'),
        (
            Command.SUCTION,
            {"level": "strong", "clean_type": "area"},
            "21022",
            '{"cmd":"strong","cleanType":"area"}',
        ),
        (Command.SUCTION, {"level": "max"}, "21022", '{"cmd":"max","cleanType":"total"}'),
        (Command.VOLUME, {"volume": 0}, "21024", '{"cmd":"setVolume","value":0}'),
        (Command.VOLUME, {"volume": 10}, "21024", '{"cmd":"setVolume","value":10}'),
        (Command.SPOT, {}, "21005", '{"mode":"pointClean","count":1,"style":0}'),
        (Command.EDGE, {}, "21005", '{"mode":"edgeClean"}'),
        (Command.STATUS, {}, "20001", ""),
    ],
)
def test_every_command_is_built_exactly_as_the_app_builds_it(
    mocked, qclient, command, kwargs, info_type, data
):
    assert build_command(command, **kwargs) == (info_type, data)
    mocked.post(f"{API}/clean/cmd/send", json=samples.ACK)
    result = qclient.send_command(samples.SN, command, **kwargs)
    form = form_of(mocked.calls[0])
    assert form["sn"] == samples.SN
    assert form["infoType"] == info_type
    assert form["data"] == data
    assert form["devType"] == "3"
    assert form["taskid"] == result.task_id and UUID4.match(result.task_id)
    assert result.accepted is True


def test_find_robot_body_matches_the_captured_request(mocked, qclient):
    mocked.post(f"{API}/clean/cmd/send", json=samples.ACK)
    qclient.send_command(samples.SN, "find")
    body = mocked.calls[0].request.body.decode()
    assert body.startswith(f"sn={samples.SN}&infoType=21020&data=%7B%22ctrlCode%22%3A3010%7D&")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"command": Command.SUCTION, "level": "turbo"},
        {"command": Command.SUCTION, "level": "max", "clean_type": "room"},
        {"command": Command.VOLUME, "volume": 11},
        {"command": Command.VOLUME, "volume": -1},
        {"command": Command.VOLUME, "volume": True},
        {"command": Command.VOLUME, "volume": 5.0},
        {"command": "reboot"},
    ],
)
def test_bad_command_arguments_are_refused_before_any_request(kwargs):
    with pytest.raises(ValueError):
        build_command(**kwargs)


def test_rename_trims_and_posts_sn_and_title(mocked, qclient):
    mocked.post(f"{API}/clean/devuser/updateInfo", json=samples.ACK)
    assert qclient.rename_device(samples.SN, "  Kitchen  ") == "Kitchen"
    form = form_of(mocked.calls[0])
    assert (form["sn"], form["title"]) == (samples.SN, "Kitchen")


@pytest.mark.parametrize("title", ["", "   ", "x" * 33])
def test_rename_refuses_names_outside_1_to_32_chars(mocked, qclient, title):
    with pytest.raises(ValueError):
        qclient.rename_device(samples.SN, title)
    assert len(mocked.calls) == 0


def page(first: int, count: int) -> dict:
    items = [
        {"cleanId": f"{samples.SN}-{1700000000 + (first - i) * 86400}", "errorEnd": 0}
        for i in range(count)
    ]
    return {"errno": 0, "errmsg": "Succeeded", "data": {"list": items}}


def test_records_page_by_last_id_until_a_short_page(mocked, qclient):
    url = f"{API}/clean/record/getList"
    mocked.post(url, json=page(100, 3))
    mocked.post(url, json=page(97, 3))
    mocked.post(url, json=page(94, 1))
    runs = qclient.list_runs(samples.SN, page_size=3)
    forms = [form_of(call) for call in mocked.calls]
    assert [f["lastId"] for f in forms] == [
        "",
        f"{samples.SN}-{1700000000 + 98 * 86400}",
        f"{samples.SN}-{1700000000 + 95 * 86400}",
    ]
    assert all(f["pageSize"] == "3" and f["sn"] == samples.SN for f in forms)
    assert len(runs) == 7
    assert runs == sorted(runs, key=lambda r: r.started_at, reverse=True)


def test_records_stop_on_an_empty_page(mocked, qclient):
    url = f"{API}/clean/record/getList"
    mocked.post(url, json=page(100, 2))
    mocked.post(url, json={"errno": 0, "errmsg": "Succeeded", "data": {"list": []}})
    assert len(qclient.list_runs(samples.SN, page_size=2)) == 2
    assert len(mocked.calls) == 2


def test_records_stop_when_the_server_ignores_last_id(mocked, qclient):
    mocked.post(f"{API}/clean/record/getList", json=page(100, 2))
    runs = qclient.list_runs(samples.SN, page_size=2)
    assert len(mocked.calls) == 2  # the second page repeated the first: stop
    assert len(runs) == 2


def test_records_pages_can_be_consumed_lazily(mocked, qclient):
    mocked.post(f"{API}/clean/record/getList", json=page(100, 2))
    pages = qclient.iter_run_pages(samples.SN, page_size=2)
    assert len(next(pages)) == 2
    assert len(mocked.calls) == 1


@pytest.mark.parametrize(
    ("method", "args", "path", "fields"),
    [
        (
            "get_run",
            (samples.SN, "361TY000003000000-1703612364"),
            "/clean/record/getOne",
            {"sn": samples.SN, "cleanId": "361TY000003000000-1703612364"},
        ),
        ("get_device_totals", (samples.SN,), "/clean/record/statis", {"sn": samples.SN}),
        ("get_account_totals", (), "/clean/record/allStatis", {}),
        ("list_shares", (samples.SN,), "/common/share/getInviteList", {"sn": samples.SN}),
    ],
)
def test_read_endpoints_send_their_fields(mocked, qclient, method, args, path, fields):
    bodies = {
        "/clean/record/getOne": {"errno": 0, "data": {"record": {}}},
        "/clean/record/statis": samples.STATIS,
        "/clean/record/allStatis": samples.ALL_STATIS,
        "/common/share/getInviteList": samples.INVITES,
    }
    mocked.post(f"{API}{path}", json=bodies[path])
    getattr(qclient, method)(*args)
    form = form_of(mocked.calls[0])
    assert {k: v for k, v in form.items() if k in fields or k in ("sn", "cleanId")} == fields
    assert path in READ_PATHS


@pytest.mark.parametrize(
    ("offset", "sent"), [(1, "1"), (5.5, "5.5"), (-4, "-4"), (0, "0"), (-3.5, "-3.5")]
)
def test_recentlycleanlist_sends_the_utc_offset_in_hours(mocked, qclient, offset, sent):
    mocked.post(f"{API}/clean/record/recentlycleanlist", json=samples.RECENTLY)
    qclient.get_period_series(samples.SN, utc_offset_hours=offset)
    assert form_of(mocked.calls[0])["timezone"] == sent


def test_config_json_is_fetched_with_get_and_no_cookie(mocked, session):
    from devices.clouds import Qihoo360ConfigClient

    config = Qihoo360ConfigClient(session, timeout=TIMEOUT, retry_pause=0)
    mocked.get("https://smart.360.cn/clean/errorInfo_us.json", json=samples.ERROR_INFO)
    mocked.get("https://smart.360.cn/clean/modelalias.json", json=samples.MODEL_ALIAS)
    assert config.get_error_catalogue().lookup(-2405).title == "Dust bin full"
    assert config.get_model_aliases().display_name("S7") == "360 S7"
    assert all("Cookie" not in call.request.headers for call in mocked.calls)
    assert config.requests_made == 2


def test_requests_are_counted(mocked, qclient):
    mocked.post(f"{API}/common/dev/GetList", json=samples.GETLIST)
    mocked.post(f"{API}/clean/cmd/send", json=samples.ACK)
    qclient.list_devices()
    qclient.send_command(samples.SN, Command.STATUS)
    assert qclient.requests_made == 2


def test_constructor_validates_linking_input(session):
    with pytest.raises(ValueError, match="QID"):
        Qihoo360Client(session, qid="12ab", sid=samples.SID, timeout=TIMEOUT)
    with pytest.raises(ValueError, match="SID"):
        Qihoo360Client(session, qid=samples.QID, sid="abc; def", timeout=TIMEOUT)
    with pytest.raises(ValueError):
        Qihoo360Client(session, qid=samples.QID, timeout=TIMEOUT)
    with pytest.raises(ValueError):
        Qihoo360Client(session, qid=samples.QID, q=Q, timeout=TIMEOUT)
    with pytest.raises(ValueError):
        Qihoo360Client(
            session, qid=samples.QID, sid=samples.SID, timeout=TIMEOUT, api_url="ftp://x"
        )


def test_a_non_ascii_q_cookie_is_sent_as_utf8(mocked, session):
    q = copy.copy(Q) + "&n=%E5%B0%8F%E6%98%8E"
    client = Qihoo360Client(session, qid="2000000002", q=q, t=T, sid="ab" * 16, timeout=TIMEOUT)
    mocked.post(f"{API}/common/dev/GetList", json=samples.GETLIST)
    client.list_devices()
    cookie = mocked.calls[0].request.headers["Cookie"]
    assert (cookie.decode() if isinstance(cookie, bytes) else cookie).startswith(f"q={Q}&n=小明;")


def test_responses_library_is_strict(mocked, qclient):
    """Guard for the suite itself: an unregistered URL fails instead of passing."""
    with pytest.raises(Exception):  # noqa: B017 - whatever the transport raises
        qclient.list_devices()
    assert isinstance(mocked, responses.RequestsMock)
