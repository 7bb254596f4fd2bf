"""Client of the 360 Smart TCP push channel (cloud-apis.md 3.7, 3.8). Framework-free.

Everything live (battery, mode, fan level, errors, command results) arrives on this
channel; the HTTP API only acknowledges commands. One connection per account that has
a pushKey. Import everything from here:

- ``PushConnection`` (``qihoo360_push_connection``): one account's non-blocking socket
  and protocol state, driven by the caller's loop: ``connect()``; watch ``fileno()``
  for reading, and for writing while ``wants_write()``; call ``on_writable()`` /
  ``on_readable()``; call ``on_timer(now)`` by ``next_deadline()`` (connect 5 s and bind
  15 s timeouts, heartbeat every 25 s). ``on_readable()`` returns the parsed items:
  ``Bound`` once the bind is acknowledged, then ``StatusMessage`` (20001, with a
  ``VacuumStatus``), ``CommandAnswer`` (other infoTypes), ``UnknownEvent``,
  ``DataUrlEvent`` (only without a ``fetch``), and ``WrongKeySuspected`` when several
  messages in a row do not decrypt. A dead or misbehaving connection raises a
  ``PushError``: ``PushClosed`` (``PushTimeout``), ``PushProtocolError`` or
  ``BindRejected``. Close it and make a new one after ``ReconnectBackoff.next_delay()``.
- ``PushPoller``: one ``selectors`` loop over many connections (a listener process runs
  hundreds in one thread), yielding ``(connection, item or PushError)``.
- ``run_forever``: one account, blocking, with reconnects (scripts and tests).
- Wire format and types: ``qihoo360_push_frames`` and ``qihoo360_push_events``.

Message contents are never logged, only counted (``PushConnection.stats``).
"""

from __future__ import annotations

import logging
import random
import selectors
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from .qihoo360_push_connection import (
    DEFAULT_PUSH_ADDR,
    IDLE,
    BindRejected,
    Bound,
    PushClosed,
    PushConnection,
    PushItem,
    PushStats,
    PushTimeout,
    WrongKeySuspected,
    parse_push_address,
    requests_fetch,
)
from .qihoo360_push_events import (
    MODE_LABELS,
    CommandAnswer,
    DataUrlEvent,
    Fetch,
    PushMessage,
    StatusMessage,
    UnknownEvent,
    VacuumStatus,
    mode_label,
    parse_event,
    parse_status,
)
from .qihoo360_push_frames import PushError, PushProtocolError

__all__ = [
    "DEFAULT_PUSH_ADDR",
    "MODE_LABELS",
    "BindRejected",
    "Bound",
    "CommandAnswer",
    "DataUrlEvent",
    "Fetch",
    "PushClosed",
    "PushConnection",
    "PushError",
    "PushItem",
    "PushMessage",
    "PushPoller",
    "PushProtocolError",
    "PushStats",
    "PushTimeout",
    "ReconnectBackoff",
    "StatusMessage",
    "UnknownEvent",
    "VacuumStatus",
    "WrongKeySuspected",
    "iter_items",
    "mode_label",
    "parse_event",
    "parse_push_address",
    "parse_status",
    "requests_fetch",
    "run_forever",
]

log = logging.getLogger(__name__)


