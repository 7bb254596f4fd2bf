"""The run detail page and its stored map."""

import sys
import types
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from devices.history import RunResult
from tests.dashboard.conftest import local, make_run

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _detail(run):
    return reverse("dashboard:run", args=[run.pk])


def _map(run):
    return reverse("dashboard:run_map", args=[run.pk])


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "maps").mkdir(parents=True)
    (tmp_path / "media" / "maps" / "run.png").write_bytes(PNG)
    (tmp_path / "secret.png").write_bytes(b"not yours")
    return settings.MEDIA_ROOT


def test_shows_the_numbers_in_local_time(vacuum, bob, login):
    run = make_run(
        vacuum, local(2025, 10, 26, 23, 30), area=42.5, duration=3900, mode="smartClean",
        result=RunResult.COMPLETED,
    )  # fmt: skip
    body = login(bob).get(_detail(run)).content.decode()
    assert "Sun 26 Oct 2025, 23:30" in body and "Mon 27 Oct 2025, 00:35" in body
    assert "1 h 05 min" in body and "42.5 m²" in body and "Smart clean" in body
    assert "Completed" in body


def test_error_code_shown_as_catalogue_text_or_as_the_code(vacuum, bob, login, monkeypatch):
    run = make_run(vacuum, timezone.now(), result=RunResult.ERROR, error_code="-2201")
    client = login(bob)
    assert "Error -2201" in client.get(_detail(run)).content.decode()

    class ErrorText:
        title = "Wheel stuck"

    catalogue = types.ModuleType("devices.catalogue")
    catalogue.error_text = lambda vendor, code: ErrorText() if vendor == "qihoo360" else None
    monkeypatch.setitem(sys.modules, "devices.catalogue", catalogue)
    body = client.get(_detail(run)).content.decode()
    assert "Wheel stuck" in body and "(code -2201)" in body


def test_mower_timeline_and_work_parameters(mower, bob, login):
    start = local(2025, 7, 1, 9, 0)
    run = make_run(
        mower, start, detail={
            "events": [
                {"at": (start + timedelta(hours=1)).isoformat(), "code": 12, "label": "Completed"},
                {"at": start.isoformat(), "code": 1, "label": "Started automatically"},
                {"at": "garbage", "code": 10},
            ],
            "work_params": {"channelMode": 0, "knife_height": 55, "ultraWave": 11, "novel": "x"},
        },
    )  # fmt: skip
    body = login(bob).get(_detail(run)).content.decode()
    assert body.index("09:00</time> Started automatically") < body.index("10:00</time> Completed")
    assert "Low battery, recharging" in body  # label from the event code when absent
    assert "Single bow (zigzag)" in body and "Blade height" in body and "55" in body
    assert "No touch, stay on lawn" in body and "Novel" in body


@pytest.mark.parametrize(
    "detail", [{}, {"events": None}, {"events": "oops"}, {"events": [1, None]}]
)
def test_a_mower_run_without_a_timeline_says_so(mower, bob, login, detail):
    run = make_run(mower, timezone.now(), detail=detail)
    response = login(bob).get(_detail(run))
    assert response.status_code == 200
    assert "No timeline was recorded for this run." in response.content.decode()


def test_map_image_when_stored_and_a_note_when_not(vacuum, bob, login, media):
    with_map = make_run(vacuum, timezone.now(), map_file="maps/run.png")
    without = make_run(vacuum, timezone.now() - timedelta(days=1))
    client = login(bob)
    assert f'<img src="{_map(with_map)}"' in client.get(_detail(with_map)).content.decode()
    assert "No map stored for this run" in client.get(_detail(without)).content.decode()


def test_the_map_is_served_to_members(vacuum, bob, login, media):
    run = make_run(vacuum, timezone.now(), map_file="maps/run.png")
    response = login(bob).get(_map(run))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize(
    "stored", ["", "../secret.png", "maps/../../secret.png", "/etc/passwd", "maps/missing.png",
               "maps", "maps/link.png"],
)  # fmt: skip
def test_a_map_outside_media_or_missing_is_not_found(vacuum, bob, login, media, stored):
    (media / "maps" / "link.png").symlink_to(media.parent / "secret.png")
    run = make_run(vacuum, timezone.now(), map_file=stored)
    assert login(bob).get(_map(run)).status_code == 404


def test_a_stored_name_with_a_nul_byte_is_refused(media):
    from dashboard.views import _stored_file

    assert _stored_file("maps/run.png") is not None
    assert _stored_file("maps/run.png\x00.txt") is None


def test_outsiders_get_404_for_detail_and_map(vacuum, carol, login, media):
    run = make_run(vacuum, timezone.now(), map_file="maps/run.png")
    client = login(carol)
    assert client.get(_detail(run)).status_code == 404
    assert client.get(_map(run)).status_code == 404


def test_runs_of_gone_devices_stay_readable(vacuum, bob, login):
    run = make_run(vacuum, timezone.now())
    vacuum.gone_at = timezone.now()
    vacuum.save(update_fields=["gone_at"])
    assert login(bob).get(_detail(run)).status_code == 200
