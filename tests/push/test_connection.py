"""``PushConnection`` over a real loopback socket, against a server scripted by the test:
bind, heartbeat, acknowledgements, drops, counters, timeouts and secrets."""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading

import pytest

from devices.clouds.qihoo360_push import (
    BindRejected,
    Bound,
    CommandAnswer,
    DataUrlEvent,
    PushClosed,
    PushConnection,
    PushProtocolError,
    PushTimeout,
    ReconnectBackoff,
    StatusMessage,
    WrongKeySuspected,
    parse_push_address,
    run_forever,
)
from devices.clouds.qihoo360_push_frames import encode_frame

from .samples import (
    OWNER_SID,
    SAMPLE_EVENT_TEXT,
    SEED_PUSH_KEY,
    bind_ack,
    encrypted_body,
    message,
    message_frame,
    plain_body,
    status_event,
)


def read_bind(server) -> dict[str, str]:
    header = server.read(6)
    assert header[:4] == b"\x00\x05\x00\x02"
    (length,) = struct.unpack(">H", header[4:])
    text = server.read(length).decode()
    return dict(line.split(":", 1) for line in text.split("\n"))


def bound_pair(harness, fake_server, **kw) -> PushConnection:
    conn = harness.add(PushConnection(fake_server.address, OWNER_SID, SEED_PUSH_KEY, **kw))
    fake_server.accept()
    harness.pump(0.05)
    props = read_bind(fake_server)
    assert props["u"] == f"{OWNER_SID}@60009"
    fake_server.send(bind_ack())
    harness.wait_type(Bound, conn=conn)
    return conn


def test_bind_properties_and_success(harness, fake_server):
    conn = harness.add(
        PushConnection(fake_server.address, OWNER_SID, SEED_PUSH_KEY, wall_ms=lambda: 1234)
    )
    fake_server.accept()
    harness.pump(0.05)
    assert read_bind(fake_server) == {
        "cv": "1.7",
        "t": "30",
        "u": f"{OWNER_SID}@60009",
        "ts": "1234",
    }
    assert conn.state == "binding"
    fake_server.send(bind_ack())
    assert isinstance(harness.wait_type(Bound), Bound)
    assert conn.bound


def test_bind_rejected(harness, fake_server):
    conn = harness.add(PushConnection(fake_server.address, OWNER_SID, SEED_PUSH_KEY))
    fake_server.accept()
    harness.pump(0.05)
    read_bind(fake_server)
    fake_server.send(bind_ack("1"))
    error = harness.wait_type(BindRejected)
    assert error.result == "1" and error.retryable
    assert conn.state == "closed"
    assert OWNER_SID not in str(error)


def test_no_bind_answer_times_out(harness, fake_server):
    harness.add(PushConnection(fake_server.address, OWNER_SID, SEED_PUSH_KEY, bind_timeout=0.3))
    fake_server.accept()
    assert isinstance(harness.wait_type(PushTimeout, timeout=3), PushTimeout)


def test_connect_refused_is_a_push_closed(harness):
    conn = PushConnection("127.0.0.1:1", OWNER_SID, SEED_PUSH_KEY)
    try:
        harness.add(conn)  # refused at once, or reported by the loop
    except PushClosed:
        return
    assert isinstance(harness.wait_type(PushClosed, timeout=3), PushClosed)


def test_heartbeats_every_interval(harness, fake_server):
    conn = bound_pair(harness, fake_server, heartbeat_interval=0.2)
    harness.pump(0.5)
    assert fake_server.read(8) == bytes.fromhex("00050000") * 2
    assert conn.stats.heartbeats_sent >= 2
    fake_server.send(bytes.fromhex("00050001"))
    harness.pump(0.1)
    assert conn.stats.heartbeat_replies == 1


def test_due_heartbeat_with_an_injected_clock(fake_server):
    now = [100.0]
    conn = PushConnection(fake_server.address, OWNER_SID, SEED_PUSH_KEY, clock=lambda: now[0])
    conn._next_heartbeat = None
    assert not conn.due_heartbeat(1e9)  # not bound: no heartbeat
    conn.state, conn._next_heartbeat = "bound", 125.0
    assert not conn.due_heartbeat(124.9) and conn.due_heartbeat(125.0)
    assert conn.next_deadline() == 125.0


def test_message_frame_is_acknowledged_and_parsed(harness, fake_server):
    conn = bound_pair(harness, fake_server)
    fake_server.send(message_frame(message(1, encrypted_body(SAMPLE_EVENT_TEXT)), ack="42"))
    status = harness.wait_type(StatusMessage)
    assert status.status.battery == 89 and status.task_id == "1703612364234672"
    assert fake_server.read(12) == bytes.fromhex("00050004") + b"\x00\x06ack:42"
    assert conn.stats.acks_sent == 1 and conn.stats.messages == 1


