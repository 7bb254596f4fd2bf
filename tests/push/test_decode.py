"""Bodies, decryption and typed events (cloud-apis.md 3.7.6, 3.7.7, 3.8)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from devices.clouds.qihoo360_push import (
    CommandAnswer,
    DataUrlEvent,
    StatusMessage,
    UnknownEvent,
    mode_label,
    parse_event,
)
from devices.clouds.qihoo360_push_frames import (
    DecryptFailed,
    GarbageMessage,
    aes_key,
    decode_body,
    encrypt_data,
)

from .samples import (
    SAMPLE_EVENT,
    SAMPLE_EVENT_TEXT,
    SEED_PUSH_KEY,
    aes_encrypt,
    encrypted_body,
    plain_body,
    status_event,
)


def test_key_is_the_first_16_utf8_bytes_zero_padded():
    assert aes_key(SEED_PUSH_KEY) == b"a1b2c3d4e5f60718"
    assert aes_key("short") == b"short" + b"\0" * 11
    assert aes_key("ü" * 10) == ("ü" * 8).encode("utf-8")  # bytes, not characters


def test_encoder_matches_an_independent_encryption():
    assert encrypt_data(b"hello", SEED_PUSH_KEY) == aes_encrypt(b"hello", SEED_PUSH_KEY)


def test_published_sample_decrypts_and_parses():
    event = decode_body(encrypted_body(SAMPLE_EVENT_TEXT), SEED_PUSH_KEY)
    assert event == SAMPLE_EVENT
    message = parse_event(event)
    assert isinstance(message, StatusMessage)
    assert message.sn == "361TY000003000000"
    assert message.task_id == "1703612364234672"
    assert message.created_at == datetime(2023, 12, 26, 17, 39, 24, tzinfo=UTC)
    assert message.info_type == "20001" and message.message == "ok" and message.ok
    assert message.event == 4
    status = message.status
    assert status.mode == "charge" and status.charging and status.mode_label == "Charging (docked)"
    assert status.sub_mode is None  # the string "null"
    assert status.last_sub_mode == "total"
    assert status.battery == 89
    assert status.fan_level == "quiet"
    assert status.wind_power == 0
    assert status.clean_area == 3 and status.clean_time == 50
    assert status.clean_id == "361TY000003000000-1703612364"
    assert status.error_codes == () and status.error_code is None
    assert status.pos == (540, -483) and status.heading == -1953
    assert status.vol == 9 and status.mop_status == 0
    assert status.all_area == 5943 and status.all_time == 445962
    assert status.raw["timerStatus"] == 10


@pytest.mark.parametrize("flag", [0, "0"])
def test_encrypt_0_is_plain_base64(flag):
    assert decode_body(plain_body(SAMPLE_EVENT_TEXT, encrypt=flag), "any key") == SAMPLE_EVENT


@pytest.mark.parametrize("flag", [1, "1", None])
def test_encrypted_when_encrypt_is_1_or_missing(flag):
    body = json.loads(encrypted_body(SAMPLE_EVENT_TEXT))
    if flag is None:
        del body["encrypt"]
    else:
        body["encrypt"] = flag
    assert decode_body(json.dumps(body).encode(), SEED_PUSH_KEY) == SAMPLE_EVENT


def test_wrong_key_is_a_decrypt_failure():
    body = encrypted_body(SAMPLE_EVENT_TEXT)
    failures = 0
    for key in ("0" * 32, "wrong-key-wrong-key", "a1b2c3d4e5f60719"):
        with pytest.raises((DecryptFailed, GarbageMessage)) as caught:
            decode_body(body, key)
        failures += caught.type is DecryptFailed
        assert SEED_PUSH_KEY not in str(caught.value) and key not in str(caught.value)
    assert failures >= 2  # a wrong key passes the padding check about 1 time in 256


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'["data"]',
        b'{"encrypt":1}',
        b'{"data":"!!!not base64!!!","encrypt":1}',
        b'{"data":"YWJj","encrypt":1}',  # 3 bytes: not a whole AES block
        json.dumps({"data": "bm90IGpzb24=", "encrypt": 0}).encode(),  # "not json"
        b"\xff\xfe",
    ],
)
def test_garbage_bodies(body):
    with pytest.raises(GarbageMessage):
        decode_body(body, SEED_PUSH_KEY)


def test_inner_data_as_object_and_inner_data_as_string():
    as_object = dict(SAMPLE_EVENT, data=json.loads(SAMPLE_EVENT["data"]))
    assert parse_event(as_object) == parse_event(SAMPLE_EVENT)
    inner = json.loads(SAMPLE_EVENT["data"])
    inner["data"] = json.dumps(inner["data"])
    as_string = dict(SAMPLE_EVENT, data=json.dumps(inner))
    assert parse_event(as_string).status.battery == 89


def test_status_field_fallbacks_and_errors():
    data = {"mode": "fault", "elec": "55", "errorState": [-2201, 0, -2402], "subMode": "area",
            "pos": ["12", 3.0], "workNoisy": "max"}  # fmt: skip
    message = parse_event(json.loads(status_event(data)))
    status = message.status
    assert status.battery == 55  # elec when elecReal is missing
    assert status.error_codes == (-2201, -2402) and status.error_code == -2402
    assert status.sub_mode == "area" and status.pos == (12, 3) and status.fan_level == "max"
    assert status.mode_label == "Error" and not status.charging
    assert status.clean_area is None and status.vol is None


def test_odd_status_shapes_never_raise():
    for data in ({}, {"errorState": 5}, {"errorState": "[-2101]"}, {"pos": [1]}, {"mode": 3}):
        status = parse_event(json.loads(status_event(data))).status
        assert status.raw == data
    assert (
        parse_event(json.loads(status_event({"errorState": "[-2101]"}))).status.error_code == -2101
    )


def test_info_type_compared_as_string_and_refusals_kept():
    message = parse_event(json.loads(status_event({"mode": "idle"}, info_type="20001")))
    assert isinstance(message, StatusMessage)
    answer = parse_event(
        json.loads(status_event({}, info_type=21024, message="fail", taskid="t-1"))
    )
    assert isinstance(answer, CommandAnswer)
    assert answer.info_type == "21024" and answer.task_id == "t-1"
    assert answer.message == "fail" and not answer.ok and answer.data == {}


def test_other_info_types_keep_their_data_raw():
    voice = {"id": "v1", "cmd": "process", "process": 40}
    answer = parse_event(json.loads(status_event(voice, info_type=21027)))
    assert isinstance(answer, CommandAnswer) and answer.data == voice


def test_events_without_inner_payload_are_kept_raw():
    raw = {"sn": "X", "taskid": "1", "something": "else"}
    message = parse_event(raw)
    assert isinstance(message, UnknownEvent) and message.raw == raw and message.sn == "X"
    no_type = parse_event({"sn": "X", "data": json.dumps({"message": "ok", "data": {}})})
    assert isinstance(no_type, UnknownEvent)


def test_push_data_url_event_resolves_through_fetch():
    event = {"createTime": "1703612364", "event": 4, "sn": "S", "taskid": "9",
             "pushDataUrl": "http://127.0.0.1:9/_sim/360/pushdata/5"}  # fmt: skip
    message = parse_event(event)
    assert isinstance(message, DataUrlEvent) and message.url == event["pushDataUrl"]
    asked = []

    def fetch(url):
        asked.append(url)
        return json.dumps({"message": "ok", "infoType": 20001, "data": {"mode": "sweep"}}).encode()

    resolved = message.resolve(fetch)
    assert asked == [event["pushDataUrl"]]  # used as returned
    assert isinstance(resolved, StatusMessage) and resolved.status.mode == "sweep"
    assert resolved.sn == "S" and resolved.task_id == "9"
    with pytest.raises(GarbageMessage):
        message.resolve(lambda url: "<html>")


def test_mode_labels():
    assert mode_label("sweep") == "Cleaning"
    assert mode_label("somethingNew") == "somethingNew"
    assert mode_label(None) == ""
