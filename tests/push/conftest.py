"""Fixtures of the push-channel tests (no Django: run with ``-p no:django``).

The simulator fixtures are imported like in ``tests/simulator`` so this directory also
runs on its own with ``--confcutdir=tests/push``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import requests

from devices.clouds import Qihoo360Client
from devices.clouds.qihoo360_push import (
    Bound,
    PushConnection,
    PushError,
    PushPoller,
)

# sim_server, sim, sim_env (star import: these names are fixtures, not variables)
from simulator.pytest_plugin import *  # noqa: F403

from .samples import OWNER_QID, OWNER_SID, SEED_PUSH_KEY, FakePushServer


class Harness:
    """One poller over the test's connections, with waiting helpers."""

    def __init__(self):
        self.poller = PushPoller()
        self.items: list[tuple[PushConnection, object]] = []

    def add(self, conn: PushConnection) -> PushConnection:
        self.poller.add(conn)
        return conn

    def wait_for(self, predicate: Callable[[object], bool], timeout: float = 5.0,
                 conn: PushConnection | None = None) -> object:  # fmt: skip
        """The first item (old or new) matching ``predicate``; fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for owner, item in self.items[seen:]:
                if (conn is None or owner is conn) and predicate(item):
                    return item
            seen = len(self.items)
            left = deadline - time.monotonic()
            if left <= 0:
                got = [type(item).__name__ for _, item in self.items]
                raise AssertionError(f"nothing matched within {timeout} s; got {got}")
            self.items.extend(self.poller.poll(min(left, 0.1)))

    def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Run the loop until ``condition()`` holds (e.g. a counter); fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"condition not met within {timeout} s")
            self.items.extend(self.poller.poll(min(left, 0.05)))

    def wait_type(self, kind: type, timeout: float = 5.0, conn=None, where=None):
        return self.wait_for(
            lambda item: isinstance(item, kind) and (where is None or where(item)), timeout, conn
        )

    def pump(self, seconds: float) -> None:
        """Run the loop for ``seconds`` (collecting items)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.items.extend(self.poller.poll(min(left, 0.05)))

    def of(self, kind: type, conn=None) -> list:
        return [i for c, i in self.items if isinstance(i, kind) and (conn is None or c is conn)]

    def bind(self, address, sid: str = OWNER_SID, push_key: str = SEED_PUSH_KEY, **kw):
        conn = self.add(PushConnection(address, sid, push_key, **kw))
        self.wait_type(Bound, conn=conn)
        return conn

    def errors(self, conn=None) -> list[PushError]:
        return self.of(PushError, conn)


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness()
    yield h
    h.poller.close()


@pytest.fixture
def fake_server() -> Iterator[FakePushServer]:
    server = FakePushServer()
    yield server
    server.close()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False  # loopback only, never a proxy
        yield session


@pytest.fixture
def owner_client(sim, http) -> Qihoo360Client:
    """Account "sid" through the product's own HTTP client (method 1)."""
    return Qihoo360Client(http, qid=OWNER_QID, sid=OWNER_SID, timeout=(5, 10), api_url=sim.url)
