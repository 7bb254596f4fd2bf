"""Fixtures for the cloud client tests. No Django: run with ``-p no:django``."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses
from pytest_httpserver import HTTPServer

from devices.clouds import InMemoryTokenStore, MammotionClient, Qihoo360Client, TokenSet

from . import samples

API = "https://q.smart.360.cn"
OPEN_API = "https://api-open.mammotion.com"
TOKEN_URL = "https://id.mammotion.com/oauth2/token"
USER_API = "https://domestic.mammotion.com/user-server/v1"
TIMEOUT = (2.0, 2.0)
CLIENT_ID = "client-id-0001"
CLIENT_SECRET = "client-secret-very-private-0001"


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    """Every HTTP call must be registered; unknown URLs fail the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.fixture
def qclient(session) -> Qihoo360Client:
    """Method 1: QID + SID, no renewal."""
    return Qihoo360Client(
        session,
        qid=samples.QID,
        sid=samples.SID,
        push_key=samples.PUSH_KEY,
        timeout=TIMEOUT,
        retry_pause=0,
    )


def fresh_tokens(*, minutes_left: float = 60, obtained_minutes_ago: float = 1) -> TokenSet:
    now = datetime.now(UTC)
    return TokenSet(
        access_token="access-current-0001",
        refresh_token="refresh-current-0001",
        expires_at=now + timedelta(minutes=minutes_left),
        obtained_at=now - timedelta(minutes=obtained_minutes_ago),
    )


@pytest.fixture
def store() -> InMemoryTokenStore:
    return InMemoryTokenStore(fresh_tokens())


@pytest.fixture
def mclient(session, store) -> MammotionClient:
    return make_mclient(session, store)


def make_mclient(session, store, **kw) -> MammotionClient:
    return MammotionClient(
        session,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_store=store,
        timeout=TIMEOUT,
        retry_pause=0,
        **kw,
    )


@pytest.fixture(scope="session")
def _http_server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def server(_http_server) -> Iterator[HTTPServer]:
    """A real threaded HTTP server on 127.0.0.1 (timeouts, Retry-After over sockets)."""
    _http_server.clear()
    yield _http_server
    _http_server.clear()


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dropping_server() -> Iterator[str]:
    """Accepts connections, reads the request, closes without answering."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    conn.recv(65536)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(2)
    listener.close()
