"""360 parsers against the recorded bodies of cloud-apis.md 3.5."""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, date, datetime

import pytest

from devices.clouds import BadResponse, RunResult
from devices.clouds.qihoo360_config import parse_error_catalogue, parse_model_aliases
from devices.clouds.qihoo360_parse import (
    parse_account_totals,
    parse_clues,
    parse_device_list,
    parse_device_totals,
    parse_period_series,
    parse_runs_page,
    parse_shares,
    parse_support,
)

from . import samples
from .conftest import API


def test_getlist_sample_becomes_a_typed_device():
    (device,) = parse_device_list(samples.GETLIST["data"])
    assert device.vendor == "qihoo360"
    assert device.remote_id == "361TY000003000000"
    assert device.name == "Example Vacuum"
    assert device.model == "S7"
    assert device.firmware == "1.8.9"
    assert device.online is True
    assert device.icon_url == "https://p.ssl.qhimg.com/t01047fcf6ee991aeb9.png"
    assert device.capabilities_known is True
    assert device.capabilities["volume"] is True and device.supports("maxMode")
    assert len(device.capabilities) == 26
    assert device.extra["role"] == 2 and device.extra["versionCode"] == 2976
    assert device.is_station is False


def test_support_gating_of_the_s5_hides_explicit_zeros_only():
    flags, known = parse_support('{"maxMode":0,"volume":0,"mop":0,"roomSweep":1}')
    assert known
    assert flags == {"maxMode": False, "volume": False, "mop": False, "roomSweep": True}


@pytest.mark.parametrize("support", ["", "not json", "[1,2]", None, 7, '"text"'])
def test_unparsable_support_means_every_flag_available(support):
    item = {"sn": "361TY000009000009", "title": "Garage", "online": 0, "support": support}
    (device,) = parse_device_list({"list": [item]})
    assert device.capabilities_known is False
    assert device.supports("volume") and device.supports("maxMode") and device.supports("x")
    assert device.online is False


def test_support_as_an_already_decoded_object_and_odd_values():
    flags, known = parse_support({"volume": "0", "maxMode": False, "mop": 2, "led": "1"})
    assert known and flags == {"volume": False, "maxMode": False, "mop": True, "led": True}


def test_device_list_tolerates_missing_and_odd_fields():
    items = [{"sn": "A"}, {"title": "no sn"}, "junk", {"sn": 123, "online": "1", "title": ""}]
    devices = parse_device_list({"list": items})
    assert [d.remote_id for d in devices] == ["A", "123"]
    assert devices[0].name == "A" and devices[0].online is None and devices[0].model is None
    assert devices[1].online is True
    assert parse_device_list({}) == [] and parse_device_list([{"sn": "B"}])[0].remote_id == "B"


def test_device_list_that_is_not_a_list_is_a_bad_response():
    with pytest.raises(BadResponse) as info:
        parse_device_list({"list": {"sn": "A"}})
    assert info.value.transient is False and "sn" in info.value.excerpt


def test_record_sample_is_parsed_in_seconds_and_square_metres():
    (run,), count = parse_runs_page(samples.RECORDS_PAGE["data"], samples.SN)
    assert count == 1
    assert run.remote_id == "361TY000003000000-1703612364"
    assert run.device_id == samples.SN
    assert run.started_at == datetime.fromtimestamp(1703612364, UTC)
    assert run.ended_at == datetime.fromtimestamp(1703614164, UTC)
    assert (run.duration_s, run.area_m2, run.mode) == (1800, 42.0, "smartClean")
    assert run.result is RunResult.COMPLETED and run.error_code is None
    assert run.started_at.tzinfo is UTC


def test_record_start_is_derived_from_the_clean_id_and_errors_are_kept():
    items = [{"cleanId": "361TY000003000000-1703612364", "errorEnd": "-2201"}, {"cleanId": "X-abc"}]
    (run, other), _ = parse_runs_page({"list": items}, samples.SN)
    assert run.started_at == datetime.fromtimestamp(1703612364, UTC)
    assert run.result is RunResult.ERROR and run.error_code == -2201 and run.result_raw == "-2201"
    assert other.started_at is None and other.result is RunResult.UNKNOWN


