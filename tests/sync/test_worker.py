"""A real Celery worker (threads pool) syncing from the simulator over real HTTP, once
on the filesystem broker (the embedded default) and once on Redis."""

from __future__ import annotations

import pytest

from devices import sync
from devices.history import Fault, Run, SyncOutcome, SyncRecord
from devices.machines import Device

from .conftest import make_account, sim_run_counts
from .workers import finished_records, wait_for, worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

BROKERS = ["filesystem", "redis"]


def runs_by_sn(account):
    return {
        d.remote_id: Run.objects.filter(device=d).count()
        for d in Device.objects.filter(account=account)
    }


@pytest.mark.parametrize("kind", BROKERS)
def test_first_import_incremental_and_reruns_through_the_worker(
    kind, home, sim_settings, settings, tmp_path
):
    settings.SYNC_MAX_DETAILS_PER_SYNC = 1000
    account = make_account(home, "sid")
    with worker(kind, tmp_path):
        sync.request_sync(account)  # autocommit: queued at once
        first = finished_records(account, 1, trigger="manual")[0]
        assert first.outcome == SyncOutcome.OK, first.error
        assert runs_by_sn(account) == sim_run_counts(sim_settings)
        # The sync queued a details pass, which fetched every run's detail after it.
        details = finished_records(account, 1, trigger="details")[0]
        assert details.outcome == SyncOutcome.OK, details.error
        assert details.started_at >= first.ended_at
        assert Run.objects.filter(detail_synced_at__isnull=True).count() == 0
        sim_settings.control("DELETE", "requests")

        sync.request_sync(account)
        second = finished_records(account, 2, trigger="manual")[1]
        assert second.outcome == SyncOutcome.OK and second.new_runs == 0
        listings = sim_settings.requests(vendor="qihoo360", path="/clean/record/getList")
        assert len(listings) == 4  # one listing request per device

        sync.request_sync(account)
        finished_records(account, 3, trigger="manual")
    assert runs_by_sn(account) == sim_run_counts(sim_settings)
    assert Fault.objects.count() == 9
    assert SyncRecord.objects.filter(account=account, outcome=SyncOutcome.OK).count() == 4
    assert SyncRecord.objects.filter(account=account, trigger="details").count() == 1


@pytest.mark.parametrize("kind", BROKERS)
def test_two_overlapping_syncs_one_runs_and_one_skips(kind, home, sim_settings, tmp_path):
    from devices.sync_tasks import sync_account

    account = make_account(home, "sid")
    # The device list answers slowly, so the first sync still holds the lease when the
    # second one starts on the other worker thread.
    sim_settings.add_fault(vendor="qihoo360", path="/common/dev/GetList", delay=1.5, count=1)
    with worker(kind, tmp_path, concurrency=2):
        sync_account.delay(account.pk, trigger="manual")
        sync_account.delay(account.pk, trigger="manual")
        records = finished_records(account, 2, trigger="manual")
        finished_records(account, 1, trigger="details")  # the pass the sync queued
    assert sorted(r.outcome for r in records) == [SyncOutcome.OK, SyncOutcome.SKIPPED]
    assert runs_by_sn(account) == sim_run_counts(sim_settings)


@pytest.mark.parametrize("kind", BROKERS)
def test_doubled_beats_queue_one_sync(kind, home, sim_settings, tmp_path):
    from devices.sync_tasks import dispatch_due_syncs

    accounts = [make_account(home, "sid", label=f"a{i}") for i in range(2)]
    with worker(kind, tmp_path, concurrency=2):
        dispatch_due_syncs.delay()
        dispatch_due_syncs.delay()
        for account in accounts:
            finished_records(account, 1, trigger="schedule")
            finished_records(account, 1, trigger="details")  # the pass the sync queued
    for account in accounts:
        syncs = SyncRecord.objects.filter(account=account, trigger="schedule")
        assert [record.outcome for record in syncs] == [SyncOutcome.OK]


@pytest.mark.parametrize("kind", BROKERS)
def test_sync_now_during_a_details_pass_stops_the_pass_and_syncs_first(
    kind, home, sim_settings, tmp_path, monkeypatch
):
    from devices import sync_details

    monkeypatch.setattr(sync_details, "DUE_CHECK_S", 0.5)  # look more often than every 5 s
    # A budget that ends the second pass (passes otherwise follow one another).
    account = make_account(home, "sid", budget=100)
    sim_settings.add_fault(vendor="qihoo360", path="/clean/record/getOne", delay=0.2, count=-1)
    with worker(kind, tmp_path, concurrency=2):
        sync.request_sync(account)
        first = finished_records(account, 1, trigger="manual")[0]
        wait_for(
            lambda: Run.objects.filter(detail_synced_at__isnull=False).count() >= 3,
            what="the details pass to be under way",
        )
        sync.request_sync(account)  # "Sync now": the pass holds the account; it is due now
        stopped = finished_records(account, 1, trigger="details", timeout=30)[0]
        handed_over = finished_records(account, 1, trigger="schedule", timeout=30)[0]
        # The sync queues the pass again, which goes on where the first one stopped.
        finished_records(account, 2, trigger="details", timeout=60)
    assert first.outcome == SyncOutcome.OK
    assert stopped.outcome == SyncOutcome.PARTIAL and "A sync was due" in stopped.error
    assert handed_over.outcome == SyncOutcome.OK
    assert first.ended_at <= stopped.started_at < stopped.ended_at <= handed_over.started_at
    assert not SyncRecord.objects.filter(account=account, outcome=SyncOutcome.SKIPPED).exists()
