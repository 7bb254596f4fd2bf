"""Removing accounts (keeping or deleting the history), linking a removed account again,
and the hand-over to the sync service."""

# Fixtures are imported from test_linking_fixtures (no conftest of our own here).
# ruff: noqa: F811

from pathlib import Path

import pytest
from django.utils import timezone

from devices import crypto, linking
from devices.history import Fault, Run, SyncRecord
from devices.linking import NEVER, is_removed
from devices.models import AccountStatus, CloudAccount, Device
from tests.devices.test_linking_fixtures import (  # noqa: F401
    PUSH_KEY,
    QID,
    SID,
    cloud,
    sync_calls,
)


@pytest.fixture
def linked(cloud, home, alice, sync_calls):
    """The 360 "sid" account linked, with a run (and its map file) and a fault archived."""
    account = linking.link_qihoo360_sid(
        household=home, user=alice, qid=QID, sid=SID, push_key=PUSH_KEY
    ).account
    device = account.devices.get(name="Living room")
    Run.objects.create(device=device, remote_id="run-1", map_file="maps/run-1.png")
    Fault.objects.create(device=device, remote_id="f-1", code="-2201", occurred_at=timezone.now())
    SyncRecord.objects.create(account=account)
    return account


@pytest.fixture
def map_file(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    path = Path(tmp_path, "maps", "run-1.png")
    path.parent.mkdir()
    path.write_bytes(b"png")
    return path


def test_removing_and_keeping_history_erases_the_credentials_and_retires_the_machines(
    linked, map_file
):
    linking.remove_account(account=linked, delete_history=False)

    account = CloudAccount.objects.get(pk=linked.pk)
    assert account.credentials_token == "" and is_removed(account)
    with pytest.raises(crypto.CredentialError):
        account.credentials()
    assert account.status == AccountStatus.OK  # no "needs attention" banner for it
    assert account.next_sync_at == NEVER and account.lease_until is None
    assert Device.objects.filter(account=account).count() == 4
    assert not Device.objects.filter(account=account).present().exists()
    assert Run.objects.filter(remote_id="run-1").exists() and Fault.objects.exists()
    assert map_file.exists()


def test_removing_with_history_deletes_everything_including_maps(
    linked, map_file, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        linking.remove_account(account=linked, delete_history=True)

    assert not CloudAccount.objects.exists() and not Device.objects.exists()
    assert not Run.objects.exists() and not Fault.objects.exists()
    assert not SyncRecord.objects.exists()
    assert not map_file.exists()


def test_a_removed_account_is_never_due_for_a_sync(linked):
    from devices.sync import dispatch_due

    linking.remove_account(account=linked, delete_history=False)
    assert dispatch_due(timezone.now()) == 0
    assert CloudAccount.objects.get().lease_token == ""


def test_linking_a_removed_account_again_brings_back_its_history(linked, home, alice, sync_calls):
    linking.remove_account(account=linked, delete_history=False)

    result = linking.link_qihoo360_sid(household=home, user=alice, qid=QID, sid=SID)

    assert result.account.pk == linked.pk and not result.created
    assert CloudAccount.objects.count() == 1
    assert Device.objects.filter(account=linked).present().count() == 4
    assert Run.objects.filter(device__account=linked, remote_id="run-1").exists()
    assert result.account.credentials() == {"sid": SID}
    assert result.account.next_sync_at <= timezone.now()


def test_a_removed_account_can_also_be_relinked_from_its_page(linked, home, alice, sync_calls):
    linking.remove_account(account=linked, delete_history=False)
    account = CloudAccount.objects.get()
    result = linking.link_qihoo360_sid(
        household=home, user=alice, qid=QID, sid=SID, account=account
    )
    assert result.account.pk == linked.pk and not is_removed(result.account)


def test_linking_asks_the_sync_service_for_the_first_import(
    cloud, home, alice, django_capture_on_commit_callbacks
):
    """The real request_sync: the new account is claimed and a sync queued on commit."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        account = linking.link_qihoo360_sid(
            household=home, user=alice, qid=QID, sid=SID, push_key=PUSH_KEY
        ).account
    account.refresh_from_db()
    assert account.lease_token  # claimed by request_sync(trigger="link")
    assert len(callbacks) == 1  # the task is queued once the link is committed


def test_queue_sync_reports_a_failing_sync_service_without_undoing_the_link(linked, monkeypatch):
    def broken(account, *, trigger="manual"):
        raise RuntimeError("broker down")

    monkeypatch.setattr("devices.sync.request_sync", broken)
    assert linking.queue_sync(linked, trigger="manual") is False
    assert CloudAccount.objects.filter(pk=linked.pk).exists()


def test_accounts_of_another_household_are_not_duplicates(cloud, home, alice, carol, sync_calls):
    linking.link_qihoo360_sid(household=home, user=alice, qid=QID, sid=SID)
    flat = carol.memberships.get().household
    other = linking.link_qihoo360_sid(household=flat, user=carol, qid=QID, sid=SID)
    assert other.created and CloudAccount.objects.count() == 2
