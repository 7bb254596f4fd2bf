"""Transport failures over real sockets on 127.0.0.1 (quality.md R4/R5; spec 5.5 item 10)."""

from __future__ import annotations

import time

import pytest
from werkzeug import Request, Response

from devices.clouds import (
    BadResponse,
    Command,
    InMemoryTokenStore,
    MammotionAccountClient,
    MammotionClient,
    Qihoo360Client,
    RateLimited,
    Unavailable,
)

from . import samples
from .conftest import CLIENT_ID, CLIENT_SECRET, fresh_tokens

FAST = (0.5, 0.3)  # (connect, read) seconds


def qclient_at(session, base: str) -> Qihoo360Client:
    return Qihoo360Client(
        session, qid=samples.QID, sid=samples.SID, api_url=base, timeout=FAST, retry_pause=0
    )


def mclient_at(session, base: str) -> MammotionClient:
    return MammotionClient(
        session,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_store=InMemoryTokenStore(fresh_tokens()),
        timeout=FAST,
        api_url=base,
        auth_url=base,
        retry_pause=0,
    )


class Slow:
    """A handler slower than the read timeout; counts requests as they arrive."""

    def __init__(self):
        self.arrived = 0

    def __call__(self, request: Request) -> Response:
        self.arrived += 1
        time.sleep(0.6)
        return Response('{"errno":0,"data":{"list":[]}}', content_type="application/json")


def test_a_slow_read_times_out_as_unavailable_after_one_retry(server, session):
    slow = Slow()
    server.expect_request("/common/dev/GetList").respond_with_handler(slow)
    client = qclient_at(session, server.url_for("").rstrip("/"))
    started = time.monotonic()
    with pytest.raises(Unavailable) as info:
        client.list_devices()
    assert time.monotonic() - started < 2.5
    assert client.requests_made == 2 and slow.arrived == 2
    assert "timed out" in str(info.value) and info.value.retryable


def test_a_slow_command_times_out_once_and_is_not_resent(server, session):
    slow = Slow()
    server.expect_request("/clean/cmd/send").respond_with_handler(slow)
    client = qclient_at(session, server.url_for("").rstrip("/"))
    with pytest.raises(Unavailable):
        client.send_command(samples.SN, Command.START)
    time.sleep(0.4)  # a resend would have arrived by now
    assert client.requests_made == 1 and slow.arrived == 1


def test_refused_connection_is_unavailable_and_reads_retry_once(session, closed_port):
    client = qclient_at(session, f"http://127.0.0.1:{closed_port}")
    with pytest.raises(Unavailable) as info:
        client.list_devices()
    assert client.requests_made == 2
    assert "connection failed" in str(info.value)
    with pytest.raises(Unavailable):
        client.send_command(samples.SN, Command.STOP)
    assert client.requests_made == 3


def test_refused_connection_on_mammotion(session, closed_port):
    client = mclient_at(session, f"http://127.0.0.1:{closed_port}")
    with pytest.raises(Unavailable):
        client.list_devices()
    with pytest.raises(Unavailable):
        client.stop(samples.DEVICE_ID)
    assert client.requests_made == 3  # read: 2 attempts, action: 1


def test_a_dropped_connection_is_unavailable(session, dropping_server):
    client = qclient_at(session, dropping_server)
    with pytest.raises(Unavailable):
        client.list_devices()
    assert client.requests_made == 2


def test_retry_after_over_a_real_socket(server, session):
    server.expect_request("/v1/mowers").respond_with_data(
        "", status=429, headers={"Retry-After": "17"}
    )
    with pytest.raises(RateLimited) as info:
        mclient_at(session, server.url_for("").rstrip("/")).list_devices()
    assert info.value.retry_after == 17


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_over_a_real_socket(server, session, status):
    server.expect_request("/v1/mowers").respond_with_data("down", status=status)
    with pytest.raises(Unavailable) as info:
        mclient_at(session, server.url_for("").rstrip("/")).list_devices()
    assert info.value.http_status == status


def test_an_html_error_page_with_200_over_a_real_socket(server, session):
    server.expect_request("/user-server/v1/area").respond_with_data(
        "<html><title>Maintenance</title></html>", content_type="text/html"
    )
    client = MammotionAccountClient(
        session, timeout=FAST, user_url=server.url_for(""), retry_pause=0
    )
    with pytest.raises(BadResponse) as info:
        client.list_areas()
    assert info.value.transient and "Maintenance" in info.value.excerpt


def test_a_truncated_gzip_body_is_transient(server, session):
    raw = b'{"errno":0,"data":{"list":[{"sn":"A"'
    server.expect_request("/common/dev/GetList").respond_with_data(
        raw, content_type="application/json"
    )
    with pytest.raises(BadResponse) as info:
        qclient_at(session, server.url_for("").rstrip("/")).list_devices()
    assert info.value.transient