def test_batch_frame_with_plain_and_encrypted_messages(harness, fake_server):
    bound_pair(harness, fake_server)
    answer = status_event({}, info_type=21005, taskid="task-1")
    frame = message_frame(
        message(1, encrypted_body(SAMPLE_EVENT_TEXT)),
        message(2, plain_body(answer)),
        message(3, plain_body(answer), product=1234),  # another product: ignored
        ack="5",
    )
    fake_server.send(frame)
    harness.wait_type(CommandAnswer)
    assert len(harness.of(StatusMessage)) == 1
    (conn,) = harness.poller.connections
    assert conn.stats.foreign_products == 1 and conn.stats.acks_sent == 1


def test_frame_fed_one_byte_at_a_time_over_the_socket(harness, fake_server):
    conn = bound_pair(harness, fake_server)
    fake_server.peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # 1 byte a segment
    for byte in message_frame(message(1, encrypted_body(SAMPLE_EVENT_TEXT))):
        fake_server.send(bytes([byte]))
        harness.pump(0.0005)
    harness.wait_type(StatusMessage)
    assert conn.stats.messages == 1


def test_malformed_frame_is_dropped_without_ack(harness, fake_server):
    conn = bound_pair(harness, fake_server)
    fake_server.send(message_frame(message(1, encrypted_body(SAMPLE_EVENT_TEXT)), extra=3))
    harness.pump(0.2)
    assert conn.stats.garbage_frames == 1 and conn.stats.acks_sent == 0
    assert fake_server.nothing_more()
    assert not harness.of(StatusMessage)
    # The stream stays in step: the re-send is read normally (and acknowledged).
    fake_server.send(message_frame(message(1, encrypted_body(SAMPLE_EVENT_TEXT))))
    harness.wait_type(StatusMessage)
    assert conn.stats.acks_sent == 1


def test_empty_payload_frame_is_acknowledged(harness, fake_server):
    conn = bound_pair(harness, fake_server)
    fake_server.send(message_frame(ack="9"))
    harness.pump(0.2)
    assert conn.stats.acks_sent == 1 and fake_server.read(11).endswith(b"ack:9")


def test_unknown_opcode_is_skipped(harness, fake_server):
    conn = bound_pair(harness, fake_server)
    fake_server.send(encode_frame(17, b"sa:x") + encode_frame(42, b"") + bind_ack())
    fake_server.send(message_frame(message(1, encrypted_body(SAMPLE_EVENT_TEXT))))
    harness.wait_type(StatusMessage)
    assert conn.stats.unknown_opcodes == 2


def test_wrong_version_closes_with_a_protocol_error(harness, fake_server):
    conn = bound_pair(harness, fake_server)
    fake_server.send(bytes.fromhex("00040000"))
    harness.wait_type(PushProtocolError)
    assert conn.state == "closed"


def test_server_close_is_noticed(harness, fake_server):
    conn = bound_pair(harness, fake_server)
    fake_server.peer.close()
    harness.wait_type(PushClosed)
    assert conn.state == "closed" and conn not in harness.poller.connections


def test_wrong_key_is_counted_and_reported_once(harness, fake_server, caplog):
    caplog.set_level(logging.DEBUG)
    conn = bound_pair(harness, fake_server)
    body = encrypted_body(SAMPLE_EVENT_TEXT, key_text="ffffffffffffffff")
    for msg_id in range(1, 6):
        fake_server.send(message_frame(message(msg_id, body), ack=str(msg_id)))
    harness.wait_type(WrongKeySuspected)
    harness.pump(0.2)
    assert conn.stats.decrypt_failures + conn.stats.garbage_messages == 5
    assert conn.stats.decrypt_failures >= 3 and conn.wrong_key_suspected
    assert len(harness.of(WrongKeySuspected)) == 1
    assert conn.stats.acks_sent == 5  # the frames were fine: acknowledged, content dropped
    # A good message ends the streak.
    fake_server.send(message_frame(message(9, encrypted_body(SAMPLE_EVENT_TEXT))))
    harness.wait_type(StatusMessage)
    assert not conn.wrong_key_suspected
    logs = caplog.text
    assert SEED_PUSH_KEY not in logs and OWNER_SID not in logs and "5943" not in logs


def test_garbage_message_is_dropped_alone(harness, fake_server):
    conn = bound_pair(harness, fake_server)
    fake_server.send(
        message_frame(message(1, b"{not json"), message(2, encrypted_body(SAMPLE_EVENT_TEXT)))
    )
    harness.wait_type(StatusMessage)
    assert conn.stats.garbage_messages == 1 and conn.stats.acks_sent == 1


