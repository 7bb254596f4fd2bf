"""Linking 360 Smart accounts against the simulator over HTTP: both methods, every error
the vendor can answer, and that nothing is stored when the cloud says no."""

# Fixtures are imported from test_linking_fixtures (no conftest of our own here).
# ruff: noqa: F811

import re

import pytest

from devices import linking
from devices.cloud import client_for
from devices.linking import NO_PUSH_KEY, LinkError
from devices.models import AccountStatus, CloudAccount, Device, LinkMethod, Vendor
from tests.devices.test_linking_fixtures import (  # noqa: F401
    PUSH_KEY,
    QID,
    QT_QID,
    SID,
    Q,
    T,
    cloud,
    nothing_stored,
    sync_calls,
)


def link_sid(home, alice, **overrides):
    args = {"qid": QID, "sid": SID, "push_key": PUSH_KEY, **overrides}
    return linking.link_qihoo360_sid(household=home, user=alice, **args)


def link_qt(home, alice, **overrides):
    args = {"qid": QT_QID, "q": Q, "t": T, **overrides}
    return linking.link_qihoo360_qt(household=home, user=alice, **args)


def failure(call, *args, **kwargs) -> LinkError:
    with pytest.raises(LinkError) as caught:
        call(*args, **kwargs)
    assert nothing_stored()
    return caught.value


# --- method 1: QID and SID -------------------------------------------------------------


def test_qid_and_sid_link_the_account_and_discover_its_four_vacuums(cloud, home, alice, sync_calls):
    result = link_sid(home, alice)

    account = result.account
    assert result.created and result.notes == ()
    assert (account.vendor, account.method) == (Vendor.QIHOO360, LinkMethod.QIHOO360_SID)
    assert (account.identity, account.label) == (QID, "360 Smart (QID 1234123412)")
    assert account.status == AccountStatus.OK and account.created_by == alice
    assert account.credentials() == {"sid": SID, "push_key": PUSH_KEY}
    names = set(Device.objects.filter(account=account).values_list("name", flat=True))
    assert names == {"Living room", "Upstairs", "Garage", "Office"}
    assert result.summary() == "Linked 360 Smart (QID 1234123412). Found 4 machines."
    assert sync_calls == [(account.pk, "link")]
    assert len(cloud.requests("qihoo360", "/common/dev/GetList")) == 1  # no second list


def test_without_a_push_key_the_person_is_told_live_status_is_missing(
    cloud, home, alice, sync_calls
):
    result = link_sid(home, alice, push_key="", label="Downstairs")
    assert result.notes == (NO_PUSH_KEY,)
    assert result.account.credentials() == {"sid": SID}
    assert result.account.label == "Downstairs"


def test_a_wrong_sid_is_rejected_at_the_sid_field(cloud, home, alice, sync_calls):
    error = failure(link_sid, home, alice, sid="0" * 32)
    assert error.field == "sid"
    assert "360 did not accept this SID" in error.message and "errno 102" in error.message
    assert sync_calls == []


def test_an_expired_sid_is_rejected_the_same_way(cloud, home, alice):
    cloud.control("POST", f"360/accounts/{QID}/expire-sid")
    assert "did not accept this SID" in failure(link_sid, home, alice).message


def test_a_sid_of_another_qid_is_rejected_too(cloud, home, alice):
    error = failure(link_sid, home, alice, qid="1111111111")
    assert error.field == "sid"


def test_a_deactivated_360_account_is_a_rejected_sid(cloud, home, alice):
    cloud.control("POST", f"360/accounts/{QID}/deactivate")
    assert failure(link_sid, home, alice).field == "sid"


# --- method 2: Q and T cookies ---------------------------------------------------------


def test_q_and_t_cookies_log_in_and_store_the_session_and_a_stable_identity(
    cloud, home, alice, sync_calls
):
    result = link_qt(home, alice)

    account = result.account
    assert account.method == LinkMethod.QIHOO360_QT and account.identity == QT_QID
    secrets = account.credentials()
    assert set(secrets) == {"q", "t", "sid", "push_key", "notify_id", "imei"}
    assert (secrets["q"], secrets["t"]) == (Q, T)
    assert re.fullmatch(r"[0-9a-f]{32}", secrets["sid"]) and secrets["push_key"]
    assert re.fullmatch(r"[0-9a-f]{32}", secrets["notify_id"])
    assert [d.name for d in account.devices.all()] == ["Office"]  # shared from "sid"
    assert len(cloud.requests("qihoo360", "/common/user/login")) == 1
    # The stored session works for the next client, without another login.
    assert len(client_for(account).list_devices()) == 1
    assert len(cloud.requests("qihoo360", "/common/user/login")) == 1


def test_percent_encoded_cookies_are_accepted(cloud, home, alice, sync_calls):
    encoded = Q.replace("=", "%3D").replace("&", "%26")
    assert link_qt(home, alice, q=encoded).account.identity == QT_QID


