"""The report pages cache what they make from the archive (dashboard.report_cache), keyed
on stamps the database replaces with every write to a device's runs: a page never shows
an archive older than the one in the database, whatever wrote to it."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboard.report_cache import archive_stamp
from devices.models import Device, DeviceStats, Run
from tests.dashboard.conftest import make_run

OVERVIEW = reverse("dashboard:overview")
HISTORY = reverse("dashboard:history")
HOUR = timedelta(hours=1)


def _new_stamp(devices, before: str) -> str:
    after = archive_stamp([d.pk for d in devices])
    assert after != before
    return after


def test_every_kind_of_run_write_gives_its_device_a_new_stamp(vacuum, mower):
    now = timezone.now()
    mower_stamp = archive_stamp([mower.pk])
    stamp = archive_stamp([vacuum.pk])
    assert stamp == f"{vacuum.pk}.0"  # no run written yet
    run = make_run(vacuum, now - HOUR)
    stamp = _new_stamp([vacuum], stamp)
    Run.objects.bulk_create(
        [Run(device=vacuum, remote_id=f"b{i}", started_at=now) for i in range(3)]
    )
    stamp = _new_stamp([vacuum], stamp)
    Run.objects.bulk_create(  # the sync's upsert: an INSERT ... ON CONFLICT DO UPDATE
        [Run(device=vacuum, remote_id="b0", started_at=now, area_m2=99)],
        update_conflicts=True,
        unique_fields=["device", "remote_id"],
        update_fields=["area_m2"],
    )
    stamp = _new_stamp([vacuum], stamp)
    Run.objects.filter(pk=run.pk).update(result="failed")
    stamp = _new_stamp([vacuum], stamp)
    Run.objects.filter(remote_id="b1").delete()
    stamp = _new_stamp([vacuum], stamp)
    assert archive_stamp([mower.pk]) == mower_stamp  # other devices keep theirs
    Run.objects.filter(remote_id="b2").update(device=mower)  # moved: both change
    assert archive_stamp([mower.pk]) != mower_stamp
    _new_stamp([vacuum], stamp)


def test_history_shows_new_changed_and_deleted_runs_and_renames_at_once(vacuum, alice, login):
    client = login(alice)
    first = make_run(vacuum, timezone.now() - 2 * HOUR, area=17)
    assert "17 m²" in client.get(HISTORY).content.decode()
    assert "17 m²" in client.get(HISTORY).content.decode()  # now from the cache

    make_run(vacuum, timezone.now() - HOUR, area=23)
    assert "23 m²" in client.get(HISTORY).content.decode()
    Run.objects.filter(pk=first.pk).update(area_m2=31)
    body = client.get(HISTORY).content.decode()
    assert "31 m²" in body and "17 m²" not in body
    Run.objects.filter(pk=first.pk).delete()
    assert "31 m²" not in client.get(HISTORY).content.decode()
    vacuum.name = "Upstairs robot"
    vacuum.save(update_fields=["name"])
    assert "Upstairs robot" in client.get(HISTORY).content.decode()


def test_a_cached_history_page_is_served_without_reading_the_runs(vacuum, alice, login):
    client = login(alice)
    make_run(vacuum, timezone.now() - HOUR, area=17)
    with CaptureQueriesContext(connection) as cold:
        client.get(HISTORY)
    with CaptureQueriesContext(connection) as warm:
        body = client.get(HISTORY).content.decode()
    assert "17 m²" in body
    assert any("devices_run" in q["sql"] for q in cold.captured_queries)
    assert not any('"devices_run"' in q["sql"] for q in warm.captured_queries)


def test_overview_totals_charts_and_vendor_figures_follow_the_database(vacuum, alice, login):
    client = login(alice)
    make_run(vacuum, timezone.now() - HOUR, area=40, duration=3600)
    assert "40 m²" in client.get(OVERVIEW).content.decode()
    client.get(OVERVIEW)  # cached

    Run.objects.bulk_create(
        [Run(device=vacuum, remote_id="x", started_at=timezone.now() - HOUR, area_m2=2)]
    )
    body = client.get(OVERVIEW).content.decode()
    assert "42 m²" in body  # the week's, month's and lifetime totals
    assert "Vendor figures updated" not in body
    DeviceStats.objects.create(device=vacuum, area_m2=594, runs=22, duration_s=3600)
    body = client.get(OVERVIEW).content.decode()
    assert "594 m²" in body and "Vendor figures updated just now" in body
    DeviceStats.objects.filter(device=vacuum).update(updated_at=timezone.now() - 3 * HOUR)
    assert "Vendor figures updated 3 h ago" in client.get(OVERVIEW).content.decode()


def test_device_page_sections_follow_runs_and_renames(vacuum, alice, login):
    client = login(alice)
    page = reverse("devices:device", args=[vacuum.pk])
    make_run(vacuum, timezone.now() - HOUR, area=40)
    assert "40 m²" in client.get(page).content.decode()
    make_run(vacuum, timezone.now() - HOUR, area=5)
    assert "45 m²" in client.get(page).content.decode()
    vacuum.name = "Upstairs robot"
    vacuum.save(update_fields=["name"])
    assert "Charts for Upstairs robot" in client.get(page).content.decode()


def test_the_cached_parts_are_the_same_for_every_member_and_hold_no_token(
    vacuum, alice, bob, login
):
    make_run(vacuum, timezone.now() - HOUR, area=40)
    owner_page = login(alice).get(OVERVIEW).content.decode()
    viewer_page = login(bob).get(OVERVIEW).content.decode()

    def sections(body: str) -> str:
        return body[body.index('id="totals-heading"') : body.index('id="lifetime-heading"')]

    assert sections(owner_page) == sections(viewer_page)
    assert "csrfmiddlewaretoken" not in sections(owner_page)
    assert "nonce" not in sections(owner_page)


def test_device_page_live_block_and_facts_follow_the_device_row(vacuum, alice, login):
    client = login(alice)
    page = reverse("devices:device", args=[vacuum.pk])
    Device.objects.filter(pk=vacuum.pk).update(
        state="charge", battery=64, status_observed_at=timezone.now(), firmware="1.8.9"
    )
    body = client.get(page).content.decode()
    assert "battery 64 %" in body and "1.8.9" in body
    client.get(page)  # cached
    Device.objects.filter(pk=vacuum.pk).update(battery=65, firmware="1.9.0")
    body = client.get(page).content.decode()
    assert "battery 65 %" in body and "battery 64 %" not in body
    assert "1.9.0" in body and "1.8.9" not in body
