"""One account's connection to the 360 push channel (cloud-apis.md 3.7.1-3.7.8).

``PushConnection`` owns a non-blocking socket and the protocol state; the caller's loop
drives it (see ``qihoo360_push`` for the overview and ``PushPoller`` for a ready loop).
It binds, heartbeats, acknowledges, decrypts and parses; it never logs content, the SID
or the pushKey, and its exceptions carry neither (``Redactor``).
"""

from __future__ import annotations

import errno
import logging
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .qihoo360_push_events import DataUrlEvent, Fetch, PushMessage, parse_event
from .qihoo360_push_frames import (
    HEARTBEAT,
    OP_BIND_ACK,
    OP_HEARTBEAT_REPLY,
    OP_MESSAGE,
    PRODUCT_ID,
    DecryptFailed,
    Frame,
    FrameReader,
    GarbageMessage,
    MalformedFrame,
    PushError,
    PushProtocolError,
    ack_frame,
    bind_frame,
    decode_body,
    split_messages,
)
from .redact import Redactor, shorten

log = logging.getLogger(__name__)

DEFAULT_PUSH_ADDR = "47.254.151.104:443"  # 3.7.1; the product reads QIHOO360_PUSH_ADDR
CONNECT_TIMEOUT = 5.0
BIND_TIMEOUT = 15.0  # 3.7.4 step 3
HEARTBEAT_INTERVAL = 25.0  # with the t:30 profile (3.7.4 step 4)
WRONG_KEY_AFTER = 3  # decrypt failures in a row before WrongKeySuspected
_RECV_SIZE = 65536
_SEEN_MESSAGES = 512  # remembered (msgId, body) pairs: re-sent frames are not reported twice

# connection states
IDLE, CONNECTING, BINDING, BOUND, CLOSED = "idle", "connecting", "binding", "bound", "closed"


class PushClosed(PushError):
    """The server closed the connection (or it broke): reconnect with back-off."""


class PushTimeout(PushClosed):
    """No TCP connection within 5 s, or no bind answer within 15 s (3.7.4)."""


class BindRejected(PushError):
    """The bind was answered with ``r`` other than 0: the SID is unknown or superseded.
    Method 2: renew the SID and retry once; method 1: back off (3.7.4 step 3)."""

    default_user_message = "The 360 push server rejected the session (SID)."

    def __init__(self, message: str | None = None, *, result: str | None = None, **kw: Any):
        super().__init__(message, vendor_code=result, **kw)
        self.result = result


@dataclass(frozen=True)
class Bound:
    """The bind was acknowledged (``r:0``). A listener now requests a 20001 status of
    each online device (3.7.8 "Initial state")."""

    at: float  # the connection's clock


@dataclass(frozen=True)
class WrongKeySuspected:
    """``failures`` messages in a row did not decrypt: flag the account ("wrong
    pushKey"). Reported once per streak; ``PushConnection.wrong_key_suspected`` stays
    true until a message decrypts."""

    failures: int


PushItem = PushMessage | Bound | WrongKeySuspected


@dataclass
class PushStats:
    """Counters of one connection (content is never logged, only counted)."""

    bytes_received: int = 0
    frames: int = 0
    messages: int = 0  # delivered to the caller
    acks_sent: int = 0
    heartbeats_sent: int = 0
    heartbeat_replies: int = 0
    unknown_opcodes: int = 0
    garbage_frames: int = 0  # opcode-3 frames whose messages do not fill payloadLen
    garbage_messages: int = 0  # bodies / events that are not the expected JSON
    decrypt_failures: int = 0
    consecutive_decrypt_failures: int = 0
    foreign_products: int = 0  # product other than 60009
    duplicates: int = 0  # re-sent messages already reported
    fetch_failures: int = 0  # pushDataUrl could not be fetched or read


def parse_push_address(value: str | None, default: str = DEFAULT_PUSH_ADDR) -> tuple[str, int]:
    """``host:port`` (``QIHOO360_PUSH_ADDR``, cloud-apis.md 2 rule 6); ``[v6]:port`` too.
    Empty or unset -> the default."""
    text = (value or "").strip() or default
    host, colon, port = text.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"push address must be host:port, got {text!r}")
    return host.strip("[]"), int(port)


def requests_fetch(session: Any, timeout: tuple[float, float] = (5.0, 15.0)) -> Fetch:
    """A ``fetch`` for ``pushDataUrl`` on a ``requests.Session`` (URL used as returned)."""

    def fetch(url: str) -> Any:
        response = session.get(url, timeout=timeout)
        response.raise_for_status()
        return response.content

    return fetch


