"""The listener survives what the push channel and the sessions do to it (3.7.8, 3.3.3)."""

from __future__ import annotations

import logging

import pytest

from devices.cloud import read_credentials
from devices.models import AccountStatus, CloudAccount
from devices.push_listener import WRONG_KEY_MESSAGE
from tests.live.helpers import (
    PUSH_KEY,
    QID,
    QT_QID,
    S7,
    SID,
    X95,
    device,
    status_requests,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


def bound_connections(sim, qid: str) -> list[dict]:
    return [c for c in sim.push_connections() if c["qid"] == qid and c["bound"]]


def new_status(account, sn: str, after):
    row = device(account, sn)
    return row.status_observed_at is not None and row.status_observed_at > after and row


@pytest.mark.parametrize("how", ["drop", "kick"])
def test_a_closed_connection_is_reconnected_and_status_flows_again(
    sim, sid_account, start_listener, how
):
    listener = start_listener()
    before = wait_for(lambda: device(sid_account, S7).status_observed_at, what="first status")
    first = wait_for(lambda: bound_connections(sim, QID), what="bound")[0]
    if how == "drop":
        assert sim.drop_push(QID) == 1
    else:
        sim.knobs(push_kick=True)
    again = wait_for(
        lambda: [c for c in bound_connections(sim, QID) if c["id"] != first["id"]],
        what="a new bound connection",
    )
    assert len(again) == 1
    # After binding again the listener asks for the state it may have missed.
    wait_for(lambda: new_status(sid_account, S7, before), what="status after reconnecting")
    assert listener.listener.counters["reconnects"] >= 1
    assert listener.bound(sid_account)


def test_an_expired_sid_of_a_cookie_account_is_renewed_and_bound_again(
    sim, qt_account, start_listener
):
    start_listener()
    before = wait_for(lambda: device(qt_account, X95).status_observed_at, what="first status")
    old_sid = read_credentials(qt_account)["sid"]
    sim.control("POST", f"360/accounts/{QT_QID}/expire-sid")
    # The simulator closes the connection; binding again fails (r:1); the listener checks
    # the session over HTTP, where the client renews the SID (3.3.3), and binds again.
    wait_for(lambda: new_status(qt_account, X95, before), timeout=20, what="status after renewal")
    fresh = CloudAccount.objects.get(pk=qt_account.pk)
    creds = read_credentials(fresh)
    assert creds["sid"] != old_sid
    assert fresh.status == AccountStatus.OK
    sim_account = next(
        a for a in sim.control("GET", "360/accounts")["accounts"] if a["qid"] == QT_QID
    )
    assert (creds["sid"], creds["push_key"]) == (sim_account["sid"], sim_account["pushKey"])
    assert len(bound_connections(sim, QT_QID)) == 1
    logins = sim.requests(vendor="qihoo360", path="/common/user/login")
    assert len(logins) == 2  # linking, then one renewal


def test_an_expired_sid_of_a_sid_account_asks_for_a_relink(sim, sid_account, start_listener):
    listener = start_listener()
    wait_for(lambda: device(sid_account, S7).status_observed_at, what="first status")
    sim.control("POST", f"360/accounts/{QID}/expire-sid")
    account = wait_for(
        lambda: (
            (a := CloudAccount.objects.get(pk=sid_account.pk)).status
            == AccountStatus.REAUTH_REQUIRED
            and a
        ),
        timeout=20,
        what="account flagged",
    )
    assert "SID" in account.status_message
    wait_for(lambda: not listener.accounts, what="account dropped")
    assert bound_connections(sim, QID) == []


def test_a_rejected_bind_with_a_working_sid_backs_off_without_flagging(
    sim, sid_account, start_listener
):
    sim.knobs(push_bind_reject=True)
    listener = start_listener()
    wait_for(lambda: listener.listener.counters["reconnects"] >= 3, timeout=15, what="retries")
    assert CloudAccount.objects.get(pk=sid_account.pk).status == AccountStatus.OK
    sim.knobs(push_bind_reject=False)
    wait_for(lambda: device(sid_account, S7).status_observed_at, timeout=15, what="status")


def test_a_garbage_frame_is_skipped_with_a_log_line_and_no_content(
    sim, sid_account, start_listener, caplog
):
    caplog.set_level(logging.DEBUG)
    listener = start_listener()
    before = wait_for(lambda: device(sid_account, S7).status_observed_at, what="first status")
    sim.set_speed(0)
    sim.knobs(push_malformed=True)
    sim.control("POST", f"360/devices/{S7}", {"mode": "idle"})  # an unsolicited status
    wait_for(
        lambda: any("malformed message frame dropped" in r.getMessage() for r in caplog.records),
        what="the log line",
    )
    assert device(sid_account, S7).state == "charge"  # the garbage was not applied
    sim.advance(31)  # unacknowledged: the simulator sends it again, well-formed
    wait_for(lambda: device(sid_account, S7).state == "idle", what="the re-sent status")
    assert device(sid_account, S7).status_observed_at > before
    assert listener.bound(sid_account)
    assert listener.listener.counters["reconnects"] == 0
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert SID not in text and PUSH_KEY not in text and SID[:8] not in text


def test_messages_under_a_wrong_key_flag_the_account_and_nothing_crashes(
    sim, sid_account, start_listener, caplog
):
    sim.knobs(push_bad_key=True)
    listener = start_listener()
    account = wait_for(
        lambda: (
            (a := CloudAccount.objects.get(pk=sid_account.pk)).status == AccountStatus.ERROR and a
        ),
        what="account flagged",
    )
    assert account.status_message == WRONG_KEY_MESSAGE
    wait_for(lambda: not listener.accounts and not bound_connections(sim, QID), what="dropped")
    assert device(sid_account, S7).status_observed_at is None  # nothing garbled was stored
    # Still running: a sync that marks the account OK again does not bring back the same
    # bad key at once (it is retried after an hour), and other accounts go on.
    sid_account.set_status(AccountStatus.OK)
    wait_for(lambda: listener.listener.counters["refreshes"] >= 4)
    assert listener.thread.is_alive() and not listener.accounts
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert SID not in text and PUSH_KEY not in text


def test_an_offline_answer_marks_the_device_offline(sim, sid_account, start_listener):
    sim.control("POST", f"360/devices/{S7}", {"online": False})
    listener = start_listener()
    wait_for(lambda: status_requests(sim, S7), what="a status request")
    wait_for(lambda: not device(sid_account, S7).online, what="marked offline")
    assert listener.listener.counters["request_errors"] >= 1
