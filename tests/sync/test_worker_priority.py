"""Workers take waiting syncs before run details passes, on the filesystem broker (the
embedded default, through dashboard/broker.py) and on Redis: the "priority" queue order
of the settings. With kombu's default round robin (the control case) the two queues
alternate, which is what the setting is for."""

from __future__ import annotations

import pytest
from django.db.models import Q

from devices import sync, sync_details
from devices.history import SyncOutcome, SyncRecord

from .conftest import expire, make_account, sync_only
from .workers import broker, finished_records, running_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

BROKERS = ["filesystem", "redis"]
ACCOUNTS = 3


def generated_accounts(home, sim, prefix: str) -> list:
    """Small 360 accounts of the simulator: one vacuum with a few runs each."""
    made = sim.control(
        "POST",
        "360/generate",
        {"accounts": ACCOUNTS, "runs_per_device": 4, "devices_per_account": 1},
    )["accounts"]
    return [
        make_account(home, "sid", qid=a["qid"], sid=a["sid"], label=f"{prefix}{n}")
        for n, a in enumerate(made)
    ]


def queue_details_then_syncs(home, sim) -> tuple[list, list]:
    """Details passes of some accounts queued first (their listings synced here), then
    syncs of others; returns (accounts with a pass, accounts with a sync)."""
    with_details = generated_accounts(home, sim, "details ")
    with_sync = generated_accounts(home, sim, "sync ")
    for account in with_details:
        outcome, jobs = sync_only(account)
        assert outcome == SyncOutcome.OK and [job[0] for job in jobs] == ["details"]
        expire(jobs)  # not sent to a broker; queued for real below
    for account in with_details:
        account.refresh_from_db()
        assert sync_details.queue_if_pending(account)  # autocommit: queued at once
    for account in with_sync:
        sync.request_sync(account)
    return with_details, with_sync


def run_in_order(kind: str, home, sim, tmp_path, **options) -> list[str]:
    """Queue details passes, then syncs, start one worker with one slot, and return the
    order in which it started them ("details"/"sync")."""
    with broker(kind, tmp_path, **options) as app:
        with_details, with_sync = queue_details_then_syncs(home, sim)
        with running_worker(app, tmp_path, concurrency=1):
            for account in with_sync:
                finished_records(account, 1, trigger="manual")
            for account in with_details + with_sync:
                finished_records(account, 1, trigger="details")
    # The passes queued first and the syncs queued after them (not the passes those
    # syncs queue in turn, nor the listings synced here beforehand).
    started = SyncRecord.objects.filter(
        Q(account__in=with_details, trigger="details") | Q(account__in=with_sync, trigger="manual")
    ).order_by("started_at", "pk")
    return ["details" if record.trigger == "details" else "sync" for record in started]


@pytest.mark.parametrize("kind", BROKERS)
def test_a_worker_takes_waiting_syncs_before_details_passes(kind, home, sim_settings, tmp_path):
    order = run_in_order(kind, home, sim_settings, tmp_path)
    assert order == ["sync"] * ACCOUNTS + ["details"] * ACCOUNTS


@pytest.mark.parametrize("kind", BROKERS)
def test_round_robin_would_let_details_passes_go_between_syncs(kind, home, sim_settings, tmp_path):
    order = run_in_order(kind, home, sim_settings, tmp_path, queue_order_strategy="round_robin")
    assert order != ["sync"] * ACCOUNTS + ["details"] * ACCOUNTS
    assert order.index("details") < len(order) - 1 - order[::-1].index("sync"), order
