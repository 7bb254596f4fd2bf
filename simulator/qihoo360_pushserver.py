"""The 360 push server of the simulator: plain TCP, version-5 frames (cloud-apis.md 3.7, 5.3.5).

One ``selectors`` thread serves every connection (hundreds are fine); a second thread
calls ``Simulator.tick_all()`` every 0.2 s so that time-driven pushes (command answers
0.5 s after ``cmd/send``, status every 60 s while cleaning) are released without HTTP
traffic. The 360 model publishes ``PushEvent``s on ``cloud.pushes``; the subscriber only
queues them (it runs under the simulator lock) and wakes the I/O thread.

Protocol (5.3.5): bind (opcode 2, ``u:<sid>@60009``) -> opcode 6 ``id:60009\\nr:0``;
unknown or superseded SID (or the ``push_bind_reject`` knob) -> ``r:1`` and close.
Heartbeat (opcode 0) -> opcode 1. Silence for 2 x ``t`` seconds (real time) -> close.
Message frames (opcode 3) carry ``ack:<counter>`` and messages ``msgId | 60009 | len |
{"data":"<base64 AES-128-CBC(pushKey)>","encrypt":1}``; frames not acknowledged
(opcode 4) are re-sent after 30 simulated seconds, at most 3 times.

Choices where the spec is silent [INF]: a connection whose SID stops being valid (new
login, expire-sid, deactivation, reset of generated accounts) is closed; a simulator
reset closes every push connection; ``push_malformed`` sends the next message frame
with 3 stray bytes counted in ``payloadLen`` (so the stream stays in step and the
client drops it unacknowledged), and the re-send 30 s later is well-formed;
``push_kick`` and ``push_malformed`` are one-shot (they turn themselves off).

Knobs (``POST /_sim/knobs``): ``push_encrypt``, ``push_batch``, ``push_data_url``,
``push_bad_key``, ``push_malformed``, ``push_kick``, ``push_bind_reject``, ``push_slow``.
Controls: ``GET /_sim/360/push-connections``, ``POST /_sim/360/push-connections/drop``
(``{"qid": "..."}``, or all without it).
"""

from __future__ import annotations

import base64
import heapq
import itertools
import json
import logging
import selectors
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from simulator.interface import SimRequest, SimResponse
from simulator.qihoo360_push import PushEvent

if TYPE_CHECKING:
    from simulator.core import Simulator
    from simulator.qihoo360 import Qihoo360Cloud

log = logging.getLogger("simulator.push")

VERSION = 5
OP_HEARTBEAT, OP_HEARTBEAT_REPLY, OP_BIND, OP_MESSAGE, OP_ACK, OP_BIND_ACK = 0, 1, 2, 3, 4, 6
PRODUCT = 60009
DEFAULT_T = 30  # server-side idle timeout unit before a bind says otherwise
RESEND_AFTER = 30.0  # simulated seconds
MAX_RESENDS = 3
TICK_INTERVAL = 0.2  # real seconds between tick_all() calls: answers due 0.5 s after a command leave within 0.7 s
HOUSEKEEPING = 0.1  # real seconds between knob/idle/re-send checks
SID_CHECK = 1.0
BATCH_WINDOW = 0.2  # real seconds a connection gathers events with push_batch on
CLOSE_LINGER = 2.0
MAX_OUTBUF = 8 * 1024 * 1024
MAX_INBUF = 256 * 1024
MESSAGE_HEAD = struct.Struct(">QII")
CONTROL = "push-connections"


def aes_key(push_key: str) -> bytes:
    """First 16 bytes of the UTF-8 pushKey, zero-padded; also the IV (3.7.6)."""
    return push_key.encode("utf-8")[:16].ljust(16, b"\0")


def encrypt(plaintext: bytes, key: bytes) -> str:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key)).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def frame(opcode: int, props: bytes = b"", payload: bytes | None = None) -> bytes:
    if opcode in (OP_HEARTBEAT, OP_HEARTBEAT_REPLY):
        return struct.pack(">HH", VERSION, opcode)
    head = struct.pack(">HHH", VERSION, opcode, len(props)) + props
    if opcode == OP_MESSAGE:
        return head + struct.pack(">I", len(payload or b"")) + (payload or b"")
    return head


