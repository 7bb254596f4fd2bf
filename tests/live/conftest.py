"""Fixtures of the live-status tests: linked 360 accounts against the simulator, and the
push listener running in a background thread over real loopback sockets.

The listener gets the simulator's push address explicitly, and QIHOO360_PUSH_ADDR points
at a closed loopback port, so nothing here can ever reach the real push server.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from devices.clouds.qihoo360_push import ReconnectBackoff
from devices.linking import link_qihoo360_qt
from devices.models import CloudAccount
from devices.push_listener import Intervals, Listener
from tests.devices.test_commands_support import link_360, sim_settings  # noqa: F401 (fixture)
from tests.live.helpers import QT_Q, QT_QID, QT_T

# Fast enough for tests; the production defaults are checked in test_schedule.py.
FAST = {
    "intervals": Intervals(min_spacing=2.0),
    "refresh_every": 0.5,
    "watch_every": 0.5,
    "backoff_factory": lambda: ReconnectBackoff(initial=0.3, maximum=2.0, jitter=0.0),
}


@pytest.fixture(autouse=True)
def _no_real_push_server(settings):
    settings.QIHOO360_PUSH_ADDR = ("127.0.0.1", 9)  # discard port: refused, never routed


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Record the history syncs the listener asks for instead of queueing Celery tasks."""
    queued: list[tuple[int, str]] = []
    monkeypatch.setattr(
        "devices.sync._queue", lambda pk, trigger, claim: queued.append((pk, trigger))
    )
    return queued


@pytest.fixture
def queued_syncs(_no_broker):
    return _no_broker


class RunningListener:
    def __init__(self, listener: Listener):
        self.listener = listener
        self.stop_event = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="push-listener", daemon=True)

    def _run(self) -> None:
        try:
            self.listener.run(self.stop_event)
        except BaseException as exc:  # reported by the fixture
            self.error = exc
        finally:
            connections.close_all()

    def start(self) -> RunningListener:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the listener did not stop"
        assert self.error is None, f"the listener crashed: {self.error!r}"

    @property
    def accounts(self) -> set[int]:
        return set(self.listener.links)

    def bound(self, account: CloudAccount) -> bool:
        link = self.listener.links.get(account.pk)
        return bool(link and link.conn is not None and link.conn.bound)


@pytest.fixture
def start_listener(sim, transactional_db):
    """start_listener(**options) -> a RunningListener on the simulator's push server."""
    running: list[RunningListener] = []

    def start(**options) -> RunningListener:
        options = {**FAST, "address": sim.push_addr, **options}
        handle = RunningListener(Listener(**options)).start()
        running.append(handle)
        return handle

    yield start
    for handle in running:
        if handle.thread.is_alive():
            handle.stop()


@pytest.fixture
def sid_account(home, sim_settings, transactional_db) -> CloudAccount:  # noqa: F811
    """The simulator's method-1 account "sid" (S7, S5, offline S9, X95), with pushKey."""
    return link_360(home)


@pytest.fixture
def qt_account(home, alice, sim_settings) -> CloudAccount:  # noqa: F811
    """The simulator's method-2 account "qt" (sees X95, shared to it), linked by login."""
    return link_qihoo360_qt(household=home, user=alice, qid=QT_QID, q=QT_Q, t=QT_T).account