class PushConnection:
    """One account's push connection, driven by the caller's loop (see module doc).

    ``address`` is ``(host, port)`` or ``"host:port"``; there is deliberately no default.
    ``fetch(url)`` resolves ``pushDataUrl`` events inline (it blocks the caller's loop
    for its duration); without it such events are returned as ``DataUrlEvent``.
    ``clock`` (monotonic seconds) and ``wall_ms`` (Unix ms for the bind ``ts``) are
    injectable for tests. Not thread-safe: one loop drives it.
    """

    def __init__(
        self,
        address: tuple[str, int] | str,
        sid: str,
        push_key: str,
        *,
        label: str | None = None,
        fetch: Fetch | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        bind_timeout: float = BIND_TIMEOUT,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        client_version: str = "1.7",
        server_timeout: int = 30,
        wrong_key_after: int = WRONG_KEY_AFTER,
        clock: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ):
        if not sid or any(c.isspace() or c in "@\n:" for c in sid):
            raise ValueError("the SID must be non-empty, without whitespace, '@' or ':'")
        if not push_key:
            raise ValueError("a push connection needs the account's pushKey")
        self.address = (
            parse_push_address(address, default="") if isinstance(address, str) else address
        )
        self._sid = sid
        self._push_key = push_key
        self._redactor = Redactor(sid, push_key)
        self.label = label or f"360 push {shorten(sid)}"
        self.fetch = fetch
        self.connect_timeout = connect_timeout
        self.bind_timeout = bind_timeout
        self.heartbeat_interval = heartbeat_interval
        self._profile = (client_version, server_timeout)
        self.wrong_key_after = max(1, wrong_key_after)
        self._clock = clock
        self._wall_ms = wall_ms
        self.stats = PushStats()
        self.state = IDLE
        self.bound_at: float | None = None
        self.last_received: float | None = None
        self._sock: socket.socket | None = None
        self._reader = FrameReader()
        self._out = bytearray()
        self._deadline: float | None = None  # connect or bind deadline
        self._next_heartbeat: float | None = None
        self._seen: deque[tuple[int, int]] = deque(maxlen=_SEEN_MESSAGES)
        self._seen_set: set[tuple[int, int]] = set()

    def __repr__(self) -> str:
        return f"<PushConnection {self.label} {self.state}>"

    # --- lifecycle ------------------------------------------------------------------

    def connect(self) -> None:
        """Start a non-blocking TCP connect; the bind frame goes out once connected."""
        if self.state != IDLE:
            raise RuntimeError("a PushConnection connects once; make a new one to reconnect")
        host, port = self.address
        try:
            family, kind, proto, _, sockaddr = socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )[0]
            sock = socket.socket(family, kind, proto)
        except OSError as exc:
            self.state = CLOSED
            raise PushClosed(self._clean(f"{self.label}: cannot resolve or open: {exc}")) from None
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _enable_keepalive(sock)
        self._sock = sock
        self.state = CONNECTING
        self._deadline = self._clock() + self.connect_timeout
        code = sock.connect_ex(sockaddr)
        if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY):
            self.close()
            raise PushClosed(f"{self.label}: connect failed: {errno.errorcode.get(code, code)}")
        cv, t = self._profile
        self._out += bind_frame(self._sid, self._wall_ms(), cv=cv, t=t)

    def fileno(self) -> int:
        return self._sock.fileno() if self._sock is not None else -1

    def wants_write(self) -> bool:
        return self.state == CONNECTING or bool(self._out)

    def close(self) -> None:
        self.state = CLOSED
        self._out.clear()
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    @property
    def bound(self) -> bool:
        return self.state == BOUND

    @property
    def wrong_key_suspected(self) -> bool:
        return self.stats.consecutive_decrypt_failures >= self.wrong_key_after

    # --- events from the caller's loop ------------------------------------------------

    def on_writable(self) -> None:
        if self.state == CONNECTING:
            code = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) if self._sock else 0
            if code:
                self.close()
                raise PushClosed(f"{self.label}: connect failed: {errno.errorcode.get(code, code)}")
            self.state = BINDING
            self._deadline = self._clock() + self.bind_timeout
        self._flush()

    def on_readable(self) -> list[PushItem]:
        """Read what is there; returns the parsed items (possibly none)."""
        if self._sock is None:
            raise PushClosed(f"{self.label}: not connected")
        if self.state == CONNECTING:
            self.on_writable()  # readable before writable: the connect finished (or failed)
        try:
            data = self._sock.recv(_RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError as exc:
            self.close()
            raise PushClosed(self._clean(f"{self.label}: connection broken: {exc}")) from None
        if not data:
            self.close()
            raise PushClosed(f"{self.label}: closed by the server")
        now = self._clock()
        self.last_received = now
        self.stats.bytes_received += len(data)
        try:
            frames = self._reader.feed(data)
        except PushProtocolError:
            self.close()
            raise
        items: list[PushItem] = []
        try:
            for frame in frames:
                items.extend(self._handle(frame, now))
        finally:
            self._flush()
        return items

    def next_deadline(self) -> float | None:
        """When ``on_timer`` must run next (the connection's clock), or None."""
        if self.state in (CONNECTING, BINDING):
            return self._deadline
        if self.state == BOUND:
            return self._next_heartbeat
        return None

    def due_heartbeat(self, now: float | None = None) -> bool:
        now = self._clock() if now is None else now
        return (
            self.state == BOUND and self._next_heartbeat is not None and now >= self._next_heartbeat
        )

    def on_timer(self, now: float | None = None) -> None:
        """Enforce the connect/bind timeouts; send the heartbeat when due."""
        now = self._clock() if now is None else now
        if self.state in (CONNECTING, BINDING) and self._deadline is not None:
            if now >= self._deadline:
                what = "connect" if self.state == CONNECTING else "bind answer"
                self.close()
                raise PushTimeout(f"{self.label}: no {what} in time")
        if self.due_heartbeat(now):
            self.send_heartbeat(now)

    def send_heartbeat(self, now: float | None = None) -> None:
        """Opcode 0: the 4 bytes 00 05 00 00 (3.7.3)."""
        now = self._clock() if now is None else now
        self._out += HEARTBEAT
        self.stats.heartbeats_sent += 1
        self._next_heartbeat = now + self.heartbeat_interval
        self._flush()

    # --- frames ----------------------------------------------------------------------

    def _handle(self, frame: Frame, now: float) -> list[PushItem]:
        self.stats.frames += 1
        if frame.opcode == OP_MESSAGE:
            return self._on_messages(frame)
        if frame.opcode == OP_BIND_ACK:
            return self._on_bind_ack(frame, now)
        if frame.opcode == OP_HEARTBEAT_REPLY:
            self.stats.heartbeat_replies += 1
        else:
            self.stats.unknown_opcodes += 1  # skipped (3.7.3)
        return []

    def _on_bind_ack(self, frame: Frame, now: float) -> list[PushItem]:
        if self.state == BOUND:
            return []
        result = frame.properties.get("r", "").strip()
        if result != "0":
            self.close()
            raise BindRejected(f"{self.label}: bind rejected (r={result or 'missing'})",
                               result=result or None)  # fmt: skip
        self.state = BOUND
        self.bound_at = now
        self._deadline = None
        self._next_heartbeat = now + self.heartbeat_interval
        log.info("%s: bound", self.label)
        return [Bound(now)]

    def _on_messages(self, frame: Frame) -> list[PushItem]:
        try:
            messages = split_messages(frame.payload or b"")
        except MalformedFrame:
            self.stats.garbage_frames += 1
            log.warning("%s: malformed message frame dropped (not acknowledged)", self.label)
            return []
        items: list[PushItem] = []
        for message in messages:
            if message.product != PRODUCT_ID:
                self.stats.foreign_products += 1
                continue
            key = (message.msg_id, hash(message.body))
            if key in self._seen_set:
                self.stats.duplicates += 1
                continue
            if len(self._seen) == self._seen.maxlen:
                self._seen_set.discard(self._seen[0])
            self._seen.append(key)
            self._seen_set.add(key)
            item = self._decode(message.body)
            if item is not None:
                items.append(item)
        if frame.ack_token:
            self._out += ack_frame(frame)
            self.stats.acks_sent += 1
        return items

    def _decode(self, body: bytes) -> PushItem | None:
        stats = self.stats
        try:
            event = decode_body(body, self._push_key)
        except DecryptFailed:
            stats.decrypt_failures += 1
            stats.consecutive_decrypt_failures += 1
            if stats.consecutive_decrypt_failures == self.wrong_key_after:
                log.warning("%s: %d messages in a row did not decrypt: wrong pushKey?",
                            self.label, self.wrong_key_after)  # fmt: skip
                return WrongKeySuspected(stats.consecutive_decrypt_failures)
            return None
        except GarbageMessage:
            stats.garbage_messages += 1
            log.warning("%s: unreadable message dropped", self.label)
            return None
        stats.consecutive_decrypt_failures = 0
        message = parse_event(event)
        if isinstance(message, DataUrlEvent) and self.fetch is not None:
            try:
                message = message.resolve(self.fetch)
            except Exception as exc:  # the caller's fetch: any failure drops this message
                stats.fetch_failures += 1
                log.warning("%s: pushDataUrl not fetched (%s)", self.label, type(exc).__name__)
                return None
        stats.messages += 1
        return message

    # --- output ----------------------------------------------------------------------

    def _flush(self) -> None:
        if not self._out or self._sock is None or self.state == CONNECTING:
            return
        try:
            sent = self._sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.close()
            raise PushClosed(self._clean(f"{self.label}: send failed: {exc}")) from None
        del self._out[:sent]

    def _clean(self, text: str) -> str:
        return self._redactor.clean(text)


def _enable_keepalive(sock: socket.socket) -> None:
    """TCP keep-alive finds a dead peer on a quiet connection (about 2 minutes)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 20), ("TCP_KEEPCNT", 3)):
        option = getattr(socket, name, None)
        if option is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, option, value)
            except OSError:
                pass
