"""Transport faults on every client, injected by the simulator (cloud-apis.md 5.2; 5.5
scenario 10): HTTP 429 with ``Retry-After``, 5xx, a response slower than the read timeout,
a dropped connection and every malformed body, on a representative read of each client;
and the rule that writes are never retried while reads are retried once.

360 reads are retried once on a connection error, a timeout, HTTP 5xx or an unparseable
body (3.4.4). Mammotion reads are retried once on a connection error or a timeout only:
its 5xx/429 back-off (5 s, then 15 s, 4.7) is the sync layer's, from the error's
``retryable``/``retry_after``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from devices.clouds import BadResponse, Command, RateLimited, Unavailable

from .conftest import (
    LUBA,
    OWNER_EMAIL,
    OWNER_PASSWORD,
    S7,
    YUKA,
    account_client,
    config_client,
    device_ids,
    logged,
    mammotion_client,
    q1,
    sim_device,
)

FAST = (1.0, 0.5)  # (connect, read) seconds
SLOW_ANSWER = 1.5  # beyond the read timeout


@dataclass(frozen=True)
class Target:
    """One client call and the request it makes."""

    vendor: str
    method: str
    path: str
    make: Callable[[Any, Any], Any]  # (sim, session) -> client
    call: Callable[[Any, dict[str, str]], Any]  # (client, mammotion device ids) -> result
    label: str  # how the client names the cloud in user messages
    retries_garbage: bool = False  # 3.4.4: 360 reads retry once on 5xx / non-JSON bodies

    def run(self, sim, session) -> Any:
        ids = device_ids(sim) if self.vendor == "mammotion" else {}
        client = self.make(sim, session)
        return self.call(client, ids)

    def fault(self, sim, **rule) -> None:
        sim.add_fault(vendor=self.vendor, method=self.method, path=self.path, **rule)

    def hits(self, sim) -> int:
        return len([e for e in logged(sim, self.path) if e["method"] == self.method])


QIHOO = "360 Smart cloud"
MAMMOTION = "Mammotion cloud"

READS = {
    "360-GetList": Target(
        "qihoo360",
        "POST",
        "/common/dev/GetList",
        lambda sim, s: q1(sim, s, timeout=FAST),
        lambda c, ids: c.list_devices(),
        QIHOO,
        retries_garbage=True,
    ),
    "360-static-json": Target(
        "qihoo360",
        "GET",
        "/clean/errorInfo_us.json",
        lambda sim, s: config_client(sim, s, timeout=FAST),
        lambda c, ids: c.get_error_catalogue(),
        QIHOO,
        retries_garbage=True,
    ),
    "mammotion-area": Target(
        "mammotion",
        "GET",
        "/user-server/v1/area",
        lambda sim, s: account_client(sim, s, timeout=FAST),
        lambda c, ids: c.list_areas(),
        MAMMOTION,
    ),
    "mammotion-mowers": Target(
        "mammotion",
        "GET",
        "/v1/mowers",
        lambda sim, s: mammotion_client(sim, s, timeout=FAST),
        lambda c, ids: c.list_devices(),
        MAMMOTION,
    ),
    "mammotion-fault-search": Target(
        "mammotion",
        "POST",
        "/v1/mower/error-codes/search",
        lambda sim, s: mammotion_client(sim, s, timeout=FAST),
        lambda c, ids: c.list_faults(ids[LUBA]),
        MAMMOTION,
    ),
}

WRITES = {
    "360-cmd-send": Target(
        "qihoo360",
        "POST",
        "/clean/cmd/send",
        lambda sim, s: q1(sim, s, timeout=FAST),
        lambda c, ids: c.send_command(S7, Command.START),
        QIHOO,
    ),
    "360-rename": Target(
        "qihoo360",
        "POST",
        "/clean/devuser/updateInfo",
        lambda sim, s: q1(sim, s, timeout=FAST),
        lambda c, ids: c.rename_device(S7, "Hall"),
        QIHOO,
    ),
    "mammotion-action": Target(
        "mammotion",
        "POST",
        "/v1/mower/action",
        lambda sim, s: mammotion_client(sim, s, timeout=FAST),
        lambda c, ids: c.pause(ids[YUKA]),
        MAMMOTION,
    ),
    "mammotion-token": Target(
        "mammotion",
        "POST",
        "/oauth2/token",
        lambda sim, s: mammotion_client(sim, s, timeout=FAST),
        lambda c, ids: c.list_devices(),
        MAMMOTION,
    ),
    "mammotion-login": Target(
        "mammotion",
        "POST",
        "/user-server/v1/user/oauth/token",
        lambda sim, s: account_client(sim, s, timeout=FAST),
        lambda c, ids: c.login(OWNER_EMAIL, OWNER_PASSWORD),
        MAMMOTION,
    ),
    "mammotion-registration-code": Target(
        "mammotion",
        "POST",
        "/user-server/v1/email/register/code",
        lambda sim, s: account_client(sim, s, timeout=FAST),
        lambda c, ids: c.request_registration_code("dashboard@example.com"),
        MAMMOTION,
    ),
}

reads = pytest.mark.parametrize("target", list(READS.values()), ids=list(READS))
writes = pytest.mark.parametrize("target", list(WRITES.values()), ids=list(WRITES))


@reads
def test_429_is_rate_limited_with_retry_after_and_not_retried(sim, http, target):
    target.fault(sim, http_status=429, retry_after=7, count=-1)
    with pytest.raises(RateLimited) as info:
        target.run(sim, http)
    assert type(info.value) is RateLimited
    assert info.value.retry_after == 7 and info.value.http_status == 429
    assert info.value.retryable
    assert info.value.user_message == f"The {target.label} is throttling requests. Try again later."
    assert target.hits(sim) == 1


@reads
@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_unavailable(sim, http, target, status):
    target.fault(sim, http_status=status, retry_after=12, count=-1)
    with pytest.raises(Unavailable) as info:
        target.run(sim, http)
    assert type(info.value) is Unavailable
    assert info.value.http_status == status and info.value.retry_after == 12
    assert info.value.user_message == (
        f"The {target.label} is having trouble right now. Try again later."
    )
    assert target.hits(sim) == (2 if target.retries_garbage else 1)


@pytest.mark.parametrize("target", [READS["360-GetList"], READS["360-static-json"]])
def test_360_reads_retry_once_after_a_single_5xx(sim, http, target):
    target.fault(sim, http_status=502)
    assert target.run(sim, http)
    assert target.hits(sim) == 2


@reads
def test_a_response_slower_than_the_read_timeout_is_unavailable_quickly(sim, http, target):
    target.fault(sim, delay=SLOW_ANSWER, count=-1)
    started = time.monotonic()
    with pytest.raises(Unavailable) as info:
        target.run(sim, http)
    elapsed = time.monotonic() - started
    assert type(info.value) is Unavailable and "timed out" in str(info.value)
    assert info.value.user_message == (
        f"The {target.label} is not reachable right now. Try again later."
    )
    assert target.hits(sim) == 2  # reads: one more attempt after a timeout
    assert elapsed < 2 * SLOW_ANSWER  # two read timeouts, not two slow answers


@reads
def test_a_read_recovers_after_one_timeout(sim, http, target):
    target.fault(sim, delay=SLOW_ANSWER, count=1)
    assert target.run(sim, http) is not None
    assert target.hits(sim) == 2


@reads
def test_a_read_retries_once_on_a_dropped_connection(sim, http, target):
    target.fault(sim, drop=True, count=1)
    assert target.run(sim, http) is not None
    hits = [e for e in logged(sim, target.path) if e["method"] == target.method]
    assert [entry["status"] for entry in hits] == ["dropped", 200]


@reads
def test_a_read_dropped_twice_is_unavailable(sim, http, target):
    target.fault(sim, drop=True, count=-1)
    with pytest.raises(Unavailable) as info:
        target.run(sim, http)
    assert type(info.value) is Unavailable and "connection failed" in str(info.value)
    assert info.value.user_message == (
        f"The {target.label} is not reachable right now. Try again later."
    )
    assert target.hits(sim) == 2


@reads
@pytest.mark.parametrize(
    ("variant", "transient"),
    [("truncated", True), ("html", True), ("empty", True), ("array", False)],
)
def test_malformed_bodies_are_bad_responses(sim, http, target, variant, transient):
    target.fault(sim, malformed=variant, count=-1)
    with pytest.raises(BadResponse) as info:
        target.run(sim, http)
    error = info.value
    assert error.transient is transient and error.retryable is transient
    assert error.user_message == "The cloud sent an unexpected answer. Try again later."
    assert target.hits(sim) == (2 if target.retries_garbage and transient else 1)


@pytest.mark.parametrize("target", [READS["360-GetList"], READS["360-static-json"]])
def test_360_reads_retry_once_after_a_single_garbled_body(sim, http, target):
    target.fault(sim, malformed="html", count=1)
    assert target.run(sim, http)
    assert target.hits(sim) == 2


@writes
@pytest.mark.parametrize(
    "fault",
    [
        {"drop": True},
        {"delay": SLOW_ANSWER},
        {"http_status": 503},
        {"malformed": "truncated"},
    ],
    ids=["drop", "timeout", "503", "truncated"],
)
def test_writes_are_sent_exactly_once(sim, http, target, fault):
    target.fault(sim, count=-1, **fault)
    with pytest.raises((Unavailable, BadResponse)) as info:
        target.run(sim, http)
    assert info.value.retryable
    assert target.hits(sim) == 1


def test_a_dropped_command_does_not_move_the_robot(sim, http):
    target = WRITES["360-cmd-send"]
    target.fault(sim, drop=True)
    with pytest.raises(Unavailable):
        target.run(sim, http)
    assert sim_device(sim, S7)["status"]["mode"] == "charge"
    assert target.hits(sim) == 1


def test_a_dropped_action_does_not_move_the_mower(sim, http):
    target = WRITES["mammotion-action"]
    target.fault(sim, drop=True)
    with pytest.raises(Unavailable):
        target.run(sim, http)
    state = sim.state()["vendors"]["mammotion"]["devices"][device_ids(sim)[YUKA]]
    assert state["status"] == "Working"
