"""Hypothesis: any JSON value into any parser gives a typed result or BadResponse
(envelopes: a CloudError), never another exception (quality.md R7, spec D-X-3)."""

from __future__ import annotations

import copy
import json
from datetime import datetime

import pytest
import requests
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.clouds import (
    BadResponse,
    CloudError,
    CommandResult,
    DeviceStatus,
    InMemoryTokenStore,
    LifetimeTotals,
    MowerRunDetail,
    PeriodSeries,
    RemoteDevice,
    RunMap,
    ShareEntry,
)
from devices.clouds import mammotion_account as account_mod
from devices.clouds import mammotion_envelope as envelope
from devices.clouds import mammotion_parse as mp
from devices.clouds import qihoo360_config as qc
from devices.clouds import qihoo360_map as qm
from devices.clouds import qihoo360_parse as qp

from . import samples
from .conftest import OPEN_API, TOKEN_URL, make_mclient

KEYS = [
    # 360
    "errno",
    "errmsg",
    "errorCode",
    "data",
    "list",
    "sn",
    "title",
    "hardware",
    "version",
    "online",
    "support",
    "icon",
    "cleanId",
    "startTime",
    "endTime",
    "cleanArea",
    "cleanTime",
    "mode",
    "errorEnd",
    "record",
    "map",
    "width",
    "height",
    "resolution",
    "x_min",
    "y_min",
    "base64_len",
    "lz4_len",
    "posArray",
    "chargeHandlePos",
    "smartArea",
    "activeIds",
    "value",
    "vertexs",
    "area",
    "name",
    "id",
    "active",
    "clues",
    "week",
    "month",
    "date",
    "qid",
    "nickName",
    "createTime",
    "title",
    "desc",
    "alias",
    "sid",
    "pushKey",
    # Mammotion
    "code",
    "msg",
    "nickname",
    "model",
    "status",
    "batteryLevel",
    "chargeStatus",
    "network",
    "usedNetwork",
    "wifiRssi",
    "taskId",
    "taskName",
    "commandResult",
    "resultMessage",
    "records",
    "workId",
    "endWorkTime",
    "startWorkTime",
    "workResult",
    "workType",
    "workArea",
    "workTimeUsed",
    "workProgress",
    "pages",
    "hasMore",
    "saveTime",
    "carbonReduction",
    "workCount",
    "totalWorkArea",
    "workProcess",
    "timeStamp",
    "eventCode",
    "workParam",
    "knifeHeight",
    "mapFilePath",
    "implication",
    "gmtCreate",
    "faultLevel",
    "imageList",
    "url",
    "access_token",
    "refresh_token",
    "expires_in",
    "userInformation",
    "isoCode",
    "areaEnName",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["0", "102", " 212 ", "1e400", "NaN", "-1", "2024-01", "AAAA", ""])
)
keys = st.sampled_from(KEYS) | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=8),
    max_leaves=8,
)
# Objects with known field names and mostly shallow values: fast to generate and close
# to what the vendors send, so parsers get past their first checks.
objects = st.dictionaries(keys, scalars | st.lists(scalars, max_size=3) | json_values, max_size=8)
# No example database: it would write .hypothesis/ into the shared checkout.
FUZZ = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def returns_or_bad_response(call, expected_type):
    try:
        result = call()
    except BadResponse:
        return None
    assert isinstance(result, expected_type), type(result)
    return result


# --- 360 ------------------------------------------------------------------------------


@FUZZ
@given(json_values | objects)
def test_360_envelope(body):
    try:
        qp.unwrap_envelope(body)
    except CloudError:
        pass


@FUZZ
@given(json_values | objects | st.fixed_dictionaries({"list": st.lists(objects, max_size=3)}))
def test_360_list_parsers(data):
    devices = returns_or_bad_response(lambda: qp.parse_device_list(data), list)
    assert devices is None or all(isinstance(d, RemoteDevice) for d in devices)
    for device in devices or []:
        assert isinstance(device.supports("volume"), bool)
    returns_or_bad_response(lambda: qp.parse_runs_page(data, "SN"), tuple)
    shares = returns_or_bad_response(lambda: qp.parse_shares(data), list)
    assert shares is None or all(isinstance(s, ShareEntry) and s.display_name for s in shares)


@FUZZ
@given(json_values | objects)
def test_360_statistics_parsers(data):
    returns_or_bad_response(lambda: qp.parse_device_totals(data), LifetimeTotals)
    returns_or_bad_response(lambda: qp.parse_account_totals(data), LifetimeTotals)
    assert isinstance(qp.parse_period_series(data), PeriodSeries)
    qp.parse_support(data)
    qp.parse_clues(data)


@FUZZ
@given(json_values | objects | st.fixed_dictionaries({"record": objects}))
def test_360_run_map(data):
    returns_or_bad_response(lambda: qm.parse_run_map(data, "SN", "SN-1"), RunMap)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(
            ["map", "width", "height", "resolution", "x_min", "y_min", "base64_len", "lz4_len"]
        ),
        json_values | st.text(alphabet="ABCDabcd0123+/=", max_size=40),
    )
)
def test_360_grid_decoder_never_raises(record):
    grid, error = qm.decode_grid(record)
    assert (grid is None) != (error is None)


