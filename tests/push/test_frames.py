"""Frame codec of the push channel (cloud-apis.md 3.7.2-3.7.5), against hand-made bytes."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.clouds.qihoo360_push_frames import (
    HEARTBEAT,
    Frame,
    FrameReader,
    MalformedFrame,
    PushProtocolError,
    ack_frame,
    bind_frame,
    encode_frame,
    parse_properties,
    split_messages,
)

from .samples import SAMPLE_EVENT_TEXT, bind_ack, encrypted_body, message, message_frame


def test_heartbeat_is_exactly_00_05_00_00():
    assert HEARTBEAT == bytes.fromhex("00050000")
    assert encode_frame(0) == HEARTBEAT


def test_bind_frame_bytes():
    frame = bind_frame("4a20145c62428d31b52b53c9ccbfcee4", 1703612364234)
    props = b"cv:1.7\nt:30\nu:4a20145c62428d31b52b53c9ccbfcee4@60009\nts:1703612364234"
    assert frame == b"\x00\x05\x00\x02" + struct.pack(">H", len(props)) + props
    assert not frame.endswith(b"\n")


def test_ack_echoes_header_and_properties_with_opcode_4():
    raw = message_frame(message(1, b'{"data":"x"}'), ack="42")
    (frame,) = FrameReader().feed(raw)
    assert ack_frame(frame) == bytes.fromhex("00050004") + b"\x00\x06ack:42"


def test_cuts_every_kind_of_frame_from_one_stream():
    stream = (
        bind_ack()
        + bytes.fromhex("00050001")  # heartbeat reply
        + encode_frame(17, b"sa:alias")  # unknown here: 6 + propLen
        + message_frame(message(9, b"{}"), ack="3")
        + message_frame(ack=None)  # empty payload, no properties
    )
    frames = FrameReader().feed(stream)
    assert [f.opcode for f in frames] == [6, 1, 17, 3, 3]
    assert frames[0].properties == {"id": "60009", "r": "0"}
    assert frames[2].properties == {"sa": "alias"}
    assert frames[3].ack_token == "3" and frames[3].payload == message(9, b"{}")
    assert frames[4].payload == b"" and frames[4].ack_token == ""


def test_partial_reads_one_byte_at_a_time():
    body = encrypted_body(SAMPLE_EVENT_TEXT)
    stream = bind_ack() + message_frame(message(1, body), message(2, body)) + HEARTBEAT
    reader = FrameReader()
    frames: list[Frame] = []
    for byte in stream:
        frames.extend(reader.feed(bytes([byte])))
    assert [f.opcode for f in frames] == [6, 3, 0]
    assert len(split_messages(frames[1].payload)) == 2
    assert reader.buffered == 0


def test_incomplete_frame_stays_buffered():
    reader = FrameReader()
    raw = message_frame(message(1, b"{}"))
    assert reader.feed(raw[:-1]) == []
    assert reader.buffered == len(raw) - 1
    assert [f.opcode for f in reader.feed(raw[-1:])] == [3]


def test_wrong_version_is_a_protocol_error_and_stays_one():
    reader = FrameReader()
    with pytest.raises(PushProtocolError):
        reader.feed(bytes.fromhex("00040000"))
    with pytest.raises(PushProtocolError):
        reader.feed(HEARTBEAT)


def test_absurd_payload_length_is_a_protocol_error():
    with pytest.raises(PushProtocolError):
        FrameReader(max_payload=1000).feed(b"\x00\x05\x00\x03\x00\x00" + struct.pack(">I", 1001))


def test_properties_split_at_the_first_colon_and_tolerate_trailing_newline():
    assert parse_properties(b"id:60009\nr:0\n") == {"id": "60009", "r": "0"}
    assert parse_properties(b"\n\nu:abc@60009\nurl:http://x:1/y\nnoise\n") == {
        "u": "abc@60009",
        "url": "http://x:1/y",
    }


def test_split_messages():
    payload = message(1, b"a") + message(2, b"bc", product=1)
    assert [(m.msg_id, m.product, m.body) for m in split_messages(payload)] == [
        (1, 60009, b"a"),
        (2, 1, b"bc"),
    ]
    assert split_messages(b"") == []


@pytest.mark.parametrize(
    "payload",
    [
        message(1, b"abc") + b"\x00",  # stray bytes after the last message
        message(1, b"abc")[:-1],  # body cut short
        struct.pack(">QII", 1, 60009, 0),  # bodyLen 0
        b"\x00" * 7,  # a truncated header
    ],
)
def test_malformed_payloads(payload):
    with pytest.raises(MalformedFrame):
        split_messages(payload)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=64), max_size=12))
def test_fuzz_any_bytes_give_frames_or_a_protocol_error(chunks):
    reader = FrameReader(max_payload=4096)
    try:
        for chunk in chunks:
            for frame in reader.feed(chunk):
                assert frame.header[:2] == b"\x00\x05"
                if frame.payload is not None:
                    try:
                        split_messages(frame.payload)
                    except MalformedFrame:
                        pass
    except PushProtocolError:
        pass


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0, 1, 2, 3, 4, 6, 17, 99]), st.binary(max_size=40)),
        max_size=8,
    ),
    st.integers(min_value=1, max_value=17),
)
def test_fuzz_valid_streams_survive_any_chunking(frames, step):
    stream = b"".join(encode_frame(op, b"k:v", payload) for op, payload in frames)
    reader = FrameReader()
    got = []
    for start in range(0, len(stream), step):
        got.extend(reader.feed(stream[start : start + step]))
    assert [f.opcode for f in got] == [op for op, _ in frames]
    assert [f.payload for f in got if f.opcode == 3] == [p for op, p in frames if op == 3]
