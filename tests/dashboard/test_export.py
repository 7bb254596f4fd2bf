"""CSV and JSON exports: streamed, the same rows as the filtered list, Berlin offsets."""

import csv
import io
import json
from datetime import timedelta

from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from devices.history import RunResult
from tests.dashboard.conftest import bulk_runs, local, make_run

EXPORT = reverse("dashboard:history_export")
HISTORY = reverse("dashboard:history")
COLUMNS = ["device", "vendor", "run_id", "start", "end", "duration_s", "area_m2", "mode",
           "result", "error_code"]  # fmt: skip


def _body(response) -> str:
    assert isinstance(response, StreamingHttpResponse) and response.streaming
    return b"".join(response.streaming_content).decode()


def _csv(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(_body(response)))
    assert reader.fieldnames == COLUMNS
    return list(reader)


def _json(response) -> list[dict]:
    assert response["Content-Type"] == "application/json"
    return json.loads(_body(response))


def _listed_ids(client, params):
    """Remote ids of every run the history list shows for these filters (all pages)."""
    ids, params = [], dict(params)
    while True:
        page = client.get(HISTORY, params).context["page"]
        ids += [run.remote_id for run in page.rows]
        if not page.has_older:
            return ids
        params["before"] = page.older_cursor


def test_csv_and_json_hold_exactly_the_filtered_list(vacuum, mower, bob, login):
    bulk_runs(vacuum, 70, newest=timezone.now())
    make_run(vacuum, timezone.now() - timedelta(hours=1), result=RunResult.ERROR)
    make_run(mower, timezone.now() - timedelta(hours=2))
    client = login(bob)
    for params in ({}, {"device": vacuum.pk}, {"vendor": "mammotion"}, {"result": "error"}):
        listed = _listed_ids(client, params)
        assert [
            r["run_id"] for r in _csv(client.get(EXPORT, {**params, "format": "csv"}))
        ] == listed
        assert [
            r["run_id"] for r in _json(client.get(EXPORT, {**params, "format": "json"}))
        ] == listed
    assert len(_listed_ids(client, {})) == 72


def test_rows_carry_every_column_with_the_households_offset(vacuum, mower, bob, login):
    make_run(
        vacuum,
        local(2025, 7, 1, 9, 0),
        area=42.5,
        duration=1800,
        mode="smartClean",
        result=RunResult.ERROR,
        error_code="-2201",
        remote_id="SN-1751353200",
    )
    make_run(mower, local(2025, 12, 1, 9, 0), area=300, duration=3600, remote_id="work-9")
    client = login(bob)
    rows = _csv(client.get(EXPORT, {"format": "csv"}))
    assert rows[1] == {
        "device": "Robbie", "vendor": "360 Smart", "run_id": "SN-1751353200",
        "start": "2025-07-01T09:00:00+02:00", "end": "2025-07-01T09:30:00+02:00",
        "duration_s": "1800", "area_m2": "42.5", "mode": "smartClean", "result": "error",
        "error_code": "-2201",
    }  # fmt: skip
    assert rows[0]["start"] == "2025-12-01T09:00:00+01:00" and rows[0]["vendor"] == "Mammotion"
    items = _json(client.get(EXPORT, {"format": "json"}))
    assert items[1]["duration_s"] == 1800 and items[1]["area_m2"] == 42.5
    assert items[1]["start"] == "2025-07-01T09:00:00+02:00"
    assert items[0]["error_code"] == ""


def test_date_filters_apply_to_the_export_in_local_time(vacuum, bob, login):
    make_run(vacuum, local(2025, 10, 31, 23, 30), remote_id="late")
    make_run(vacuum, local(2025, 11, 1, 0, 30), remote_id="next-day")
    rows = _csv(login(bob).get(EXPORT, {"format": "csv", "date_to": "2025-10-31"}))
    assert [r["run_id"] for r in rows] == ["late"]


def test_empty_values_and_missing_times(vacuum, bob, login):
    make_run(vacuum, None, area=None, duration=None, mode="", remote_id="bare")
    row = _csv(login(bob).get(EXPORT, {"format": "csv"}))[0]
    assert (row["start"], row["end"], row["area_m2"], row["duration_s"]) == ("", "", "", "")
    item = _json(login(bob).get(EXPORT, {"format": "json"}))[0]
    assert item["start"] is None and item["area_m2"] is None


def test_names_that_look_like_formulas_are_defused_in_csv(account, bob, login):
    from tests.dashboard.conftest import make_device

    sneaky = make_device(account, name='=HYPERLINK("http://x")')
    make_run(sneaky, timezone.now(), error_code="-2201")
    row = _csv(login(bob).get(EXPORT, {"format": "csv"}))[0]
    assert row["device"].startswith("'=") and row["error_code"] == "-2201"


def test_another_households_runs_are_never_exported(vacuum, carol_vacuum, bob, carol, login):
    make_run(vacuum, timezone.now(), remote_id="home-run")
    make_run(carol_vacuum, timezone.now(), remote_id="carol-run")
    for params in ({}, {"device": carol_vacuum.pk}):
        rows = _csv(login(bob).get(EXPORT, {**params, "format": "csv"}))
        assert [r["run_id"] for r in rows] == ["home-run"]
    assert [r["run_id"] for r in _json(login(carol).get(EXPORT, {"format": "json"}))] == [
        "carol-run"
    ]


def test_the_export_is_a_download_and_unknown_formats_are_refused(vacuum, bob, login):
    client = login(bob)
    response = client.get(EXPORT, {"format": "csv"})
    assert response["Content-Disposition"].startswith('attachment; filename="runs-')
    assert client.get(EXPORT).status_code == 200  # CSV by default
    assert client.get(EXPORT, {"format": "xlsx"}).status_code == 400


def test_the_export_streams_rows_from_a_chunked_iterator(
    vacuum, bob, login, monkeypatch, django_assert_max_num_queries
):
    """Constant memory: one query read through QuerySet.iterator(chunk_size), one line
    handed to the server at a time, nothing read before the body is consumed."""
    from django.db.models.query import QuerySet

    chunk_sizes = []
    original = QuerySet.iterator

    def spy(self, chunk_size=None):
        chunk_sizes.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    bulk_runs(vacuum, 3000, newest=timezone.now())
    client = login(bob)
    with django_assert_max_num_queries(8):
        response = client.get(EXPORT, {"format": "csv"})
        assert chunk_sizes == []  # lazy: the rows are read while streaming
        lines = sum(1 for _ in response.streaming_content)
    assert lines == 3001 and chunk_sizes == [2000]