@FUZZ
@given(json_values | objects, json_values)
def test_360_config_files(body, code):
    catalogue = qc.parse_error_catalogue(body)
    text = catalogue.lookup(code if isinstance(code, int | str) else 1)
    assert isinstance(text.title, str) and text.title
    aliases = qc.parse_model_aliases(body)
    assert isinstance(aliases.display_name(code if isinstance(code, str) else "S7"), str)


# --- Mammotion ------------------------------------------------------------------------


@FUZZ
@given(json_values | objects)
def test_mammotion_envelope(body):
    try:
        envelope.unwrap(body)
    except CloudError:
        pass


@FUZZ
@given(json_values | objects | st.lists(objects, max_size=3))
def test_mammotion_device_parsers(data):
    returns_or_bad_response(lambda: mp.parse_mowers(data), list)
    returns_or_bad_response(lambda: mp.parse_status(data, "dev"), DeviceStatus)
    returns_or_bad_response(lambda: mp.parse_tasks(data), list)
    try:
        assert isinstance(mp.parse_action(data), CommandResult)
    except CloudError:  # CommandRejected when commandResult is false
        pass


@FUZZ
@given(json_values | objects | st.fixed_dictionaries({"records": st.lists(objects, max_size=3)}))
def test_mammotion_report_parsers(data):
    returns_or_bad_response(lambda: mp.parse_report_page(data, "dev"), tuple)
    returns_or_bad_response(lambda: mp.parse_summary(data), LifetimeTotals)
    returns_or_bad_response(lambda: mp.parse_report_detail(data, "dev", "w"), MowerRunDetail)
    returns_or_bad_response(lambda: mp.parse_fault_page(data, "dev"), tuple)


@FUZZ
@given(objects)
def test_mammotion_account_parsers(data):
    try:
        login = account_mod._parse_login(data)
    except CloudError:
        pass
    else:
        assert login.expires_at is None or isinstance(login.expires_at, datetime)
    account_mod._parse_area(data)


def mutations(sample: dict) -> st.SearchStrategy:
    """A recorded body with one value somewhere replaced by arbitrary JSON."""
    paths: list[tuple] = []

    def walk(value, path):
        paths.append(path)
        if isinstance(value, dict):
            for key, child in value.items():
                walk(child, (*path, key))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                walk(child, (*path, index))

    walk(sample, ())

    def apply(path, replacement):
        body = copy.deepcopy(sample)
        if not path:
            return replacement
        target = body
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = replacement
        return body

    return st.builds(apply, st.sampled_from(paths), json_values)


@settings(max_examples=40, deadline=None, database=None)
@given(
    st.sampled_from(["mowers", "detail", "reports", "faults", "token"]).flatmap(
        lambda name: st.tuples(
            st.just(name),
            mutations(
                {
                    "mowers": samples.MOWERS,
                    "detail": samples.DETAIL,
                    "reports": samples.REPORTS,
                    "faults": samples.FAULTS,
                    "token": samples.OPEN_TOKEN,
                }[name]
            ),
        )
    )
)
def test_mammotion_client_end_to_end_with_mutated_recorded_bodies(case):
    name, body = case
    store = InMemoryTokenStore() if name == "token" else InMemoryTokenStore(_fresh())
    with (
        requests.Session() as session,
        responses.RequestsMock(assert_all_requests_are_fired=False) as mocked,
    ):
        client = make_mclient(session, store)
        mocked.post(
            TOKEN_URL, body=json.dumps(body) if name == "token" else json.dumps(samples.OPEN_TOKEN)
        )
        mocked.get(
            f"{OPEN_API}/v1/mowers",
            body=json.dumps(body if name in ("mowers", "token") else samples.MOWERS),
        )
        mocked.get(f"{OPEN_API}/v1/mower/d", body=json.dumps(body))
        mocked.post(f"{OPEN_API}/v1/mower/work-reports/search", body=json.dumps(body))
        mocked.post(f"{OPEN_API}/v1/mower/error-codes/search", body=json.dumps(body))
        call = {
            "mowers": client.list_devices,
            "token": client.list_devices,
            "detail": lambda: client.get_status("d"),
            "reports": lambda: client.list_runs("d", max_pages=3),
            "faults": lambda: client.list_faults("d", max_pages=3),
        }[name]
        try:
            call()
        except CloudError:
            pass


def _fresh():
    from .conftest import fresh_tokens

    return fresh_tokens()


@pytest.mark.parametrize(
    "sample", [samples.GETLIST, samples.STATIS, samples.ALL_STATIS, samples.RECORDS_PAGE]
)
def test_recorded_360_samples_pass_the_envelope(sample):
    assert qp.unwrap_envelope(copy.deepcopy(sample)) == sample["data"]
