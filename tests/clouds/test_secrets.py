"""No secret ever reaches a log line, an exception or an excerpt (D-X-4, quality.md S8)."""

from __future__ import annotations

import logging

import pytest
import requests

from devices.clouds import (
    BadResponse,
    CloudError,
    Command,
    InMemoryTokenStore,
    MammotionAccountClient,
    Qihoo360Client,
    Redactor,
    shorten,
)
from devices.clouds.errors import make_excerpt

from . import samples
from .conftest import API, CLIENT_SECRET, OPEN_API, TIMEOUT, TOKEN_URL, USER_API, make_mclient

Q = "u=360H2000000002&n=demo&qid=2000000002&t=1"
T = "s=simT2000000002&t=1&v=2.0&a=1"
NEW_SID = "fe" * 16
NEW_PUSH_KEY = "push-key-renewed-0001"
APP_PASSWORD = "Secret-Mower-Pass9"


def test_redactor_masks_registered_values_and_secret_patterns():
    redactor = Redactor("4a20145c62428d31b52b53c9ccbfcee4", None, "", "ab")
    text = redactor.clean(
        "sid=4a20145c62428d31b52b53c9ccbfcee4; x=1 access_token=abc.def "
        '{"refresh_token": "r-123", "pushKey":"pk"} Authorization: Bearer eyJ.x.y '
        "quoted 4a20145c62428d31b52b53c9ccbfcee4 password=hunter22&next=1 ab"
    )
    for secret in (
        "4a20145c62428d31b52b53c9ccbfcee4",
        "abc.def",
        "r-123",
        '"pk"',
        "eyJ.x.y",
        "hunter22",
    ):
        assert secret not in text
    assert "next=1" in text and text.endswith(" ab")  # short values are not "secrets"


def test_redactor_masks_percent_encoded_forms():
    redactor = Redactor(Q)
    assert "360H2000000002%26n" not in redactor.clean(
        "q=u%3D360H2000000002%26n%3Ddemo%26qid%3D2000000002%26t%3D1"
    )


def test_shorten_keeps_four_characters():
    assert shorten("4a20145c62428d31") == "4a20…" and shorten(None) == ""


def test_excerpts_are_redacted_before_truncation():
    secret = "s" * 40
    text = "x" * 280 + f'"access_token":"{secret}"'
    excerpt = make_excerpt(text)
    assert "ssss" not in excerpt and len(excerpt) <= 301


def test_vendor_messages_echoing_the_sid_are_redacted(mocked, qclient):
    mocked.post(
        f"{API}/clean/cmd/send", json={"errno": 9999, "errmsg": f"bad session {samples.SID}"}
    )
    with pytest.raises(CloudError) as info:
        qclient.send_command(samples.SN, Command.FIND)
    assert samples.SID not in str(info.value) and samples.SID not in info.value.user_message


def test_bad_response_excerpts_hide_known_secrets(mocked, qclient):
    mocked.post(f"{API}/common/dev/GetList", body=f"<html>{samples.PUSH_KEY} {samples.SID}</html>")
    with pytest.raises(BadResponse) as info:
        qclient.list_devices()
    assert samples.SID not in info.value.excerpt and samples.PUSH_KEY not in info.value.excerpt


def test_reprs_hide_secrets(qclient, mclient):
    assert samples.SID not in repr(qclient) and "4a20…" in repr(qclient)
    assert CLIENT_SECRET not in repr(mclient)


def everything_logged(caplog) -> str:
    return "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)


def test_a_full_360_session_logs_no_secret(mocked, session, caplog):
    def renew(failed_sid: str) -> str:
        return client.login(notify_id="1" * 32, imei="2" * 32).sid

    client = Qihoo360Client(
        session,
        qid="2000000002",
        q=Q,
        t=T,
        sid=samples.SID,
        renew_sid=renew,
        timeout=TIMEOUT,
        retry_pause=0,
    )
    login = {"errno": 0, "errmsg": "Succeeded", "data": {"sid": NEW_SID, "pushKey": NEW_PUSH_KEY}}
    mocked.post(
        f"{API}/common/dev/GetList", json={"errno": 102, "errmsg": f"sid {samples.SID} expired"}
    )
    mocked.post(f"{API}/common/user/login", json=login)
    mocked.post(f"{API}/common/dev/GetList", json=samples.GETLIST)
    mocked.post(
        f"{API}/clean/record/recentlycleanlist", json={"errno": 0, "data": {"sid": NEW_SID}}
    )
    mocked.post(f"{API}/clean/cmd/send", body="<html>" + NEW_PUSH_KEY + "</html>")
    with caplog.at_level(logging.DEBUG):
        client.list_devices()
        client.get_period_series("SN-SECRETS", utc_offset_hours=1)
        with pytest.raises(BadResponse):
            client.send_command(samples.SN, Command.FIND)
    logged = everything_logged(caplog)
    assert "renewing" in logged and "unknown shape" in logged  # the logs did happen
    for secret in (samples.SID, NEW_SID, NEW_PUSH_KEY, Q, T, "360H2000000002&n=demo"):
        assert secret not in logged


def test_a_full_mammotion_session_logs_no_secret(mocked, session, caplog):
    store = InMemoryTokenStore()
    client = make_mclient(session, store)
    account = MammotionAccountClient(session, timeout=TIMEOUT, retry_pause=0)
    mocked.post(TOKEN_URL, json=samples.OPEN_TOKEN)
    mocked.get(f"{OPEN_API}/v1/mowers", body="<html>eyJhbGciOiJIUzI1NiJ9.new-access.sig</html>")
    mocked.post(
        f"{USER_API}/user/oauth/token",
        body=requests.ConnectionError(f"url=/x?password={APP_PASSWORD}"),
    )
    mocked.post(
        f"{USER_API}/user/oauth/check", json={"code": 7, "msg": "token app-access-token-0001 bad"}
    )
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(BadResponse) as bad:
            client.list_devices()
        with pytest.raises(CloudError) as login_error:
            account.login("owner@example.com", APP_PASSWORD)
        with pytest.raises(CloudError) as check_error:
            account.check_token("app-access-token-0001")
    logged = everything_logged(caplog) + str(bad.value) + bad.value.excerpt
    logged += str(login_error.value) + str(check_error.value) + check_error.value.user_message
    assert "new token" in logged
    for secret in (
        CLIENT_SECRET,
        "eyJhbGciOiJIUzI1NiJ9.new-access.sig",
        "refresh-new-0002",
        APP_PASSWORD,
        "app-access-token-0001",
    ):
        assert secret not in logged
