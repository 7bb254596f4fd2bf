"""360 client: every error the cloud can answer (cloud-apis.md 3.3.3, 3.4.2-3.4.4)."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import requests

from devices.clouds import (
    AuthExpired,
    BadResponse,
    CloudError,
    Command,
    DeviceOffline,
    NoPermission,
    Qihoo360Client,
    RateLimited,
    Unavailable,
)
from devices.clouds.qihoo360_parse import unwrap_envelope

from . import samples
from .conftest import API, TIMEOUT

GETLIST = f"{API}/common/dev/GetList"
CMD = f"{API}/clean/cmd/send"
LOGIN = f"{API}/common/user/login"
NEW_SID = "5b31256d73539e42c63c64d0ddc0dff5"
EXPIRED = {"errno": 102, "errmsg": "session expired"}


def sid_of(call) -> str:
    return call.request.headers["Cookie"].rsplit("sid=", 1)[1]


def taskid_of(call) -> str:
    return parse_qs(call.request.body.decode())["taskid"][0]


class Renewer:
    """A stand-in for the service's renew_sid: records calls, returns a new SID."""

    def __init__(self, result: str = NEW_SID, error: Exception | None = None):
        self.calls: list[str] = []
        self.result, self.error = result, error

    def __call__(self, failed_sid: str) -> str:
        self.calls.append(failed_sid)
        if self.error:
            raise self.error
        return self.result


def renewing_client(session, renewer) -> Qihoo360Client:
    return Qihoo360Client(
        session,
        qid="2000000002",
        q="u=360H2000000002&t=1",
        t="s=T&t=1",
        sid=samples.SID,
        renew_sid=renewer,
        timeout=TIMEOUT,
        retry_pause=0,
    )


# --- SID expiry and renewal (3.3.1, 3.3.3) --------------------------------------------


def test_errno_102_without_a_callback_is_auth_expired_and_no_login(mocked, qclient):
    mocked.post(GETLIST, json=EXPIRED)
    with pytest.raises(AuthExpired) as info:
        qclient.list_devices()
    assert info.value.vendor_code == 102 and info.value.retryable is False
    assert "SID" in info.value.user_message and "expired" in info.value.user_message
    assert len(mocked.calls) == 1  # neither a retry nor a login attempt


def test_errno_102_with_a_callback_renews_and_retries_once(mocked, session):
    renewer = Renewer()
    client = renewing_client(session, renewer)
    mocked.post(GETLIST, json=EXPIRED)
    mocked.post(GETLIST, json=samples.GETLIST)
    assert client.list_devices()[0].remote_id == samples.SN
    assert renewer.calls == [samples.SID]
    assert [sid_of(c) for c in mocked.calls] == [samples.SID, NEW_SID]
    assert client.sid == NEW_SID


def test_a_command_rejected_with_102_is_resent_once_with_the_same_taskid(mocked, session):
    client = renewing_client(session, Renewer())
    mocked.post(CMD, json=EXPIRED)
    mocked.post(CMD, json=samples.ACK)
    result = client.send_command(samples.SN, Command.START)
    assert len(mocked.calls) == 2
    assert taskid_of(mocked.calls[0]) == taskid_of(mocked.calls[1]) == result.task_id


def test_second_102_after_renewal_is_auth_expired_without_a_loop(mocked, session):
    renewer = Renewer()
    client = renewing_client(session, renewer)
    mocked.post(GETLIST, json=EXPIRED)
    with pytest.raises(AuthExpired) as info:
        client.list_devices()
    assert len(renewer.calls) == 1 and len(mocked.calls) == 2
    assert "again" in str(info.value)
    assert info.value.user_message


@pytest.mark.parametrize(
    "answer",
    [
        {"json": {"errno": 0, "errorCode": 102, "errmsg": "sweeper login expired"}},
        {"json": {"errno": "102", "errmsg": "expired"}},
        {"status": 401, "body": "Unauthorized"},
    ],
)
def test_error_code_102_string_102_and_http_401_all_trigger_renewal(mocked, session, answer):
    renewer = Renewer()
    client = renewing_client(session, renewer)
    mocked.post(GETLIST, **answer)
    mocked.post(GETLIST, json=samples.GETLIST)
    client.list_devices()
    assert renewer.calls == [samples.SID]


