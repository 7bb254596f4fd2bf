"""Fault injection: each vendor failure ends in its documented state, and once the fault
clears the archive is complete (nothing lost, nothing duplicated)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from devices import sync, sync_job
from devices.clouds.qihoo360 import READ_PATHS
from devices.history import Run, SyncOutcome, SyncRecord
from devices.machines import Device
from devices.models import AccountStatus, CloudAccount

from .conftest import QT_QID, SID_ONLINE_SNS, SID_QID, make_account, sim_run_counts, sync_now

pytestmark = pytest.mark.django_db


def make_due(account):
    CloudAccount.objects.filter(pk=account.pk).update(next_sync_at=timezone.now())


def last_record(account) -> SyncRecord:
    return SyncRecord.objects.filter(account=account).first()


def assert_complete(account, sim):
    counts = {
        d.remote_id: Run.objects.filter(device=d).count()
        for d in Device.objects.filter(account=account)
    }
    assert counts == sim_run_counts(sim)


def test_429_with_retry_after_throttles_then_catches_up(home, sim_settings, queued):
    account = make_account(home, "sid")
    rule = sim_settings.add_fault(
        vendor="qihoo360", path="/clean/record/getList", http_status=429, retry_after=120, count=-1
    )
    assert sync_now(account) == SyncOutcome.THROTTLED
    account.refresh_from_db()
    assert account.status == AccountStatus.THROTTLED and "throttl" in account.status_message
    assert account.next_sync_at >= timezone.now() + timedelta(seconds=115)
    assert account.consecutive_failures == 1 and account.lease_token == ""
    # 429 is not retried by the client: exactly one listing request.
    assert len(sim_settings.requests(vendor="qihoo360", path="/clean/record/getList")) == 1
    assert sync.dispatch_due() == 0  # backing off

    sim_settings.remove_fault(rule)
    make_due(account)
    assert sync_now(account) == SyncOutcome.OK
    account.refresh_from_db()
    assert account.status == AccountStatus.OK and account.consecutive_failures == 0
    assert_complete(account, sim_settings)


def test_a_burst_of_5xx_backs_off_exponentially_then_succeeds(home, sim_settings):
    account = make_account(home, "sid")
    rule = sim_settings.add_fault(
        vendor="qihoo360", path="/common/dev/GetList", http_status=503, count=-1
    )
    delays = []
    for _ in range(3):
        assert sync_now(account) == SyncOutcome.UNAVAILABLE
        account.refresh_from_db()
        assert account.status == AccountStatus.ERROR
        delays.append((account.next_sync_at - last_record(account).ended_at).total_seconds())
        assert last_record(account).requests <= 2  # the client's one retry of a read, no more
        make_due(account)
    assert 25 <= delays[0] <= 61 and 55 <= delays[1] <= 121 and 115 <= delays[2] <= 241
    sim_settings.remove_fault(rule)
    assert sync_now(account) == SyncOutcome.OK
    account.refresh_from_db()
    assert account.status == AccountStatus.OK and account.consecutive_failures == 0
    assert_complete(account, sim_settings)


def test_a_vendor_slower_than_the_read_timeout_is_unavailable(home, sim_settings, settings):
    settings.SYNC_HTTP_TIMEOUT = (1.0, 0.5)
    account = make_account(home, "sid")
    sim_settings.add_fault(vendor="qihoo360", path="/common/dev/GetList", delay=1.0, count=2)
    assert sync_now(account) == SyncOutcome.UNAVAILABLE
    assert "timed out" in last_record(account).error
    make_due(account)
    assert sync_now(account) == SyncOutcome.OK
    assert_complete(account, sim_settings)


def test_malformed_json_is_a_bad_response_with_an_excerpt_and_nothing_half_written(
    home, sim_settings
):
    account = make_account(home, "sid")
    rule = sim_settings.add_fault(
        vendor="qihoo360",
        path="/clean/record/getList",
        sn=SID_ONLINE_SNS[1],
        malformed="html",
        count=-1,
    )
    assert sync_now(account) == SyncOutcome.BAD_RESPONSE
    record = last_record(account)
    assert "excerpt" in record.error and "html" in record.error.lower()
    assert Run.objects.filter(device__remote_id=SID_ONLINE_SNS[1]).count() == 0
    sim_settings.remove_fault(rule)
    make_due(account)
    assert sync_now(account) == SyncOutcome.OK
    assert_complete(account, sim_settings)


def test_a_page_of_the_wrong_shape_is_not_applied(home, sim_settings):
    account = make_account(home, "sid")
    rule = sim_settings.add_fault(
        vendor="qihoo360",
        path="/clean/record/getList",
        sn=SID_ONLINE_SNS[0],
        shape={"list": "not a list"},
        count=-1,
    )
    assert sync_now(account) == SyncOutcome.BAD_RESPONSE
    assert Run.objects.count() == 0
    account.refresh_from_db()
    assert account.status == AccountStatus.ERROR and account.last_sync_ok_at is None
    sim_settings.remove_fault(rule)
    make_due(account)
    assert sync_now(account) == SyncOutcome.OK
    assert_complete(account, sim_settings)


def test_expired_sid_without_qt_flags_the_account_once_and_is_not_retried(
    home, alice, sim_settings, queued
):
    account = make_account(home, "sid")
    sim_settings.control("POST", f"360/accounts/{SID_QID}/expire-sid")
    assert sync_now(account) == SyncOutcome.AUTH
    account.refresh_from_db()
    assert account.status == AccountStatus.REAUTH_REQUIRED
    assert account.status_message
    assert len(sim_settings.requests(vendor="qihoo360")) - 2 == 1  # GetList only (+ catalogues)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.com"]
    assert "linked again" in mail.outbox[0].subject
    # Syncing stops: no dispatch, and a manual sync is skipped without a request.
    make_due(account)
    assert sync.dispatch_due() == 0
    assert sync_now(account) == SyncOutcome.SKIPPED
    assert len(sim_settings.requests(vendor="qihoo360")) - 2 == 1
    assert len(mail.outbox) == 1


def test_auth_email_can_be_switched_off(home, alice, sim_settings, settings):
    settings.SYNC_AUTH_EMAIL = False
    account = make_account(home, "sid")
    sim_settings.control("POST", f"360/accounts/{SID_QID}/expire-sid")
    assert sync_now(account) == SyncOutcome.AUTH
    assert mail.outbox == []


def test_expired_sid_with_stored_qt_is_renewed_and_the_sync_goes_on(
    home, sim_settings, time_machine
):
    account = make_account(home, "qt")
    sync_now(account)  # logs in once (no SID stored yet)
    account.refresh_from_db()
    old_sid = account.credentials().get("sid")
    # 3.3.3: logins of one account are at least 10 s apart; let that time pass.
    time_machine.move_to(timezone.now() + timedelta(seconds=11), tick=True)
    sim_settings.control("POST", f"360/accounts/{QT_QID}/expire-sid")
    make_due(account)
    assert sync_now(account) == SyncOutcome.OK
    account.refresh_from_db()
    assert account.status == AccountStatus.OK
    assert account.credentials()["sid"] != old_sid
    assert len(sim_settings.requests(vendor="qihoo360", path="/common/user/login")) >= 1


def test_revoked_qt_cookies_flag_the_account(home, sim_settings):
    account = make_account(home, "qt")
    sim_settings.control("POST", f"360/accounts/{QT_QID}/revoke-qt")
    sim_settings.control("POST", f"360/accounts/{QT_QID}/expire-sid")
    assert sync_now(account) == SyncOutcome.AUTH
    assert CloudAccount.objects.get(pk=account.pk).status == AccountStatus.REAUTH_REQUIRED


def test_a_deactivated_360_account_needs_relink(home, sim_settings):
    account = make_account(home, "sid")
    sim_settings.control("POST", f"360/accounts/{SID_QID}/deactivate")
    assert sync_now(account) == SyncOutcome.AUTH
    assert CloudAccount.objects.get(pk=account.pk).status == AccountStatus.REAUTH_REQUIRED


def test_undecryptable_credentials_flag_the_account_without_a_request(home, sim_settings):
    account = make_account(home, "sid")
    CloudAccount.objects.filter(pk=account.pk).update(credentials_token="garbage")
    assert sync_now(account) == SyncOutcome.AUTH
    assert CloudAccount.objects.get(pk=account.pk).status == AccountStatus.REAUTH_REQUIRED
    assert [r for r in sim_settings.requests(vendor="qihoo360") if "record" in r["path"]] == []


def test_the_sync_only_reads(home, sim_settings):
    """R4: the sync never sends a command (a POST that changes something)."""
    account = make_account(home, "sid")
    sync_now(account)
    posts = {r["path"] for r in sim_settings.requests(vendor="qihoo360") if r["method"] == "POST"}
    assert posts <= READ_PATHS
    assert sim_settings.violations() == []


def test_a_lost_lease_stops_the_sync_without_releasing_the_new_holder(home, sim_settings, settings):
    account = make_account(home, "sid")
    settings.SYNC_LEASE_SECONDS = 0  # every step heartbeats; the lease is stolen below
    real = sync_job.SyncContext.heartbeat

    def stolen(ctx):
        CloudAccount.objects.filter(pk=ctx.account.pk).update(lease_token="other:holder")
        return real(ctx)

    sync_job.SyncContext.heartbeat = stolen
    try:
        assert sync_now(account) == SyncOutcome.ERROR
    finally:
        sync_job.SyncContext.heartbeat = real
    assert CloudAccount.objects.get(pk=account.pk).lease_token == "other:holder"
    assert "taken over" in last_record(account).error


def test_the_internal_deadline_ends_the_sync_as_timed_out_and_releases_the_lease(
    home, sim_settings, settings
):
    settings.SYNC_DEADLINE_SECONDS = 0
    account = make_account(home, "sid")
    assert sync_now(account) == SyncOutcome.TIMED_OUT
    account.refresh_from_db()
    assert account.lease_token == "" and account.lease_until is None


def test_a_soft_time_limit_ends_the_sync_as_timed_out_and_releases_the_lease(
    home, sim_settings, monkeypatch
):
    from celery.exceptions import SoftTimeLimitExceeded

    from devices import sync_360

    def slow(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(sync_360, "refresh_account_totals", slow)
    account = make_account(home, "sid")
    assert sync_now(account) == SyncOutcome.TIMED_OUT
    account.refresh_from_db()
    assert account.lease_token == "" and account.last_sync_ok_at is not None
    assert_complete(account, sim_settings)
