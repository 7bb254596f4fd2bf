"""Sync health pages, the interval form and the account page's summary partial."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from devices.history import Run, SyncOutcome, SyncRecord
from devices.machines import Device
from devices.models import AccountStatus, CloudAccount

from .conftest import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(home):
    account = make_account(home, "sid", label="Vacuums", budget=300)
    now = timezone.now()
    SyncRecord.objects.create(
        account=account,
        started_at=now - timedelta(minutes=3),
        ended_at=now,
        outcome="ok",
        new_runs=12,
        requests=57,
    )
    SyncRecord.objects.create(
        account=account,
        outcome="running",
        progress="Run details and maps: 3 of 12 fetched",
        requests=20,
    )
    device = Device.objects.create(
        account=account, vendor="qihoo360", kind="vacuum", remote_id="sn1", name="Living room"
    )
    Run.objects.bulk_create(
        [
            Run(device=device, remote_id=f"r{i}", detail_synced_at=now if i < 3 else None)
            for i in range(12)
        ]
    )
    return account


def test_account_page_shows_records_budget_and_progress(account, bob, login):
    response = login(bob).get(reverse("devices:sync_health", args=[account.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Requests this hour" in html and "77 of 300" in html
    assert "First import" in html and "12 runs archived, details and maps for 3" in html
    assert "Run details and maps: 3 of 12 fetched" in html
    assert "Save interval" not in html  # viewers do not get the form


def test_owner_sees_the_interval_form_and_can_change_it(account, alice, login):
    client = login(alice, enforce_csrf_checks=False)
    assert (
        "Save interval"
        in client.get(reverse("devices:sync_health", args=[account.pk])).content.decode()
    )
    response = client.post(
        reverse("devices:sync_interval", args=[account.pk]), {"sync_interval_minutes": 60}
    )
    assert response.status_code == 302
    assert CloudAccount.objects.get(pk=account.pk).sync_interval_minutes == 60


@pytest.mark.parametrize("minutes", [4, 1441, "x"])
def test_interval_outside_5_to_1440_minutes_is_refused(account, alice, login, minutes):
    response = login(alice).post(
        reverse("devices:sync_interval", args=[account.pk]), {"sync_interval_minutes": minutes}
    )
    assert response.status_code == 400
    assert CloudAccount.objects.get(pk=account.pk).sync_interval_minutes == 15


def test_a_shorter_interval_brings_the_next_sync_closer(account, alice, login):
    CloudAccount.objects.filter(pk=account.pk).update(
        next_sync_at=timezone.now() + timedelta(hours=5)
    )
    login(alice).post(
        reverse("devices:sync_interval", args=[account.pk]), {"sync_interval_minutes": 5}
    )
    assert CloudAccount.objects.get(pk=account.pk).next_sync_at <= timezone.now() + timedelta(
        minutes=5
    )


def test_operator_and_viewer_cannot_change_the_interval(account, oscar, bob, login):
    for user in (oscar, bob):
        response = login(user).post(
            reverse("devices:sync_interval", args=[account.pk]), {"sync_interval_minutes": 60}
        )
        assert response.status_code == 403


def test_outsider_gets_404(account, carol, login):
    client = login(carol)
    assert client.get(reverse("devices:sync_health", args=[account.pk])).status_code == 404
    response = client.post(
        reverse("devices:sync_interval", args=[account.pk]), {"sync_interval_minutes": 60}
    )
    assert response.status_code == 404
    assert "Vacuums" not in client.get(reverse("devices:household_sync")).content.decode()


def test_anonymous_is_sent_to_login(account, client):
    response = client.get(reverse("devices:sync_health", args=[account.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_interval_form_needs_csrf_and_post(account, alice, login):
    client = login(alice, enforce_csrf_checks=True)
    url = reverse("devices:sync_interval", args=[account.pk])
    assert client.post(url, {"sync_interval_minutes": 60}).status_code == 403
    assert client.get(url).status_code == 405


def test_household_page_lists_accounts_and_recent_syncs(account, bob, login):
    html = login(bob).get(reverse("devices:household_sync")).content.decode()
    assert "Vacuums" in html and "Syncs in the last 24 hours" in html


def test_summary_partial_shows_relink_banner_and_no_next_sync(account):
    CloudAccount.objects.filter(pk=account.pk).update(
        status=AccountStatus.REAUTH_REQUIRED, status_message="The 360 session (SID) has expired."
    )
    account.refresh_from_db()
    html = render_to_string("devices/_sync_summary.html", {"account": account})
    assert "Needs re-link" in html and "SID) has expired" in html
    assert "after re-link" in html


def test_summary_partial_uses_a_constant_number_of_queries(account, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        render_to_string("devices/_sync_summary.html", {"account": account})


def test_skipped_syncs_are_listed_but_not_the_last_sync(account):
    SyncRecord.objects.create(account=account, outcome=SyncOutcome.SKIPPED, ended_at=timezone.now())
    html = render_to_string("devices/_sync_summary.html", {"account": account})
    assert "OK" in html and "12 new runs" in html


def test_a_details_pass_reads_as_run_details_and_maps_and_is_not_the_last_sync(account, bob, login):
    SyncRecord.objects.filter(account=account, outcome="running").update(
        trigger="details", progress="Run details and maps: 3 of 12 fetched"
    )
    html = login(bob).get(reverse("devices:sync_health", args=[account.pk])).content.decode()
    assert "fetching run details and maps" in html and "syncing now" not in html
    assert "<td>Run details and maps</td>" in html and "<td>Scheduled sync</td>" in html
    SyncRecord.objects.filter(account=account, trigger="details").update(
        outcome="ok", ended_at=timezone.now() + timedelta(seconds=1)
    )
    summary = render_to_string("devices/_sync_summary.html", {"account": account})
    assert "12 new runs" in summary  # the sync's, not the later pass's (none)
    household = login(bob).get(reverse("devices:household_sync")).content.decode()
    assert "Run details and maps" in household