def test_renewal_that_fails_raises_the_callbacks_auth_expired(mocked, session):
    renewer = Renewer(error=AuthExpired("Q/T rejected", user_message="Link the 360 account again."))
    client = renewing_client(session, renewer)
    mocked.post(GETLIST, json=EXPIRED)
    with pytest.raises(AuthExpired) as info:
        client.list_devices()
    assert info.value.user_message == "Link the 360 account again."
    assert len(mocked.calls) == 1


def test_renewal_that_returns_the_failed_sid_is_auth_expired_without_a_retry(mocked, session):
    client = renewing_client(session, Renewer(result=samples.SID))
    mocked.post(GETLIST, json=EXPIRED)
    with pytest.raises(AuthExpired):
        client.list_devices()
    assert len(mocked.calls) == 1


def test_method2_client_without_a_sid_asks_the_callback_first(mocked, session):
    renewer = Renewer()
    client = Qihoo360Client(
        session, qid="2", q="u=360H2", t="s=T", renew_sid=renewer, timeout=TIMEOUT
    )
    mocked.post(GETLIST, json=samples.GETLIST)
    client.list_devices()
    assert renewer.calls == [""] and sid_of(mocked.calls[0]) == NEW_SID


@pytest.mark.parametrize(
    "answer",
    [
        {"json": {"errno": 103, "errmsg": "not authorised"}},
        {"json": {"errno": 102, "errmsg": "expired"}},
        {"json": {"errno": 9999, "errmsg": "param error"}},
        {"status": 401, "body": ""},
    ],
)
def test_login_failures_mean_the_q_t_cookies_are_gone(mocked, session, answer):
    client = Qihoo360Client(session, qid="2", q="u=360H2", t="s=T", timeout=TIMEOUT)
    mocked.post(LOGIN, **answer)
    with pytest.raises(AuthExpired) as info:
        client.login(notify_id="a" * 32, imei="b" * 32)
    assert (
        info.value.user_message
        == "360 no longer accepts these Q/T cookies. Link the account again."
    )
    assert len(mocked.calls) == 1


def test_login_without_a_sid_in_the_answer_is_a_bad_response(mocked, session):
    client = Qihoo360Client(session, qid="2", q="u=360H2", t="s=T", timeout=TIMEOUT)
    mocked.post(LOGIN, json={"errno": 0, "errmsg": "Succeeded", "data": {"pushKey": "pk-secret-1"}})
    with pytest.raises(BadResponse) as info:
        client.login(notify_id="a" * 32, imei="b" * 32)
    assert "pk-secret-1" not in info.value.excerpt and "pk-secret-1" not in str(info.value)


# --- errno table (3.4.3) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error", "user_message"),
    [
        (
            {"errno": 103, "errmsg": "x"},
            AuthExpired,
            "The cloud session has expired. Link the account again.",
        ),
        (
            {"errno": 0, "errorCode": 205, "errmsg": "no permission"},
            NoPermission,
            "No permission for this device. Refresh the device list.",
        ),
        (
            {"errno": 205, "errorCode": 205},
            NoPermission,
            "No permission for this device. Refresh the device list.",
        ),
        ({"errno": 212, "errmsg": "offline"}, DeviceOffline, "The device is offline."),
        ({"errno": "212", "errmsg": "offline"}, DeviceOffline, "The device is offline."),
        ({"errno": " 212 ", "errmsg": "offline"}, DeviceOffline, "The device is offline."),
        ({"errno": 0, "errorCode": "212"}, DeviceOffline, "The device is offline."),
        (
            {"errno": 9999, "errmsg": "param error"},
            CloudError,
            "360 Smart cloud: param error (error 9999)",
        ),
        ({"errno": 10001}, CloudError, "360 Smart cloud: Error 10001"),
        ({"errno": "abc", "errmsg": "odd"}, CloudError, "360 Smart cloud: odd (unknown error)"),
    ],
)
def test_errno_mapping(mocked, qclient, body, error, user_message):
    mocked.post(CMD, json=body)
    with pytest.raises(error) as info:
        qclient.send_command(samples.SN, Command.FIND)
    assert type(info.value) is error or issubclass(type(info.value), error)
    assert info.value.user_message == user_message
    assert info.value.retryable is False
    assert len(mocked.calls) == 1


def test_unknown_errno_is_a_plain_cloud_error_with_number_and_message(mocked, qclient):
    mocked.post(CMD, json={"errno": 9999, "errmsg": "param error"})
    with pytest.raises(CloudError) as info:
        qclient.send_command(samples.SN, Command.FIND)
    assert type(info.value) is CloudError
    assert info.value.vendor_code == 9999
    assert "9999" in str(info.value) and "param error" in str(info.value)


