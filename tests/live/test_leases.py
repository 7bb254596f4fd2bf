"""Several listeners never fight over an account: DB leases (`push:<pk>`)."""

from __future__ import annotations

import os
import signal
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from devices import locks
from devices.linking import link_qihoo360_sid, remove_account
from devices.machines import Lease
from devices.models import CloudAccount, LinkMethod, Vendor
from tests.live.helpers import QID, S7, device, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def many_accounts(sim, home, alice, sid_account, qt_account):
    """The two seeded accounts plus four generated ones, all linked with a pushKey."""
    made = sim.control("POST", "360/generate", {"accounts": 4})["accounts"]
    linked = [sid_account, qt_account]
    for entry in made:
        result = link_qihoo360_sid(
            household=home,
            user=alice,
            qid=entry["qid"],
            sid=entry["sid"],
            push_key=entry["pushKey"],
        )
        linked.append(result.account)
    return linked


def lease_holders() -> dict[str, str]:
    now = timezone.now()
    return {
        lease.key: lease.holder
        for lease in Lease.objects.filter(key__startswith="push:", until__gt=now).exclude(holder="")
    }


def bound_qids(sim) -> list[str]:
    return sorted(c["qid"] for c in sim.push_connections() if c["bound"])


def test_two_listeners_serve_each_account_exactly_once(sim, many_accounts, start_listener):
    first = start_listener(max_accounts=3)
    wait_for(lambda: len(first.accounts) == 3, what="the first listener's share")
    second = start_listener()
    everyone = {account.pk for account in many_accounts}
    wait_for(lambda: first.accounts | second.accounts == everyone, what="all accounts taken")
    assert first.accounts & second.accounts == set()
    assert len(first.accounts) == 3  # --max-accounts left the rest to the other
    wait_for(lambda: len(bound_qids(sim)) == len(everyone), what="all bound")
    assert len(set(bound_qids(sim))) == len(everyone)  # one connection per account
    holders = lease_holders()
    assert {holders[f"push:{pk}"] for pk in first.accounts} == {first.listener.holder}
    assert {holders[f"push:{pk}"] for pk in second.accounts} == {second.listener.holder}

    first.stop()  # releases its leases: the other listener takes its accounts over
    wait_for(lambda: second.accounts == everyone, what="taken over")
    wait_for(lambda: len(bound_qids(sim)) == len(everyone), what="all bound again")
    assert len(set(bound_qids(sim))) == len(everyone)


def test_two_listeners_started_together_never_share_an_account(sim, many_accounts, start_listener):
    first, second = start_listener(), start_listener()
    everyone = {account.pk for account in many_accounts}
    wait_for(lambda: first.accounts | second.accounts == everyone, what="all accounts taken")
    wait_for(lambda: len(bound_qids(sim)) == len(everyone), what="all bound")
    for _ in range(4):  # a few more refreshes: still one listener per account
        assert first.accounts & second.accounts == set()
        assert len(set(bound_qids(sim))) == len(bound_qids(sim)) == len(everyone)
        wait_for(
            lambda n=first.listener.counters["refreshes"]: first.listener.counters["refreshes"] > n
        )


def test_an_expired_lease_of_a_crashed_listener_is_taken_over(sim, sid_account, start_listener):
    key = f"push:{sid_account.pk}"
    assert locks.acquire(key, timedelta(seconds=60), holder="crashed-listener")
    listener = start_listener()
    wait_for(lambda: listener.listener.counters["refreshes"] >= 2)
    assert listener.accounts == set()  # held by someone else
    Lease.objects.filter(key=key).update(until=timezone.now() - timedelta(seconds=1))
    wait_for(lambda: listener.accounts == {sid_account.pk}, what="taken over")
    assert lease_holders()[key] == listener.listener.holder
    wait_for(lambda: device(sid_account, S7).status_observed_at, what="status")


def test_a_lease_taken_by_another_listener_drops_the_account(sim, sid_account, start_listener):
    listener = start_listener(lease_ttl=timedelta(seconds=1))
    wait_for(lambda: listener.bound(sid_account), what="bound")
    # As if this listener had stalled past its lease and another one had taken it.
    Lease.objects.filter(key=f"push:{sid_account.pk}").update(holder="another-listener")
    wait_for(lambda: not listener.accounts, what="dropped")
    assert lease_holders()[f"push:{sid_account.pk}"] == "another-listener"  # not released
    wait_for(lambda: not bound_qids(sim), what="connection closed")


def test_newly_linked_accounts_are_picked_up_and_removed_ones_dropped(
    sim, home, alice, sim_settings, start_listener
):
    listener = start_listener()
    wait_for(lambda: listener.listener.counters["refreshes"] >= 1)
    account = link_qihoo360_sid(
        household=home, user=alice, qid=QID, sid="4a20145c62428d31b52b53c9ccbfcee4",
        push_key="a1b2c3d4e5f60718a1b2c3d4e5f60718",
    ).account  # fmt: skip
    wait_for(lambda: listener.bound(account), what="picked up and bound")
    remove_account(account=account, delete_history=False)
    wait_for(lambda: not listener.accounts, what="dropped")
    # The push connection closes right after the drop; the vendor sees it a moment later.
    wait_for(lambda: not bound_qids(sim), what="unbound at the vendor")
    assert f"push:{account.pk}" not in lease_holders()  # released
    # A removed account keeps status OK but has no credentials: it is not flagged.
    assert CloudAccount.objects.get(pk=account.pk).status == "ok"


def test_an_account_without_a_push_key_is_skipped(sim, home, alice, sim_settings, start_listener):
    account = link_qihoo360_sid(
        household=home, user=alice, qid=QID, sid="4a20145c62428d31b52b53c9ccbfcee4"
    ).account
    assert account.method == LinkMethod.QIHOO360_SID and account.vendor == Vendor.QIHOO360
    listener = start_listener()
    wait_for(lambda: listener.listener.counters["refreshes"] >= 2)
    assert listener.accounts == set()
    assert sim.push_connections() == []
    assert CloudAccount.objects.get(pk=account.pk).status == "ok"


def test_sigterm_stops_the_command_cleanly_and_releases_the_leases(sim, sid_account, settings):
    settings.QIHOO360_PUSH_ADDR = sim.push_addr
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def terminate_when_bound():
        wait_for(lambda: bound_qids(sim) == [QID], timeout=15, what="bound")
        os.kill(os.getpid(), signal.SIGTERM)

    killer = threading.Thread(target=terminate_when_bound, daemon=True)
    killer.start()
    try:
        call_command("listen_push")  # returns once SIGTERM was handled
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    killer.join(timeout=5)
    assert lease_holders() == {}
    wait_for(lambda: not bound_qids(sim), what="connection closed")
