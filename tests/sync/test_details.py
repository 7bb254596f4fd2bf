"""The run details pass (devices/sync_details.py) against the simulator over real HTTP,
in this thread: a sync reads the listings only and queues one pass; the pass fetches
details and maps under the account's lease without moving its schedule, gives way to a
due sync, and fails the way a sync does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from devices import leases, sync, sync_details
from devices.history import Run, SyncOutcome, SyncRecord, SyncTrigger
from devices.models import AccountStatus, CloudAccount

from .conftest import SID_QID, expire, jobs_queued, make_account, run_job, run_queued, sync_only

pytestmark = pytest.mark.django_db

DETAIL_PATHS = {"sid": "/clean/record/getOne", "mammotion": "/v1/mower/*/work-reports/*"}
VENDORS = {"sid": "qihoo360", "mammotion": "mammotion"}


def detail_requests(sim, kind: str) -> list:
    return sim.requests(vendor=VENDORS[kind], path=DETAIL_PATHS[kind])


def schedule(account) -> tuple:
    return CloudAccount.objects.filter(pk=account.pk).values_list(
        "next_sync_at", "status", "consecutive_failures", "last_sync_ok_at"
    )[0]


@pytest.mark.parametrize("kind", ["sid", "mammotion"])
def test_a_sync_reads_the_listings_only_and_queues_one_details_pass(kind, home, sim_settings):
    account = make_account(home, kind)
    outcome, jobs = sync_only(account)

    assert outcome == SyncOutcome.OK
    assert Run.objects.filter(device__account=account).count() > 30
    assert not Run.objects.filter(detail_synced_at__isnull=False).exists()
    assert not Run.objects.exclude(map_file="").exists()
    assert detail_requests(sim_settings, kind) == []
    [(job, pk, trigger, claim)] = jobs
    assert (job, pk, trigger) == ("details", account.pk, "details")
    # The pass's claim holds the account: nothing else is queued for it meanwhile.
    account.refresh_from_db()
    assert account.lease_token == f"{claim}:" and account.next_sync_at > timezone.now()
    CloudAccount.objects.filter(pk=account.pk).update(next_sync_at=timezone.now())
    with jobs_queued() as more:
        assert sync.dispatch_due() == 0
        sync.request_sync(account)
    assert more == []


@pytest.mark.parametrize("kind", ["sid", "mammotion"])
def test_the_details_pass_fetches_details_and_maps_and_leaves_the_schedule_alone(
    kind, home, sim_settings, settings
):
    account = make_account(home, kind)
    _, jobs = sync_only(account)
    before = schedule(account)

    assert run_queued(jobs, passes=1) == [("details", SyncOutcome.OK)]

    record = SyncRecord.objects.get(account=account, trigger=SyncTrigger.DETAILS)
    detailed = Run.objects.filter(device__account=account, detail_synced_at__isnull=False)
    assert detailed.count() == settings.SYNC_MAX_DETAILS_PER_SYNC == 30
    assert detailed.exclude(map_file="").count() == 30
    assert record.requests >= len(detail_requests(sim_settings, kind)) == 30
    assert record.new_runs == 0 and "30 of" in record.progress
    assert schedule(account) == before


def test_a_pass_that_fetched_its_share_queues_the_next_while_the_budget_has_room(
    home, sim_settings
):
    account = make_account(home, "sid")
    _, jobs = sync_only(account)
    with jobs_queued() as queued:
        run_job(*jobs[0])
    assert [(job, pk) for job, pk, _, _ in queued] == [("details", account.pk)]
    run_queued(queued, passes=1)
    assert Run.objects.filter(detail_synced_at__isnull=False).count() == 60
    assert schedule(account)[0] > timezone.now()  # still the sync's slot


def test_a_pass_without_budget_room_left_queues_no_other(home, sim_settings):
    # The listings take about 42 requests, 30 details 30: 72 of the 80 % share of 90.
    account = make_account(home, "sid", budget=90)
    _, jobs = sync_only(account)
    with jobs_queued() as queued:
        assert run_job(*jobs[0]) == SyncOutcome.OK
    assert queued == []
    assert CloudAccount.objects.get(pk=account.pk).lease_token == ""


def test_a_pass_that_fetched_everything_queues_nothing(home, sim_settings, settings):
    settings.SYNC_MAX_DETAILS_PER_SYNC = 1000
    account = make_account(home, "sid")
    _, jobs = sync_only(account)
    with jobs_queued() as queued:
        assert run_job(*jobs[0]) == SyncOutcome.OK
    assert queued == []
    assert not Run.objects.filter(detail_synced_at__isnull=True).exists()
    # Nothing pending: the next sync queues no pass either.
    CloudAccount.objects.filter(pk=account.pk).update(next_sync_at=timezone.now())
    assert sync_only(account) == (SyncOutcome.OK, [])


def test_no_pass_when_details_are_switched_off(home, sim_settings, settings):
    settings.SYNC_MAX_DETAILS_PER_SYNC = 0
    account = make_account(home, "sid")
    assert sync_only(account) == (SyncOutcome.OK, [])
    assert CloudAccount.objects.get(pk=account.pk).lease_token == ""


def test_a_sync_that_became_due_goes_first_and_queues_the_pass_again(home, sim_settings):
    account = make_account(home, "sid")
    _, jobs = sync_only(account)
    sync.request_sync(account)  # "Sync now" while the pass waits: due now, nothing queued

    with jobs_queued() as queued:
        assert run_job(*jobs[0]) == SyncOutcome.PARTIAL
    record = SyncRecord.objects.get(account=account, trigger=SyncTrigger.DETAILS)
    assert "A sync was due" in record.error and record.requests == 0
    assert detail_requests(sim_settings, "sid") == []
    # The pass handed the account to the sync, which queues the pass again.
    assert [(job, trigger) for job, _, trigger, _ in queued] == [("sync", "schedule")]
    assert run_queued(queued, passes=1) == [("sync", "ok"), ("details", "ok")]
    assert Run.objects.filter(detail_synced_at__isnull=False).count() == 30


def test_a_sync_while_a_pass_holds_the_lease_is_skipped_and_a_redelivery_waits(home, sim_settings):
    account = make_account(home, "sid")
    _, [(_, pk, _, claim)] = sync_only(account)
    now = timezone.now()
    token, _ = leases.acquire(pk, claim, now)  # a worker started the pass

    assert sync_only(account) == (SyncOutcome.SKIPPED, [])
    assert SyncRecord.objects.filter(outcome=SyncOutcome.SKIPPED).count() == 1
    with pytest.raises(leases.RetryLater):  # the pass's message, delivered again
        sync_details.run_details(pk, lease_token=claim)
    assert CloudAccount.objects.get(pk=pk).lease_token == token

    # Its worker died: once the lease expired, the redelivery takes the pass over.
    CloudAccount.objects.filter(pk=pk).update(lease_until=now - timedelta(seconds=1))
    with jobs_queued() as queued:
        assert run_job("details", pk, "details", claim) == SyncOutcome.OK
    expire(queued)
    record = SyncRecord.objects.get(account=account, trigger="details")
    assert "Resumed" in record.error
    assert Run.objects.filter(detail_synced_at__isnull=False).count() == 30


def test_an_expired_session_during_the_pass_flags_a_relink_once(home, alice, sim_settings):
    account = make_account(home, "sid")
    _, jobs = sync_only(account)
    next_sync_at = schedule(account)[0]
    sim_settings.control("POST", f"360/accounts/{SID_QID}/expire-sid")

    with jobs_queued() as queued:
        assert run_job(*jobs[0]) == SyncOutcome.AUTH
    assert queued == []
    account.refresh_from_db()
    assert account.status == AccountStatus.REAUTH_REQUIRED and account.status_message
    assert account.lease_token == "" and account.next_sync_at == next_sync_at
    assert len(detail_requests(sim_settings, "sid")) == 1  # no retry
    assert len(mail.outbox) == 1 and "linked again" in mail.outbox[0].subject
    # Syncing stops until a re-link, as after a sync that found it.
    CloudAccount.objects.filter(pk=account.pk).update(next_sync_at=timezone.now())
    assert sync.dispatch_due() == 0


@pytest.mark.parametrize(("slot_in", "retry_after", "moved"), [(60, 300, True), (1200, 60, False)])
def test_throttling_during_the_pass_backs_off_but_never_brings_the_sync_closer(
    home, sim_settings, slot_in, retry_after, moved
):
    account = make_account(home, "sid")
    _, jobs = sync_only(account)
    next_sync_at = timezone.now() + timedelta(seconds=slot_in)
    CloudAccount.objects.filter(pk=account.pk).update(next_sync_at=next_sync_at)
    sim_settings.add_fault(
        vendor="qihoo360",
        path="/clean/record/getOne",
        http_status=429,
        retry_after=retry_after,
        count=-1,
    )
    assert run_job(*jobs[0]) == SyncOutcome.THROTTLED
    account.refresh_from_db()
    assert account.status == AccountStatus.THROTTLED and account.consecutive_failures == 1
    assert account.lease_token == ""
    if moved:
        assert account.next_sync_at >= timezone.now() + timedelta(seconds=retry_after - 10)
    else:
        assert account.next_sync_at == next_sync_at
    assert f"Next try at {account.next_sync_at:%H:%M} UTC" in account.status_message
    # The next sync that works clears it, and queues the pass again.
    sim_settings.clear_faults()
    CloudAccount.objects.filter(pk=account.pk).update(next_sync_at=timezone.now())
    outcome, queued = sync_only(account)
    assert outcome == SyncOutcome.OK and [job for job, *_ in queued] == ["details"]
    account.refresh_from_db()
    assert account.status == AccountStatus.OK and account.consecutive_failures == 0


def test_the_pass_reads_only(home, sim_settings):
    """R4: like the sync, the details pass never sends a command."""
    from devices.clouds.qihoo360 import READ_PATHS

    account = make_account(home, "sid")
    _, jobs = sync_only(account)
    run_queued(jobs, passes=1)
    posts = {r["path"] for r in sim_settings.requests(vendor="qihoo360") if r["method"] == "POST"}
    assert "/clean/record/getOne" in posts and posts <= READ_PATHS
    assert sim_settings.violations() == []