def test_resent_message_is_reported_once(harness, fake_server):
    conn = bound_pair(harness, fake_server)
    frame = message_frame(message(77, encrypted_body(SAMPLE_EVENT_TEXT)), ack="3")
    fake_server.send(frame + frame)
    harness.pump(0.3)
    assert len(harness.of(StatusMessage)) == 1
    assert conn.stats.duplicates == 1 and conn.stats.acks_sent == 2


def test_push_data_url_with_and_without_fetch(harness, fake_server):
    event = json.dumps({"createTime": "1", "event": 4, "sn": "S", "taskid": "7",
                        "pushDataUrl": "http://127.0.0.1:9/x"})  # fmt: skip
    inner = {"message": "ok", "infoType": 20001, "data": {"mode": "sweep", "cleanArea": 4}}
    conn = bound_pair(harness, fake_server, fetch=lambda url: inner)
    fake_server.send(message_frame(message(1, plain_body(event))))
    status = harness.wait_type(StatusMessage)
    assert status.status.clean_area == 4 and status.task_id == "7"
    conn.fetch = None
    fake_server.send(message_frame(message(2, plain_body(event))))
    assert harness.wait_type(DataUrlEvent).url == "http://127.0.0.1:9/x"

    def broken(url):
        raise OSError("down")

    conn.fetch = broken
    fake_server.send(message_frame(message(3, plain_body(event))))
    harness.pump(0.2)
    assert conn.stats.fetch_failures == 1


def test_constructor_refuses_bad_secrets_without_echoing_them():
    with pytest.raises(ValueError) as caught:
        PushConnection(("127.0.0.1", 1), "bad sid with spaces", SEED_PUSH_KEY)
    assert "spaces" not in str(caught.value)
    with pytest.raises(ValueError):
        PushConnection(("127.0.0.1", 1), OWNER_SID, "")
    with pytest.raises(ValueError):  # no silent fallback to the real push server
        PushConnection("", OWNER_SID, SEED_PUSH_KEY)
    assert OWNER_SID not in repr(PushConnection(("127.0.0.1", 1), OWNER_SID, SEED_PUSH_KEY))


def test_parse_push_address():
    assert parse_push_address(None) == ("47.254.151.104", 443)
    assert parse_push_address(" 127.0.0.1:18443 ") == ("127.0.0.1", 18443)
    assert parse_push_address("[::1]:18443") == ("::1", 18443)
    for bad in ("127.0.0.1", "host:0", "host:http", ":80"):
        with pytest.raises(ValueError):
            parse_push_address(bad)


def test_backoff_doubles_to_five_minutes_and_resets_after_ten_healthy_minutes():
    backoff = ReconnectBackoff(rng=lambda: 0.5, clock=lambda: 0.0)  # no jitter
    delays = [backoff.next_delay(now=0) for _ in range(9)]
    assert delays == [5, 10, 20, 40, 80, 160, 300, 300, 300]
    backoff.bound(now=1000)
    assert backoff.next_delay(now=1500) == 300  # lost after 500 s: still backing off
    backoff.bound(now=2000)
    assert backoff.next_delay(now=2600) == 5  # lost after 10 healthy minutes: start over


def test_backoff_jitter_stays_within_bounds():
    low = ReconnectBackoff(rng=lambda: 0.0)
    high = ReconnectBackoff(rng=lambda: 0.999999)
    assert low.next_delay() == pytest.approx(4.0) and high.next_delay() == pytest.approx(6.0)
    for _ in range(20):
        assert high.next_delay() <= 300
    assert 0 < ReconnectBackoff().next_delay() <= 6


def test_run_forever_reconnects_after_a_close(fake_server):
    items, errors = [], []
    stop = threading.Event()
    backoff = ReconnectBackoff(initial=0.05, maximum=0.1)
    thread = threading.Thread(
        target=run_forever,
        args=(fake_server.address, OWNER_SID, SEED_PUSH_KEY, items.append),
        kwargs={
            "stop": stop,
            "backoff": backoff,
            "poll_interval": 0.05,
            "on_error": lambda error, delay: errors.append(error),
        },  # fmt: skip
        daemon=True,
    )
    thread.start()
    try:
        for _ in range(2):
            fake_server.accept()
            read_bind(fake_server)
            fake_server.send(bind_ack())
            fake_server.send(message_frame(message(1, encrypted_body(SAMPLE_EVENT_TEXT))))
            fake_server.read(11)  # the acknowledgement
            fake_server.peer.close()
            fake_server.received.clear()
    finally:
        stop.set()
        thread.join(timeout=5)
    assert [type(i).__name__ for i in items] == ["Bound", "StatusMessage"] * 2
    assert errors and all(isinstance(e, PushClosed) for e in errors)