def parse_props(raw: bytes) -> dict[str, str]:
    props = {}
    for line in raw.decode("utf-8", "replace").split("\n"):
        key, colon, value = line.partition(":")
        if colon and key.strip():
            props[key.strip()] = value.strip()
    return props


@dataclass
class Unacked:
    frame: bytes
    sent_at: float  # simulated time
    resends: int = 0


@dataclass(eq=False)
class Conn:
    id: int
    sock: socket.socket
    peer: str
    accepted_at: float  # monotonic
    last_seen: float  # monotonic, last byte received
    t: int = DEFAULT_T
    sid: str | None = None
    qid: str | None = None
    inbuf: bytearray = field(default_factory=bytearray)
    outbuf: bytearray = field(default_factory=bytearray)
    acks: itertools.count = field(default_factory=lambda: itertools.count(1))
    unacked: dict[str, Unacked] = field(default_factory=dict)
    pending: list[PushEvent] = field(default_factory=list)
    pending_since: float | None = None
    closing_until: float | None = None  # set: answered r:1, shut down, waiting for EOF
    frames_sent: int = 0
    resent: int = 0
    writing: bool = False

    def describe(self) -> dict:
        return {
            "id": self.id,
            "peer": self.peer,
            "qid": self.qid,
            "sid": (self.sid[:4] + "…") if self.sid else None,
            "bound": self.qid is not None and self.closing_until is None,
            "t": self.t,
            "age": round(time.monotonic() - self.accepted_at, 3),
            "frames_sent": self.frames_sent,
            "resent": self.resent,
            "unacked": len(self.unacked),
        }