class PushPoller:
    """Drives many ``PushConnection``s from one ``selectors`` loop.

    ``add(conn)`` (connecting it first if needed), then call ``poll(timeout)`` in a loop:
    it returns ``(conn, item)`` pairs, where ``item`` is a ``PushItem`` or the
    ``PushError`` that ended ``conn`` (already closed and removed: schedule its
    reconnect). Heartbeats and timeouts are handled inside ``poll``.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._selector = selectors.DefaultSelector()
        self._clock = clock
        self._interest: dict[PushConnection, int] = {}
        self._fds: dict[PushConnection, int] = {}

    @property
    def connections(self) -> list[PushConnection]:
        return list(self._interest)

    def add(self, conn: PushConnection) -> None:
        if conn.state == IDLE:
            conn.connect()
        events = self._events_for(conn)
        fd = conn.fileno()
        self._selector.register(fd, events, conn)
        self._interest[conn] = events
        self._fds[conn] = fd  # a closed connection's fileno() is -1: unregister by this

    def remove(self, conn: PushConnection) -> None:
        self._interest.pop(conn, None)
        fd = self._fds.pop(conn, None)
        if fd is not None:
            try:
                self._selector.unregister(fd)
            except (KeyError, ValueError):
                pass

    def close(self) -> None:
        for conn in list(self._interest):
            self.remove(conn)
            conn.close()
        self._selector.close()

    def poll(
        self, timeout: float | None = None
    ) -> list[tuple[PushConnection, PushItem | PushError]]:
        results: list[tuple[PushConnection, PushItem | PushError]] = []
        wait = self._wait_time(timeout)
        ready = self._selector.select(wait) if self._interest else _sleep(wait)
        for key, mask in ready:
            conn: PushConnection = key.data
            if conn not in self._interest:
                continue
            try:
                if mask & selectors.EVENT_WRITE:
                    conn.on_writable()
                if mask & selectors.EVENT_READ:
                    results.extend((conn, item) for item in conn.on_readable())
            except PushError as exc:
                results.append((conn, exc))
                self._drop(conn)
        now = self._clock()
        for conn in list(self._interest):
            try:
                conn.on_timer(now)
            except PushError as exc:
                results.append((conn, exc))
                self._drop(conn)
                continue
            self._update(conn)
        return results

    def _wait_time(self, timeout: float | None) -> float | None:
        deadlines = [d for d in (c.next_deadline() for c in self._interest) if d is not None]
        if not deadlines:
            return timeout
        until = max(0.0, min(deadlines) - self._clock())
        return until if timeout is None else min(timeout, until)

    def _drop(self, conn: PushConnection) -> None:
        self.remove(conn)
        conn.close()

    def _update(self, conn: PushConnection) -> None:
        events = self._events_for(conn)
        if events != self._interest.get(conn):
            self._selector.modify(self._fds[conn], events, conn)
            self._interest[conn] = events

    @staticmethod
    def _events_for(conn: PushConnection) -> int:
        return selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.wants_write() else 0)


def _sleep(seconds: float | None) -> list:
    time.sleep(0.05 if seconds is None else seconds)
    return []


class ReconnectBackoff:
    """Reconnect delays: 5 s, 10 s, 20 s ... capped at 5 min, each with +-``jitter``;
    back to 5 s once a connection stayed bound for 10 minutes (3.7.8)."""

    def __init__(
        self,
        initial: float = 5.0,
        maximum: float = 300.0,
        factor: float = 2.0,
        jitter: float = 0.2,
        healthy_after: float = 600.0,
        *,
        rng: Callable[[], float] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.initial, self.maximum, self.factor = initial, maximum, factor
        self.jitter, self.healthy_after = jitter, healthy_after
        self._rng = rng or random.SystemRandom().random
        self._clock = clock
        self._attempt = 0
        self._bound_at: float | None = None

    @property
    def attempt(self) -> int:
        return self._attempt

    def bound(self, now: float | None = None) -> None:
        """The connection is bound; if it stays up ``healthy_after`` s, start over."""
        self._bound_at = self._clock() if now is None else now

    def reset(self) -> None:
        self._attempt = 0
        self._bound_at = None

    def next_delay(self, now: float | None = None) -> float:
        """The wait before the next connect, after a failure or a lost connection."""
        now = self._clock() if now is None else now
        if self._bound_at is not None and now - self._bound_at >= self.healthy_after:
            self._attempt = 0
        self._bound_at = None
        base = min(self.maximum, self.initial * self.factor**self._attempt)
        self._attempt += 1
        spread = 1 + self.jitter * (2 * self._rng() - 1)
        return max(0.0, min(self.maximum, base * spread))


def run_forever(
    address: tuple[str, int] | str,
    sid: str,
    push_key: str,
    on_item: Callable[[PushItem], None],
    *,
    stop: threading.Event | None = None,
    on_error: Callable[[PushError, float], None] | None = None,
    backoff: ReconnectBackoff | None = None,
    poll_interval: float = 0.5,
    **options: Any,
) -> None:
    """One account: connect, bind, hand every item to ``on_item``; on a ``PushError``
    call ``on_error(error, delay)`` (it may raise to stop) and reconnect after the
    back-off delay. Returns when ``stop`` is set. ``options`` go to ``PushConnection``.
    """
    stop = stop or threading.Event()
    backoff = backoff or ReconnectBackoff()
    while not stop.is_set():
        poller = PushPoller()
        conn = PushConnection(address, sid, push_key, **options)
        error: PushError | None = None
        try:
            poller.add(conn)
            while error is None and not stop.is_set():
                for _, item in poller.poll(poll_interval):
                    if isinstance(item, PushError):
                        error = item
                        break
                    if isinstance(item, Bound):
                        backoff.bound()
                    on_item(item)
        except PushError as exc:
            error = exc
        finally:
            poller.close()
        if error is not None and not stop.is_set():
            delay = backoff.next_delay()
            log.info("%s: %s; reconnecting in %.0f s", conn.label, type(error).__name__, delay)
            if on_error is not None:
                on_error(error, delay)
            stop.wait(delay)


def iter_items(results: Iterable[tuple[PushConnection, PushItem | PushError]]) -> list[PushItem]:
    """The items of ``PushPoller.poll`` results, raising the first ``PushError``."""
    items = []
    for _, item in results:
        if isinstance(item, PushError):
            raise item
        items.append(item)
    return items