def test_statis_sample_with_bold_clues():
    totals = parse_device_totals(samples.STATIS["data"])
    assert (totals.area_m2, totals.run_count, totals.duration_s, totals.mop_area_m2) == (
        594,
        22,
        44175,
        0,
    )
    assert totals.clues.text == (
        "The accumulated cleaning area is equivalent to 4.1 basketball courts, saving you 12.3 hours"
    )
    bold = [text for text, is_bold in totals.clues.segments if is_bold]
    assert bold == ["4.1", "12.3"]


def test_clues_without_markers_and_missing():
    assert parse_clues("plain").segments == (("plain", False),)
    assert parse_clues(None) is None and parse_clues("") is None


def test_all_statis_sample():
    totals = parse_account_totals(samples.ALL_STATIS["data"])
    assert (totals.area_m2, totals.run_count, totals.duration_s, totals.device_count) == (
        5183,
        662,
        833558,
        1,
    )


def test_statis_that_is_not_an_object_is_a_bad_response():
    with pytest.raises(BadResponse):
        parse_device_totals([1, 2])


def test_week_and_month_series():
    series = parse_period_series(samples.RECENTLY["data"])
    assert [(p.label, p.day, p.area_m2) for p in series.week] == [
        ("2024-01-01", date(2024, 1, 1), 12.0),
        ("2024-01-02", date(2024, 1, 2), 0.0),
    ]
    assert series.month[0].day == date(2024, 1, 1) and series.month[0].area_m2 == 310


@pytest.mark.parametrize(
    "data",
    [{}, {"week": "x", "month": []}, {"week": [{"date": "2024-01-01"}], "month": [{"a": 1}]}, [1]],
)
def test_unknown_series_shapes_are_hidden(data):
    series = parse_period_series(data)
    assert series.week is None or series.week == ()
    assert series.month is None or series.month == ()


def test_unknown_series_shape_is_logged_once_a_day(mocked, qclient, caplog):
    body = {"errno": 0, "errmsg": "Succeeded", "data": {"weekly": [1]}}
    mocked.post(f"{API}/clean/record/recentlycleanlist", json=body)
    with caplog.at_level(logging.WARNING, logger="devices.clouds.qihoo360_parse"):
        first = qclient.get_period_series("SN-LOG-ONCE", utc_offset_hours=1)
        qclient.get_period_series("SN-LOG-ONCE", utc_offset_hours=1)
    assert first.week is None and first.month is None
    assert sum("unknown shape" in r.getMessage() for r in caplog.records) == 1


def test_share_list_and_data_as_list():
    (entry,) = parse_shares(samples.INVITES["data"])
    assert (entry.qid, entry.display_name, entry.status) == ("2000000002", "Guest", 1)
    assert entry.created_at == datetime.fromtimestamp(1703612364, UTC)
    (other,) = parse_shares([{"qid": 5, "role": {"a": 1}}])
    assert other.display_name == "5" and other.extra == {"role": '{"a": 1}'}
    assert parse_shares({"list": []}) == [] and parse_shares({}) == []


def test_error_catalogue_lookup_rules():
    catalogue = parse_error_catalogue(samples.ERROR_INFO)
    wheel = catalogue.lookup(-2201)
    assert (wheel.title, wheel.detail) == ("Wheel stuck", "Check the drive wheels for tangles.")
    assert catalogue.lookup("-2405").title == "Dust bin full"
    assert catalogue.lookup(5058).title == "Error 5058"
    odd = parse_error_catalogue({"1": {"desc": "only desc"}, "2": {"n": 1}, "3": 4})
    assert odd.lookup(1).title == "only desc"
    assert odd.lookup(2).title == "Error 2" and odd.lookup(3).title == "Error 3"
    assert parse_error_catalogue([1]).lookup(1).title == "Error 1"


def test_model_alias_lookup_rules():
    aliases = parse_model_aliases(samples.MODEL_ALIAS)
    assert aliases.display_name("S7") == "360 S7"
    assert aliases.display_name("X95") == "X95"
    other = parse_model_aliases({"A": {"alias": "Alias A"}, "B": {"title": "Title B"}, "C": "x"})
    assert other.display_name("A") == "Alias A" and other.display_name("B") == "Title B"
    assert other.display_name("C") == "C" and other.display_name(None) == ""


def test_samples_are_not_mutated_by_parsers():
    before = copy.deepcopy(samples.GETLIST)
    parse_device_list(samples.GETLIST["data"])
    assert json.dumps(before) == json.dumps(samples.GETLIST)