def test_revoked_q_and_t_are_rejected_with_errno_103(cloud, home, alice, sync_calls):
    cloud.control("POST", f"360/accounts/{QT_QID}/revoke-qt")
    error = failure(link_qt, home, alice)
    assert "360 rejected these Q and T cookies (errno 103)" in error.message
    assert error.field is None and sync_calls == []


def test_a_t_cookie_that_does_not_match_is_rejected(cloud, home, alice):
    assert "errno 103" in failure(link_qt, home, alice, t="s=wrong&t=1").message


def test_a_session_refused_right_after_login_is_explained(cloud, home, alice):
    cloud.add_fault(vendor="qihoo360", path="/common/dev/GetList", errno=102, count=2)
    error = failure(link_qt, home, alice)
    assert "issued a session for these cookies but then refused it" in error.message


def test_relinking_by_cookies_keeps_the_client_identity(cloud, home, alice, sync_calls):
    first = link_qt(home, alice).account.credentials()
    account = CloudAccount.objects.get()
    again = link_qt(home, alice, account=account).account.credentials()
    assert (again["notify_id"], again["imei"]) == (first["notify_id"], first["imei"])
    assert again["sid"] != first["sid"]


# --- errors every vendor call can meet (cloud-apis.md 3.4.3, 3.4.4, 5.2) ---------------


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"http_status": 429, "retry_after": 30}, "360 Smart is limiting requests right now"),
        ({"http_status": 503, "count": 2}, "The 360 Smart cloud is having trouble (HTTP 503)"),
        ({"delay": 2, "count": 2}, "The 360 Smart cloud did not answer within 1 seconds"),
        ({"drop": True, "count": 2}, "Could not connect to the 360 Smart cloud"),
        ({"malformed": "html", "count": 2}, "sent an answer the dashboard cannot read"),
        ({"errno": 9999, "errmsg": "param error"}, "360 Smart cloud: param error (error 9999)"),
        ({"error_code": 205}, "No permission"),
    ],
)
def test_vendor_failures_have_precise_messages_and_store_nothing(
    cloud, home, alice, fault, expected, sync_calls
):
    cloud.add_fault(vendor="qihoo360", path="/common/dev/GetList", **fault)
    error = failure(link_sid, home, alice)
    assert expected in error.message
    assert sync_calls == []


def test_an_unreachable_login_stores_nothing(cloud, home, alice):
    cloud.add_fault(vendor="qihoo360", path="/common/user/login", http_status=502)
    assert "HTTP 502" in failure(link_qt, home, alice).message


# --- duplicates and re-linking ---------------------------------------------------------


def test_the_same_qid_cannot_be_linked_twice(cloud, home, alice, sync_calls):
    first = link_sid(home, alice, label="Vacuums")
    with pytest.raises(LinkError) as caught:
        link_qt(home, alice, qid=QID)
    assert caught.value.field == "qid" and "already linked as “Vacuums”" in caught.value.message
    assert CloudAccount.objects.get() == first.account
    assert len(cloud.requests("qihoo360", "/common/user/login")) == 0  # refused before asking


def test_relink_with_another_qid_is_refused(cloud, home, alice, sync_calls):
    account = link_sid(home, alice).account
    with pytest.raises(LinkError) as caught:
        link_qt(home, alice, account=account)
    assert caught.value.field == "qid" and "This account is 1234123412" in caught.value.message


def test_a_failed_relink_changes_nothing(cloud, home, alice, sync_calls):
    account = link_sid(home, alice).account
    account.set_status(AccountStatus.REAUTH_REQUIRED, "The 360 session (SID) has expired.")
    token = CloudAccount.objects.get().credentials_token
    with pytest.raises(LinkError):
        link_sid(home, alice, sid="f" * 32, account=account)
    account.refresh_from_db()
    assert account.credentials_token == token
    assert account.status == AccountStatus.REAUTH_REQUIRED


def test_relink_with_a_fresh_sid_keeps_machines_and_history(cloud, home, alice, sync_calls):
    from devices.history import Run

    account = link_sid(home, alice).account
    device_ids = set(account.devices.values_list("pk", flat=True))
    Run.objects.create(device=account.devices.first(), remote_id="run-1")
    fresh_sid = cloud.control("POST", f"360/accounts/{QID}/new-sid")["sid"]  # SID expired
    account.set_status(AccountStatus.REAUTH_REQUIRED, "The 360 session (SID) has expired.")

    result = link_sid(home, alice, sid=fresh_sid, push_key="", account=account)

    assert not result.created and result.account.pk == account.pk
    assert result.summary().startswith("Re-linked 360 Smart (QID 1234123412).")
    account.refresh_from_db()
    assert account.status == AccountStatus.OK and account.status_message == ""
    assert account.credentials() == {"sid": fresh_sid}
    assert set(account.devices.values_list("pk", flat=True)) == device_ids
    assert Run.objects.filter(remote_id="run-1", device__account=account).exists()
    assert sync_calls[-1] == (account.pk, "link")
