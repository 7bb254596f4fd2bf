"""Shared pieces of the client-against-simulator tests (cloud-apis.md 5.5).

Every test here talks to the real simulator over loopback sockets (the ``sim`` fixture of
``simulator.pytest_plugin``, reset before each test). Seed identities come from
cloud-apis.md 5.3.1 and 5.4.1.

The autouse ``_tripwires`` fixture enforces scenario 11 after *every* test: the
simulator saw no never-call request, and no request sent by a product client (they all
send the ``robot-dashboard/`` User-Agent) went to ``/_sim/`` or to ``/work-params``.
Absolute URLs the cloud hands out (a job map) are fetched by the test itself with a
plain session, as the product's browser would.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import lz4.block
import pytest
import requests

from devices.clouds import (
    InMemoryTokenStore,
    MammotionAccountClient,
    MammotionClient,
    Qihoo360Client,
    Qihoo360ConfigClient,
)
from devices.clouds.transport import USER_AGENT

# --- 360 seed (5.3.1) -------------------------------------------------------------------
OWNER_QID = "1234123412"
OWNER_SID = "4a20145c62428d31b52b53c9ccbfcee4"
OWNER_PUSH_KEY = "a1b2c3d4e5f60718a1b2c3d4e5f60718"
OWNER_COOKIE = f"q=u=&t=1;t=&v=2.0&a=1; qid={OWNER_QID}; sid={OWNER_SID}"
QT_QID = "2000000002"
QT_Q = "u=360H2000000002&n=demo&qid=2000000002&t=1"
QT_T = "s=simT2000000002&t=1&v=2.0&a=1"
NOTIFY_ID, IMEI = "0f" * 16, "a5" * 16  # generated once per linked account (3.5.1)

S7 = "361TY000003000000"
S5 = "360TY000001000001"
S9 = "361TY000009000009"
X95 = "360TY000100000100"

# --- Mammotion seed (5.4.1) -----------------------------------------------------------
OWNER_EMAIL = "owner@example.com"
OWNER_PASSWORD = "Mower-Pass1"
CLIENT_ID, CLIENT_SECRET = "sim-client-1", "sim-secret-1"
EMPTY_CLIENT_ID, EMPTY_CLIENT_SECRET = "sim-client-empty", "sim-secret-empty"
LUBA, YUKA, STATION, MINI = "Luba-VS5K8D2M1", "Yuka-MV27A3F9K2", "RTKX9Q2L7P4", "Luba-MN4H7C1K9"

TIMEOUT = (2.0, 5.0)


def new_session() -> requests.Session:
    """Loopback only: never let a proxy variable reroute the simulator traffic."""
    session = requests.Session()
    session.trust_env = False
    return session


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with new_session() as session:
        yield session


@pytest.fixture(autouse=True)
def _tripwires(sim) -> Iterator[None]:
    """Scenario 11 after every test (cloud-apis.md 5.1 "Tripwires", D-MAM-4)."""
    yield
    assert sim.violations() == []
    by_clients = [
        entry
        for entry in sim.requests()
        if entry["headers"].get("user-agent", "").startswith(USER_AGENT)
    ]
    assert not [e["path"] for e in by_clients if "/_sim/" in e["path"]]
    assert not [e["path"] for e in by_clients if e["path"].rstrip("/").endswith("/work-params")]


# --- client factories -----------------------------------------------------------------


def q1(sim, session: requests.Session, **kw: Any) -> Qihoo360Client:
    """Method 1 (3.3.1): QID + SID + pushKey, no renewal."""
    options = {"sid": OWNER_SID, "push_key": OWNER_PUSH_KEY, "timeout": TIMEOUT, "retry_pause": 0}
    return Qihoo360Client(session, qid=OWNER_QID, api_url=sim.url, **{**options, **kw})


class LoginRenewer:
    """The service's side of 3.3.3, reduced to what a test needs: log in again with the
    account's Q/T and hand the new SID back. Records every call."""

    def __init__(self) -> None:
        self.client: Qihoo360Client | None = None
        self.failed_sids: list[str] = []
        self.logins = []

    def __call__(self, failed_sid: str) -> str:
        self.failed_sids.append(failed_sid)
        login = self.client.login(notify_id=NOTIFY_ID, imei=IMEI)
        self.logins.append(login)
        return login.sid


