"""The client against the simulator's TCP push server (cloud-apis.md 5.3.5, 5.3.6, 5.5 #6).

Real sockets on 127.0.0.1 only; commands go through the product's own HTTP client.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time

import pytest

from devices.clouds import Qihoo360Client
from devices.clouds.qihoo360_push import (
    BindRejected,
    Bound,
    CommandAnswer,
    DataUrlEvent,
    PushClosed,
    PushConnection,
    ReconnectBackoff,
    StatusMessage,
    WrongKeySuspected,
    requests_fetch,
    run_forever,
)
from devices.clouds.qihoo360_push_frames import (
    FrameReader,
    ack_frame,
    bind_frame,
    decode_body,
    split_messages,
)

from .samples import (
    OWNER_QID,
    OWNER_SID,
    QT_COOKIE_Q,
    QT_COOKIE_T,
    QT_QID,
    S7,
    SEED_PUSH_KEY,
    X95,
)


def sweep_statuses(harness, conn=None) -> list[StatusMessage]:
    return [m for m in harness.of(StatusMessage, conn) if m.sn == S7 and m.status.mode == "sweep"]


def inject(sim, **push) -> dict:
    return sim.control("POST", "360/push", {"sn": S7, "infoType": 20001, "data": {}, **push})


class RawClient:
    """A hand-driven socket: for what the product client does not do (not acking)."""

    def __init__(self, addr, sid=OWNER_SID, t=30):
        self.sock = socket.create_connection(addr, timeout=5)
        self.reader = FrameReader()
        self.frames = []
        self.sock.sendall(bind_frame(sid, int(time.time() * 1000), t=t))

    def next_frame(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not self.frames:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed by the server")
            self.frames.extend(self.reader.feed(data))
        return self.frames.pop(0)

    def closed_within(self, seconds: float) -> bool:
        self.sock.settimeout(seconds)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.frames.extend(self.reader.feed(data))
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


@pytest.fixture
def raw(sim):
    clients = []

    def make(**kw):
        clients.append(RawClient(sim.push_addr, **kw))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


# --- the main scenario -------------------------------------------------------------------


def test_start_command_answer_and_sweep_status_with_growing_area(sim, harness, owner_client):
    conn = harness.bind(sim.push_addr)
    result = owner_client.send_command(S7, "start")  # a real cmd/send 21005 (method 1)
    started = time.monotonic()
    answer = harness.wait_type(CommandAnswer, where=lambda a: a.task_id == result.task_id)
    assert time.monotonic() - started < 1.5  # due 0.5 s after the command
    assert answer.sn == S7 and answer.info_type == "21005" and answer.ok and answer.data == {}
    first = harness.wait_type(StatusMessage, where=lambda m: m.status.mode == "sweep")
    assert first.task_id.isdigit() and first.event == 4  # unsolicited: numeric taskid
    assert first.status.clean_id.startswith(f"{S7}-")
    sim.advance(300)  # five minutes of cleaning: a status push every 60 s
    harness.wait_until(lambda: len(sweep_statuses(harness)) >= 6)
    areas = [m.status.clean_area for m in sweep_statuses(harness)]
    assert areas == sorted(areas) and areas[-1] >= areas[0] + 5  # +1 m2 per 40 s
    battery = [m.status.battery for m in sweep_statuses(harness)]
    assert battery[-1] < battery[0]
    assert conn.stats.decrypt_failures == 0 and conn.stats.garbage_frames == 0


def test_status_request_answer_carries_the_full_status(sim, harness, owner_client):
    harness.bind(sim.push_addr)
    result = owner_client.send_command(S7, "status")
    answer = harness.wait_type(StatusMessage, where=lambda m: m.task_id == result.task_id)
    status = answer.status
    assert status.mode == "charge" and status.battery == 89 and status.fan_level == "auto"
    assert set(status.raw) >= {"allArea", "cleanId", "errorState", "pos", "workNoisy"}


def test_refused_command_answer(sim, harness, owner_client):
    harness.bind(sim.push_addr)
    result = owner_client.send_command(S7, "pause")  # not cleaning: refused
    answer = harness.wait_type(CommandAnswer, where=lambda a: a.task_id == result.task_id)
    assert answer.message == "fail" and not answer.ok


def test_pushes_of_a_shared_device_reach_both_accounts(sim, harness):
    qt = next(a for a in sim.control("GET", "360/accounts")["accounts"] if a["qid"] == QT_QID)
    owner = harness.bind(sim.push_addr)
    guest = harness.bind(sim.push_addr, sid=qt["sid"], push_key=qt["pushKey"])
    inject(sim, sn=X95, data={"mode": "idle"}, taskid="shared-1")
    for conn in (owner, guest):
        pushed = harness.wait_type(StatusMessage, conn=conn, where=lambda m: m.sn == X95)
        assert pushed.task_id == "shared-1"
    inject(sim, sn=S7, taskid="owner-only")
    harness.wait_type(StatusMessage, conn=owner, where=lambda m: m.task_id == "owner-only")
    harness.pump(0.3)
    assert not [m for m in harness.of(StatusMessage, guest) if m.task_id == "owner-only"]


def test_every_connection_of_the_account_gets_the_push(sim, harness):
    first, second = harness.bind(sim.push_addr), harness.bind(sim.push_addr)
    inject(sim, taskid="both")
    for conn in (first, second):
        harness.wait_type(StatusMessage, conn=conn, where=lambda m: m.task_id == "both")


# --- bind ------------------------------------------------------------------------------


def test_unknown_sid_is_rejected_and_closed(sim, harness, raw):
    harness.add(PushConnection(sim.push_addr, "0" * 32, SEED_PUSH_KEY))
    assert harness.wait_type(BindRejected).result == "1"
    client = raw(sid="f" * 32)
    frame = client.next_frame()
    assert frame.opcode == 6 and frame.properties == {"id": "60009", "r": "1"}
    assert client.closed_within(3)


def test_superseded_sid_is_rejected_and_rebind_after_renewal(sim, harness, http):
    qt_client = Qihoo360Client(http, qid=QT_QID, q=QT_COOKIE_Q, t=QT_COOKIE_T, timeout=(5, 10),
                               api_url=sim.url)  # fmt: skip
    first = qt_client.login(notify_id="a" * 32, imei="b" * 32)
    old = harness.bind(sim.push_addr, sid=first.sid, push_key=first.push_key)
    second = qt_client.login(notify_id="a" * 32, imei="b" * 32)  # a new SID: the old is gone
    assert second.sid != first.sid
    harness.wait_type(PushClosed, conn=old, timeout=5)  # the server drops the stale binding
    stale = harness.add(PushConnection(sim.push_addr, first.sid, first.push_key))
    harness.wait_type(BindRejected, conn=stale)
    renewed = harness.bind(sim.push_addr, sid=second.sid, push_key=second.push_key)
    inject(sim, sn=X95, taskid="after-renewal")
    pushed = harness.wait_type(StatusMessage, conn=renewed, where=lambda m: m.sn == X95)
    assert pushed.task_id == "after-renewal" and renewed.stats.decrypt_failures == 0


def test_bind_reject_knob(sim, harness):
    sim.knobs(push_bind_reject=True)
    harness.add(PushConnection(sim.push_addr, OWNER_SID, SEED_PUSH_KEY))
    harness.wait_type(BindRejected)


# --- heartbeat, ack, re-send ----------------------------------------------------------------


def test_heartbeat_gets_an_opcode_1_reply(sim, harness):
    conn = harness.bind(sim.push_addr, heartbeat_interval=0.1)
    harness.wait_until(lambda: conn.stats.heartbeat_replies >= 2)
    assert conn.stats.heartbeats_sent >= 2


def test_silent_connection_is_closed_after_two_t(sim, raw):
    client = raw(t=1)
    assert client.next_frame().properties["r"] == "0"
    started = time.monotonic()
    assert client.closed_within(5)
    assert 1.5 <= time.monotonic() - started <= 3.5


def test_message_frames_carry_ack_and_are_resent_until_acknowledged(sim, raw):
    sim.set_speed(0)
    client = raw()
    assert client.next_frame().opcode == 6
    inject(sim, taskid="resend-me")
    frame = client.next_frame()
    assert frame.opcode == 3 and frame.ack_token
    (msg,) = split_messages(frame.payload)
    assert msg.product == 60009
    body = json.loads(msg.body)
    assert body["encrypt"] == 1 and set(body) == {"data", "encrypt"}
    assert decode_body(msg.body, SEED_PUSH_KEY)["taskid"] == "resend-me"
    sim.advance(31)
    again = client.next_frame(timeout=3)
    assert again.header == frame.header and again.payload == frame.payload
    client.sock.sendall(ack_frame(again))
    sim.advance(31)
    assert not client.closed_within(0.6) and not client.frames


def test_resent_at_most_three_times(sim, raw):
    sim.set_speed(0)
    client = raw()
    client.next_frame()
    inject(sim, taskid="never-acked")
    client.next_frame()
    for _ in range(3):
        sim.advance(31)
        assert client.next_frame(timeout=3).opcode == 3
    sim.advance(31)
    assert not client.closed_within(0.6) and not client.frames


def test_message_ids_increase(sim, raw):
    client = raw()
    client.next_frame()
    inject(sim, taskid="a")
    inject(sim, taskid="b")
    ids = [split_messages(client.next_frame().payload)[0].msg_id for _ in range(2)]
    assert ids[1] > ids[0]


# --- knobs -------------------------------------------------------------------------------


def test_encrypt_knob_off_sends_plain_base64(sim, harness, raw):
    sim.knobs(push_encrypt=0)
    conn = harness.bind(sim.push_addr)
    client = raw()
    client.next_frame()
    inject(sim, taskid="plain")
    harness.wait_type(StatusMessage, where=lambda m: m.task_id == "plain")
    body = json.loads(split_messages(client.next_frame().payload)[0].body)
    assert body["encrypt"] == 0
    assert conn.stats.decrypt_failures == 0


def test_batch_knob_puts_several_messages_in_one_frame(sim, harness, raw):
    sim.knobs(push_batch=True)
    harness.bind(sim.push_addr)
    client = raw()
    client.next_frame()
    for n in range(3):
        inject(sim, taskid=f"batch-{n}")
    frame = client.next_frame()
    assert len(split_messages(frame.payload)) == 3
    harness.wait_until(lambda: len(harness.of(StatusMessage)) == 3)
    assert {m.task_id for m in harness.of(StatusMessage)} == {"batch-0", "batch-1", "batch-2"}


def test_data_url_knob(sim, harness, http):
    sim.knobs(push_data_url=True)
    with_fetch = harness.bind(sim.push_addr, fetch=requests_fetch(http))
    without = harness.bind(sim.push_addr)
    inject(sim, data={"mode": "idle", "elecReal": 42}, taskid="by-url")
    fetched = harness.wait_type(StatusMessage, conn=with_fetch)
    assert fetched.task_id == "by-url" and fetched.status.battery == 42
    deferred = harness.wait_type(DataUrlEvent, conn=without)
    assert deferred.url.startswith(sim.url + "/_sim/360/pushdata/")
    assert deferred.resolve(requests_fetch(http)).status.mode == "idle"
    inject(sim, infoType=21020, data={}, taskid="not-status")  # only 20001 goes by URL
    assert harness.wait_type(CommandAnswer, conn=without).task_id == "not-status"


def test_bad_key_knob_is_counted_and_flagged(sim, harness):
    sim.knobs(push_bad_key=True)
    conn = harness.bind(sim.push_addr)
    for n in range(4):
        inject(sim, taskid=f"bad-{n}")
    harness.wait_type(WrongKeySuspected)
    harness.wait_until(lambda: conn.stats.decrypt_failures + conn.stats.garbage_messages == 4)
    assert conn.wrong_key_suspected and not harness.of(StatusMessage)
    assert conn.stats.acks_sent == 4  # well-formed frames are acknowledged all the same


def test_malformed_knob_drops_one_frame_and_the_resend_heals_it(sim, harness):
    sim.set_speed(0)
    conn = harness.bind(sim.push_addr)
    sim.knobs(push_malformed=True)
    inject(sim, taskid="mangled")
    harness.wait_until(lambda: conn.stats.garbage_frames == 1)
    assert conn.stats.acks_sent == 0 and not harness.of(StatusMessage)
    assert sim.knobs()["qihoo360"]["push_malformed"] is False  # one frame only
    inject(sim, taskid="fine")
    harness.wait_type(StatusMessage, where=lambda m: m.task_id == "fine")
    sim.advance(31)  # the unacknowledged frame comes again, well-formed this time
    harness.wait_type(StatusMessage, where=lambda m: m.task_id == "mangled")
    assert conn.bound


def test_slow_knob_delays_pushes(sim, harness):
    sim.set_speed(0)
    harness.bind(sim.push_addr)
    sim.knobs(push_slow=20)
    inject(sim, taskid="late")
    harness.pump(0.5)
    assert not harness.of(StatusMessage)
    sim.advance(20)
    harness.wait_type(StatusMessage, where=lambda m: m.task_id == "late")


def test_kick_closes_every_connection_and_the_client_reconnects(sim, harness):
    first, second = harness.bind(sim.push_addr), harness.bind(sim.push_addr)
    sim.knobs(push_kick=True)
    for conn in (first, second):
        harness.wait_type(PushClosed, conn=conn)
    assert sim.knobs()["qihoo360"]["push_kick"] is False
    again = harness.bind(sim.push_addr)
    inject(sim, taskid="after-kick")
    harness.wait_type(StatusMessage, conn=again, where=lambda m: m.task_id == "after-kick")


def test_drop_control_closes_one_account_only(sim, harness):
    qt = next(a for a in sim.control("GET", "360/accounts")["accounts"] if a["qid"] == QT_QID)
    owner = harness.bind(sim.push_addr)
    guest = harness.bind(sim.push_addr, sid=qt["sid"], push_key=qt["pushKey"])
    listed = sim.push_connections()
    assert sorted(c["qid"] for c in listed if c["bound"]) == [OWNER_QID, QT_QID]
    assert all(OWNER_SID not in json.dumps(c) for c in listed)
    assert sim.drop_push(OWNER_QID) == 1
    harness.wait_type(PushClosed, conn=owner)
    harness.pump(0.3)
    assert guest.bound and not harness.errors(guest)


def test_reset_closes_push_connections(sim, harness):
    conn = harness.bind(sim.push_addr)
    sim.reset()
    harness.wait_type(PushClosed, conn=conn)
    harness.bind(sim.push_addr)  # a connection made after the reset stays


def test_offline_device_sends_nothing(sim, harness, owner_client):
    harness.bind(sim.push_addr)
    sim.control("POST", f"360/devices/{S7}", {"mode": "idle"})
    harness.wait_type(StatusMessage, where=lambda m: m.status.mode == "idle")
    sim.control("POST", f"360/devices/{S7}", {"online": False})
    sim.control("POST", f"360/devices/{S7}", {"mode": "charge"})
    harness.pump(0.5)
    assert not [m for m in harness.of(StatusMessage) if m.status.mode == "charge"]


def test_garbage_from_a_client_closes_only_that_connection(sim, harness):
    good = harness.bind(sim.push_addr)
    with socket.create_connection(sim.push_addr, timeout=5) as bad:
        bad.sendall(struct.pack(">HH", 4, 0))  # version 4
        bad.settimeout(3)
        assert bad.recv(100) == b""
    inject(sim, taskid="still-fine")
    harness.wait_type(StatusMessage, conn=good, where=lambda m: m.task_id == "still-fine")


def test_sim_env_exposes_the_push_address(sim_env):
    import os

    assert os.environ["QIHOO360_PUSH_ADDR"] == f"127.0.0.1:{sim_env.push_port}"
    assert sim_env.state()["push_port"] == sim_env.push_port


def test_heartbeats_keep_a_short_timeout_connection_alive(sim, harness):
    conn = harness.bind(sim.push_addr, server_timeout=1, heartbeat_interval=0.4)
    harness.pump(3.0)  # well past 2 x t = 2 s
    assert conn.bound and not harness.errors(conn)
    assert conn.stats.heartbeat_replies >= 5


def test_run_forever_rebinds_after_a_kick(sim):
    items, errors = [], []
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever,
        args=(sim.push_addr, OWNER_SID, SEED_PUSH_KEY, items.append),
        kwargs={
            "stop": stop,
            "backoff": ReconnectBackoff(initial=0.1, maximum=0.2),
            "poll_interval": 0.05,
            "on_error": lambda e, d: errors.append(e),
        },  # fmt: skip
        daemon=True,
    )
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not [i for i in items if isinstance(i, Bound)]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        sim.knobs(push_kick=True)
        while len([i for i in items if isinstance(i, Bound)]) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        inject(sim, taskid="after-rebind")
        while not [i for i in items if getattr(i, "task_id", None) == "after-rebind"]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert len(errors) == 1 and isinstance(errors[0], PushClosed)


def test_no_secret_in_logs(sim, harness, owner_client, caplog):
    caplog.set_level(logging.DEBUG)
    sim.knobs(push_bad_key=True)
    conn = harness.bind(sim.push_addr)
    for n in range(3):
        inject(sim, taskid=f"secret-{n}")
    harness.wait_type(WrongKeySuspected)
    sim.knobs(push_bad_key=False, push_kick=True)
    harness.wait_type(PushClosed, conn=conn)
    harness.add(PushConnection(sim.push_addr, "0" * 32, SEED_PUSH_KEY))
    error = harness.wait_type(BindRejected)
    text = caplog.text + repr(harness.items) + str(error)
    for secret in (OWNER_SID, SEED_PUSH_KEY, SEED_PUSH_KEY[:16], "0" * 32):
        assert secret not in text