def test_error_code_wins_over_a_successful_errno():
    with pytest.raises(DeviceOffline):
        unwrap_envelope({"errno": 0, "errmsg": "Succeeded", "errorCode": 212, "data": {}})
    assert unwrap_envelope({"errno": 0, "errorCode": 0, "data": {"a": 1}}) == {"a": 1}
    assert unwrap_envelope({"errno": "0"}) == {}
    assert unwrap_envelope({"errno": 0, "data": None}) == {}


@pytest.mark.parametrize("body", [[], {"errmsg": "no errno"}, "text", None, 3])
def test_an_envelope_of_the_wrong_shape_is_a_bad_response(body):
    with pytest.raises(BadResponse) as info:
        unwrap_envelope(body)
    assert info.value.transient is False


# --- HTTP status and malformed bodies (3.4.4) -----------------------------------------


def test_http_429_is_rate_limited_with_retry_after(mocked, qclient):
    mocked.post(GETLIST, status=429, headers={"Retry-After": "42"})
    with pytest.raises(RateLimited) as info:
        qclient.list_devices()
    assert info.value.retry_after == 42 and info.value.retryable
    assert info.value.user_message == "The 360 Smart cloud is throttling requests. Try again later."


def test_retry_after_is_capped_and_optional(mocked, qclient):
    mocked.post(GETLIST, status=429, headers={"Retry-After": "86400"})
    mocked.post(GETLIST, status=429)
    with pytest.raises(RateLimited) as first:
        qclient.list_devices()
    with pytest.raises(RateLimited) as second:
        qclient.list_devices()
    assert first.value.retry_after == 300 and second.value.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_unavailable_and_a_command_is_sent_once(mocked, qclient, status):
    mocked.post(CMD, status=status, headers={"Retry-After": "7"})
    with pytest.raises(Unavailable) as info:
        qclient.send_command(samples.SN, Command.START)
    assert info.value.retry_after == 7 and info.value.http_status == status
    assert (
        info.value.user_message
        == "The 360 Smart cloud is having trouble right now. Try again later."
    )
    assert len(mocked.calls) == 1


def test_other_http_statuses_are_generic_errors(mocked, qclient):
    mocked.post(GETLIST, status=404, body="not here")
    with pytest.raises(CloudError) as info:
        qclient.list_devices()
    assert info.value.http_status == 404 and not info.value.retryable
    assert info.value.user_message == "The 360 cloud answered HTTP 404."


@pytest.mark.parametrize(
    ("body", "transient"),
    [
        ("<html><body>502 Bad Gateway</body></html>", True),
        ("", True),
        ('{"errno":0,"errmsg":"Succ', True),
        ("[1, 2, 3]", False),
    ],
)
def test_malformed_bodies_are_bad_responses(mocked, qclient, body, transient):
    mocked.post(GETLIST, body=body, status=200, content_type="text/html")
    with pytest.raises(BadResponse) as info:
        qclient.list_devices()
    assert info.value.transient is transient and info.value.retryable is transient
    assert info.value.user_message == "The cloud sent an unexpected answer. Try again later."
    assert info.value.excerpt == body[:300]


def test_reads_are_retried_once_on_a_connection_error(mocked, qclient):
    mocked.post(GETLIST, body=requests.ConnectionError("refused"))
    mocked.post(GETLIST, json=samples.GETLIST)
    assert qclient.list_devices()
    assert qclient.requests_made == 2


def test_reads_give_up_after_the_second_failure(mocked, qclient):
    mocked.post(GETLIST, body=requests.Timeout("slow"))
    with pytest.raises(Unavailable) as info:
        qclient.list_devices()
    assert len(mocked.calls) == 2
    assert "timed out" in str(info.value)
    assert (
        info.value.user_message
        == "The 360 Smart cloud is not reachable right now. Try again later."
    )


@pytest.mark.parametrize("path", ["/clean/cmd/send", "/clean/devuser/updateInfo"])
def test_writes_are_never_retried_on_a_transport_error(mocked, qclient, path):
    mocked.post(f"{API}{path}", body=requests.ConnectionError("reset"))
    with pytest.raises(Unavailable):
        if path.endswith("send"):
            qclient.send_command(samples.SN, Command.START)
        else:
            qclient.rename_device(samples.SN, "Hall")
    assert len(mocked.calls) == 1