def q2(sim, session: requests.Session, *, sid: str | None = None, **kw: Any):
    """Method 2 (3.3.2): Q + T + QID, renewing through a ``LoginRenewer``."""
    renewer = LoginRenewer()
    client = Qihoo360Client(
        session,
        qid=QT_QID,
        q=QT_Q,
        t=QT_T,
        sid=sid,
        renew_sid=renewer,
        api_url=sim.url,
        timeout=kw.pop("timeout", TIMEOUT),
        retry_pause=0,
        **kw,
    )
    renewer.client = client
    return client, renewer


def config_client(sim, session: requests.Session, **kw: Any) -> Qihoo360ConfigClient:
    options = {"timeout": TIMEOUT, "retry_pause": 0, **kw}
    return Qihoo360ConfigClient(session, config_url=sim.url, **options)


def account_client(sim, session: requests.Session, **kw: Any) -> MammotionAccountClient:
    options = {"timeout": TIMEOUT, "retry_pause": 0, **kw}
    return MammotionAccountClient(session, user_url=sim.url, **options)


def mammotion_client(
    sim,
    session: requests.Session,
    store: InMemoryTokenStore | None = None,
    *,
    client_id: str = CLIENT_ID,
    client_secret: str = CLIENT_SECRET,
    **kw: Any,
) -> MammotionClient:
    options = {"timeout": TIMEOUT, "retry_pause": 0, **kw}
    return MammotionClient(
        session,
        client_id=client_id,
        client_secret=client_secret,
        token_store=store if store is not None else InMemoryTokenStore(),
        auth_url=sim.url,
        api_url=sim.url,
        **options,
    )


class SimTime:
    """Freezes the simulator's clock and mirrors it for a client's ``now``, so token
    expiry and the simulator's own clock move together under ``advance``."""

    def __init__(self, sim) -> None:
        sim.set_speed(0)
        self._sim = sim
        self._base = sim.now()
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.fromtimestamp(self._base + self._offset, UTC)

    def advance(self, seconds: float) -> None:
        self._sim.advance(seconds)
        with self._lock:
            self._offset += seconds


@pytest.fixture
def sim_time(sim) -> SimTime:
    return SimTime(sim)


# --- request-log helpers --------------------------------------------------------------


def logged(sim, path: str, vendor: str | None = None) -> list[dict]:
    return sim.requests(vendor=vendor, path=path)


def grants(sim) -> list[str]:
    """``grant_type`` of every token request so far, in order."""
    return [entry["body"]["grant_type"] for entry in sim.requests(path="/oauth2/token")]


def device_ids(sim) -> dict[str, str]:
    """Mammotion device name -> opaque deviceId of the seed."""
    listed = sim.control("GET", "mammotion/devices")["devices"]
    return {item["name"]: item["deviceId"] for item in listed}


def sim_device(sim, sn: str) -> dict:
    """The 360 simulator's view of a device, with its full 20001 status."""
    return sim.control("GET", f"360/devices/{sn}")


def raw_360(session: requests.Session, sim, path: str, cookie: str = OWNER_COOKIE, **fields):
    """The raw 360 envelope, fetched without the client (to compare with its parse)."""
    fields.setdefault("devType", "3")
    response = session.post(sim.url + path, data=fields, headers={"Cookie": cookie}, timeout=10)
    assert response.status_code == 200
    return response.json()


def decode_raw_grid(record: dict) -> bytes:
    block = base64.b64decode(record["map"])
    return lz4.block.decompress(block, uncompressed_size=record["width"] * record["height"])


def raises_with(exc_type: type[BaseException], call: Callable[[], Any]) -> BaseException:
    """Run ``call``; return the exception it raised, asserting its exact class."""
    with pytest.raises(exc_type) as info:
        call()
    assert type(info.value) is exc_type, f"{type(info.value).__name__} is not {exc_type.__name__}"
    return info.value