class PushServer:
    """The TCP push server of one ``Simulator`` (its 360 model must be loaded)."""

    def __init__(self, sim: Simulator, host: str = "127.0.0.1", port: int = 18443):
        cloud = sim.vendor_named("qihoo360")
        if cloud is None:
            raise RuntimeError("the push server needs the qihoo360 vendor model")
        self.sim = sim
        self.cloud: Qihoo360Cloud = cloud  # type: ignore[assignment]
        self._listener = socket.create_server((host, port), backlog=1024)
        self._listener.setblocking(False)
        self.host = host
        self.port = self._listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._listener, selectors.EVENT_READ, "accept")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._events: deque[PushEvent] = deque()
        self._commands: deque[tuple] = deque()
        self._conns: dict[int, Conn] = {}
        self._conns_lock = threading.Lock()  # never held while taking sim.lock
        self._by_qid: dict[str, set[Conn]] = {}
        self._slow: list[tuple[float, int, PushEvent]] = []
        self._waiting: set[Conn] = set()  # connections with pending events
        self._ids = itertools.count(1)
        self._msg_ids = itertools.count(1)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._next_housekeeping = 0.0
        self._next_sid_check = 0.0
        self.totals = {"accepted": 0, "bound": 0, "rejected": 0, "frames": 0, "resent": 0}
        with sim.lock:
            bus = self.cloud.pushes
            bus.subscribers.append(self._on_event)
            bus.reset_hooks.append(self._on_reset)
            bus.controls[CONTROL] = self._control

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> PushServer:
        for target, name in ((self._serve, "io"), (self._tick, "tick")):
            thread = threading.Thread(target=target, name=f"push-{name}-{self.port}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake()
        for thread in self._threads:
            thread.join(timeout=5)
        with self.sim.lock:
            bus = self.cloud.pushes
            for hooks, item in (
                (bus.subscribers, self._on_event),
                (bus.reset_hooks, self._on_reset),
            ):
                if item in hooks:
                    hooks.remove(item)
            bus.controls.pop(CONTROL, None)
        for conn in list(self._conns.values()):
            self._close(conn, "server stopped")
        self._selector.close()
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()

    # -- called from other threads (only queue) -----------------------------------------------

    def _on_event(self, event: PushEvent) -> None:
        self._events.append(event)
        self._wake()

    def _on_reset(self) -> None:
        self._commands.append(("reset", time.monotonic()))
        self._wake()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # already awake (buffer full) or shutting down

    def _control(self, req: SimRequest, parts: list[str], body: dict) -> SimResponse:
        """``GET push-connections``; ``POST push-connections/drop`` {"qid"?}."""
        with self._conns_lock:
            conns = [conn.describe() for conn in self._conns.values()]
        if not parts and req.method == "GET":
            return SimResponse(body={"port": self.port, "connections": conns, **self.totals})
        if parts == ["drop"] and req.method == "POST":
            qid = body.get("qid")
            qid = None if qid is None else str(qid)
            matched = [c for c in conns if qid is None or c["qid"] == qid]
            self._commands.append(("drop", qid))
            self._wake()
            return SimResponse(body={"dropped": len(matched)})
        return SimResponse(status=404, body={"error": "use GET push-connections or POST .../drop"})

    def _tick(self) -> None:
        while not self._stop.wait(TICK_INTERVAL):
            try:
                self.sim.tick_all()
            except Exception:  # a model bug must not stop the pushes for good
                log.exception("push server: tick failed")

    # -- the I/O thread -----------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            self._process_queues()
            try:
                ready = self._selector.select(self._select_timeout())
            except OSError:
                if self._stop.is_set():
                    return
                raise
            self._process_queues()  # a reset queued before these sockets were accepted
            for key, mask in ready:
                if key.data == "accept":
                    self._accept()
                elif key.data == "wake":
                    self._drain_wake()
                else:
                    self._on_socket(key.data, mask)
            self._process_queues()
            now = time.monotonic()
            if now >= self._next_housekeeping:
                self._next_housekeeping = now + HOUSEKEEPING
                self._housekeeping(now)

    def _select_timeout(self) -> float:
        timeout = HOUSEKEEPING
        now = time.monotonic()
        for conn in self._waiting:
            if conn.pending_since is not None:
                timeout = min(timeout, max(0.0, conn.pending_since + BATCH_WINDOW - now))
        return timeout

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def _accept(self) -> None:
        while True:
            try:
                sock, addr = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. too many open files: keep serving the others
                log.warning("push server: accept failed: %s", exc)
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            now = time.monotonic()
            conn = Conn(next(self._ids), sock, f"{addr[0]}:{addr[1]}", now, now)
            with self._conns_lock:
                self._conns[conn.id] = conn
            self._selector.register(sock, selectors.EVENT_READ, conn)
            self.totals["accepted"] += 1

    def _on_socket(self, conn: Conn, mask: int) -> None:
        if conn.id not in self._conns:
            return
        if mask & selectors.EVENT_WRITE:
            self._flush(conn)
        if mask & selectors.EVENT_READ and conn.id in self._conns:
            self._read(conn)

    def _read(self, conn: Conn) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(conn, "closed by the client")
            return
        conn.last_seen = time.monotonic()
        if conn.closing_until is not None:
            return  # rejected: discard until the client closes
        conn.inbuf += data
        if len(conn.inbuf) > MAX_INBUF:
            self._close(conn, "too much unparsed input")
            return
        while conn.id in self._conns:
            cut = self._cut(conn)
            if cut is None:
                return
            self._on_frame(conn, *cut)

    def _cut(self, conn: Conn) -> tuple[int, dict[str, str]] | None:
        buf = conn.inbuf
        if len(buf) < 4:
            return None
        version, opcode = struct.unpack_from(">HH", buf)
        if version != VERSION:
            self._close(conn, f"frame version {version}")
            return None
        if opcode in (OP_HEARTBEAT, OP_HEARTBEAT_REPLY):
            del buf[:4]
            return opcode, {}
        if len(buf) < 6:
            return None
        (prop_len,) = struct.unpack_from(">H", buf, 4)
        total = 6 + prop_len
        if opcode == OP_MESSAGE:
            if len(buf) < total + 4:
                return None
            total += 4 + struct.unpack_from(">I", buf, total)[0]
        if len(buf) < total:
            return None
        props = parse_props(bytes(buf[6 : 6 + prop_len]))
        del buf[:total]
        return opcode, props

    def _on_frame(self, conn: Conn, opcode: int, props: dict[str, str]) -> None:
        if opcode == OP_HEARTBEAT:
            self._send(conn, frame(OP_HEARTBEAT_REPLY))
        elif opcode == OP_BIND:
            self._bind(conn, props)
        elif opcode == OP_ACK:
            conn.unacked.pop(props.get("ack", ""), None)
        # anything else from a client is ignored

    def _bind(self, conn: Conn, props: dict[str, str]) -> None:
        sid, _, product = props.get("u", "").rpartition("@")
        try:
            conn.t = min(3600, max(1, int(props.get("t", DEFAULT_T))))
        except ValueError:
            conn.t = DEFAULT_T
        with self.sim.lock:
            reject = bool(self.cloud.knobs.get("push_bind_reject"))
            account = self.cloud.account_for_sid(sid) if sid and product == str(PRODUCT) else None
        self._unbind(conn)
        if account is None or reject:
            self.totals["rejected"] += 1
            self._send(conn, frame(OP_BIND_ACK, f"id:{PRODUCT}\nr:1".encode()))
            conn.closing_until = time.monotonic() + CLOSE_LINGER
            self._flush(conn)
            return
        conn.sid, conn.qid = sid, account.qid
        self._by_qid.setdefault(account.qid, set()).add(conn)
        self.totals["bound"] += 1
        self._send(conn, frame(OP_BIND_ACK, f"id:{PRODUCT}\nr:0".encode()))

    def _unbind(self, conn: Conn) -> None:
        if conn.qid is not None:
            bound = self._by_qid.get(conn.qid)
            if bound is not None:
                bound.discard(conn)
                if not bound:
                    del self._by_qid[conn.qid]
        conn.qid = conn.sid = None

    # -- output -------------------------------------------------------------------------

    def _send(self, conn: Conn, data: bytes) -> None:
        conn.outbuf += data
        if len(conn.outbuf) > MAX_OUTBUF:
            self._close(conn, "client does not read")
            return
        self._flush(conn)

    def _flush(self, conn: Conn) -> None:
        if conn.outbuf:
            try:
                sent = conn.sock.send(conn.outbuf)
                del conn.outbuf[:sent]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                self._close(conn, "send failed")
                return
        if conn.closing_until is not None and not conn.outbuf:
            try:
                conn.sock.shutdown(socket.SHUT_WR)  # the r:1 answer first, then EOF
            except OSError:
                pass
        want_write = bool(conn.outbuf)
        if want_write != conn.writing:
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if want_write else 0)
            self._selector.modify(conn.sock, events, conn)
            conn.writing = want_write

    def _close(self, conn: Conn, why: str) -> None:
        with self._conns_lock:
            if self._conns.pop(conn.id, None) is None:
                return
        self._unbind(conn)
        try:
            self._selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()
        log.debug("push server: connection %s closed (%s)", conn.id, why)

    # -- events -> frames ---------------------------------------------------------------

    def _process_queues(self) -> None:
        while self._commands:
            command = self._commands.popleft()
            if command[0] == "reset":
                self._slow.clear()
                for conn in list(self._conns.values()):
                    if conn.accepted_at <= command[1]:
                        self._close(conn, "simulator reset")
            elif command[0] == "drop":
                for conn in list(self._conns.values()):
                    if command[1] is None or conn.qid == command[1]:
                        self._close(conn, "dropped by control")
        if self._events or self._slow:
            with self.sim.lock:
                slow = float(self.cloud.knobs.get("push_slow") or 0)
                now = self.sim.clock.now()
            while self._events:
                event = self._events.popleft()
                if slow > 0:
                    heapq.heappush(self._slow, (event.time + slow, event.id, event))
                else:
                    self._route(event)
            while self._slow and self._slow[0][0] <= now:
                self._route(heapq.heappop(self._slow)[2])
        if self._waiting:
            self._send_pending()

    def _route(self, event: PushEvent) -> None:
        started = time.monotonic()
        for qid in event.qids:
            for conn in self._by_qid.get(qid, ()):
                conn.pending.append(event)
                if conn.pending_since is None:
                    conn.pending_since = started
                self._waiting.add(conn)

    def _send_pending(self) -> None:
        self._waiting = {c for c in self._waiting if c.id in self._conns and c.pending}
        due = [c for c in self._waiting if c.closing_until is None]
        if not due:
            return
        now = time.monotonic()
        with self.sim.lock:
            knobs = dict(self.cloud.knobs)
            if not knobs["push_batch"]:
                ready = due
            else:
                ready = [c for c in due if now - (c.pending_since or now) >= BATCH_WINDOW]
            origin = self.sim.origin()
            keys = {}
            for conn in ready:
                account = self.cloud.accounts.get(conn.qid or "")
                keys[conn.id] = account.push_key if account is not None else None
            sim_now = self.sim.clock.now()
            malformed = bool(knobs["push_malformed"]) and bool(ready)
            if malformed:
                self.cloud.knobs["push_malformed"] = False  # one-shot: the next frame only
        for conn in ready:
            events, conn.pending, conn.pending_since = conn.pending, [], None
            self._waiting.discard(conn)
            key = keys[conn.id]
            if key is None:
                self._close(conn, "account gone")
                continue
            groups = [events] if knobs["push_batch"] else [[event] for event in events]
            for group in groups:
                payload = b"".join(self._message(event, key, knobs, origin) for event in group)
                token = str(next(conn.acks))
                data = frame(OP_MESSAGE, f"ack:{token}".encode(), payload)
                conn.unacked[token] = Unacked(data, sim_now)
                if malformed:
                    malformed = False
                    data = frame(OP_MESSAGE, f"ack:{token}".encode(), payload + b"\0\0\0")
                conn.frames_sent += 1
                self.totals["frames"] += 1
                self._send(conn, data)
                if conn.id not in self._conns:
                    break

    def _message(self, event: PushEvent, push_key: str, knobs: dict, origin: str) -> bytes:
        url = None
        if knobs["push_data_url"] and str(event.info_type) == "20001":
            url = f"{origin}/_sim/360/pushdata/{event.id}"
        plain = json.dumps(event.message_body(url), ensure_ascii=False, separators=(",", ":"))
        if not knobs["push_encrypt"]:
            body = {"data": base64.b64encode(plain.encode("utf-8")).decode("ascii"), "encrypt": 0}
        else:
            key = aes_key(push_key)
            if knobs["push_bad_key"]:
                key = bytes(b ^ 0x5A for b in key)
            body = {"data": encrypt(plain.encode("utf-8"), key), "encrypt": 1}
        raw = json.dumps(body, separators=(",", ":")).encode("utf-8")
        return MESSAGE_HEAD.pack(next(self._msg_ids), PRODUCT, len(raw)) + raw

    # -- housekeeping -------------------------------------------------------------------

    def _housekeeping(self, now: float) -> None:
        check_sids = now >= self._next_sid_check
        with self.sim.lock:
            kick = bool(self.cloud.knobs.get("push_kick"))
            if kick:
                self.cloud.knobs["push_kick"] = False  # one-shot
            sim_now = self.sim.clock.now()
            invalid = []
            if check_sids:
                self._next_sid_check = now + SID_CHECK
                for conn in self._conns.values():
                    if conn.sid is not None and self.cloud.account_for_sid(conn.sid) is None:
                        invalid.append(conn)
        if kick:
            for conn in list(self._conns.values()):
                self._close(conn, "kicked (push_kick)")
            return
        for conn in invalid:
            self._close(conn, "SID no longer valid")
        for conn in list(self._conns.values()):
            if conn.closing_until is not None:
                if now >= conn.closing_until:
                    self._close(conn, "rejected")
            elif now - conn.last_seen > 2 * conn.t:
                self._close(conn, f"silent for 2 x {conn.t} s")
            elif conn.unacked:
                self._resend(conn, sim_now)
        if self._slow or self._waiting:
            self._process_queues()

    def _resend(self, conn: Conn, sim_now: float) -> None:
        for token, item in list(conn.unacked.items()):
            if sim_now - item.sent_at < RESEND_AFTER:
                continue
            if item.resends >= MAX_RESENDS:
                del conn.unacked[token]
                continue
            item.resends += 1
            item.sent_at = sim_now
            conn.resent += 1
            self.totals["resent"] += 1
            self._send(conn, item.frame)
            if conn.id not in self._conns:
                return
