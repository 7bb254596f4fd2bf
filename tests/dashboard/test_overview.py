"""The household overview: cards, totals and charts equal what the archive holds, bucketed
by week and month in the household's time zone (Europe/Berlin), across DST changes."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from devices.models import AccountStatus, DeviceStats
from tests.dashboard.conftest import local, make_device, make_run

OVERVIEW = reverse("dashboard:overview")


def _series(overview, chart_id):
    chart = next(c for c in overview.charts if c.id == chart_id)
    return [value for _, value in chart.rows]


@pytest.fixture
def autumn(vacuum, mower):
    """Runs around the October DST change (26 Oct 2025) and the month's end; now is
    Wednesday 5 Nov 2025, noon in Berlin."""
    with time_machine.travel(local(2025, 11, 5, 12, 0), tick=False):
        runs = {
            "a": make_run(vacuum, local(2025, 11, 3, 0, 30), area=10, duration=600),  # Mon
            "b": make_run(vacuum, local(2025, 11, 2, 23, 30), area=20, duration=1200),  # Sun
            "c": make_run(vacuum, local(2025, 10, 31, 23, 30), area=40, duration=2400),
            "d": make_run(vacuum, local(2025, 10, 26, 23, 30), area=80, duration=600),  # DST day
            "e": make_run(vacuum, local(2025, 10, 27, 0, 30), area=160, duration=600),
            "f": make_run(vacuum, local(2025, 11, 1, 0, 30), area=5, duration=300),
            "g": make_run(mower, local(2025, 11, 4, 10, 0), area=300, duration=3600),
            "h": make_run(mower, local(2024, 6, 1, 10, 0), area=1000, duration=7200),
        }
        yield runs


def test_totals_per_period_and_kind_equal_the_runs(autumn, alice, login):
    response = login(alice).get(OVERVIEW)
    overview = response.context["overview"]
    totals = {p["label"]: p for p in overview.periods}

    week, month, ever = totals["This week"], totals["This month"], totals["All time"]
    assert (week["all"].runs, week["all"].area_m2, week["all"].duration_s) == (2, 310, 4200)
    assert (week["vacuum"].runs, week["mower"].runs) == (1, 1)
    # November: a, b, f (vacuum) and g (mower); c at 23:30 on 31 October stays in October.
    assert (month["all"].runs, month["all"].area_m2, month["all"].duration_s) == (4, 335, 5700)
    assert (month["vacuum"].area_m2, month["mower"].area_m2) == (35, 300)
    assert (ever["all"].runs, ever["all"].area_m2) == (8, 1615)
    assert (ever["vacuum"].duration_s, ever["mower"].duration_s) == (5700, 10800)

    body = response.content.decode()
    for text in ("310 m²", "335 m²", "1,615 m²", "1.2 h", "1.6 h"):
        assert text in body


def test_weekly_and_monthly_buckets_follow_berlin_time_around_the_october_change(
    autumn, alice, login
):
    overview = login(alice).get(OVERVIEW).context["overview"]
    weeks = _series(overview, "household-area-week")
    # ..., week of 20 Oct (d: Sunday 26 Oct 23:30, after the clocks went back),
    # week of 27 Oct (e, c, f and b: Sunday 2 Nov 23:30), week of 3 Nov (a, g).
    assert weeks[-3:] == ["80 m²", "225 m²", "310 m²"]
    assert _series(overview, "household-runs-week")[-3:] == ["1 run", "4 runs", "2 runs"]
    months = _series(overview, "household-area-month")
    assert months[-2:] == ["280 m²", "335 m²"]  # October: c, d, e; November: a, b, f, g
    assert len(months) == 12 and set(months[:-2]) == {"0 m²"}  # June 2024 is older


def test_lifetime_line_adds_up_every_month_since_the_first_run(autumn, alice, login):
    overview = login(alice).get(OVERVIEW).context["overview"]
    chart = next(c for c in overview.charts if c.id == "household-area-lifetime")
    assert chart.rows[0] == ("End of June 2024", "1,000 m²")
    assert chart.rows[-2] == ("End of October 2025", "1,280 m²")
    assert chart.rows[-1] == ("End of November 2025", "1,615 m²")
    assert len(chart.rows) == 18


def test_runs_around_the_march_change_land_in_the_right_week_and_month(vacuum, alice, login):
    with time_machine.travel(local(2025, 4, 2, 12, 0), tick=False):
        make_run(vacuum, local(2025, 3, 23, 23, 30), area=1)  # Sunday, still winter time
        make_run(vacuum, local(2025, 3, 30, 23, 30), area=2)  # last Sunday of March, summer
        make_run(vacuum, local(2025, 3, 31, 0, 30), area=4)  # Monday: new week, March
        make_run(vacuum, local(2025, 4, 1, 0, 30), area=8)  # April (22:30 UTC in March)
        overview = login(alice).get(OVERVIEW).context["overview"]
    assert _series(overview, "household-area-week")[-3:] == ["1 m²", "2 m²", "12 m²"]
    assert _series(overview, "household-area-month")[-2:] == ["7 m²", "8 m²"]
    card = overview.cards[0]
    assert (card.week.runs, card.week.area_m2, card.month.runs, card.month.area_m2) == (2, 12, 1, 8)


def test_each_card_shows_its_devices_numbers_and_last_run(autumn, vacuum, mower, alice, login):
    response = login(alice).get(OVERVIEW)
    cards = {c.device.pk: c for c in response.context["overview"].cards}
    assert cards[vacuum.pk].last_run == autumn["a"]
    assert cards[mower.pk].last_run == autumn["g"]
    assert (cards[vacuum.pk].week.runs, cards[vacuum.pk].month.runs) == (1, 3)
    assert cards[vacuum.pk].all_time.area_m2 == 315
    assert (cards[mower.pk].all_time.runs, cards[mower.pk].all_time.duration_s) == (2, 10800)
    body = response.content.decode()
    assert "Mon 3 Nov, 00:30" in body  # the vacuum's last run, in Berlin time
    assert "Tue 4 Nov, 10:00" in body


def test_gone_devices_have_no_card_but_their_runs_stay_in_the_totals(vacuum, account, alice, login):
    old = make_device(account, name="Old robot", gone_at=timezone.now())
    make_run(old, timezone.now() - timedelta(days=400), area=50)
    make_run(vacuum, timezone.now() - timedelta(days=400), area=5)
    response = login(alice).get(OVERVIEW)
    overview = response.context["overview"]
    assert [c.device for c in overview.cards] == [vacuum]
    assert "Old robot" not in response.content.decode()
    assert overview.periods[2]["all"].area_m2 == 55


def test_state_in_words_with_battery_and_age(account, alice, login):
    now = timezone.now()
    make_device(account, name="Fresh", state="fullcharge", battery=100, status_observed_at=now)
    make_device(account, name="Old", state="sweep", status_observed_at=now - timedelta(hours=3))
    make_device(account, name="Never", state="", status_observed_at=None)
    body = login(alice).get(OVERVIEW).content.decode()
    assert (
        "Docked, fully charged" in body and "battery 100 %" in body and "Updated just now" in body
    )
    assert "Stale:" in body and "last reported 3 h ago" in body
    assert "No status reported yet." in body and "Status unknown" in body


def test_an_account_needing_attention_comes_first_with_a_link(vacuum, account, alice, login):
    account.set_status(AccountStatus.REAUTH_REQUIRED, "Token expired")
    body = login(alice).get(OVERVIEW).content.decode()
    assert f'href="/cloud/{account.pk}/"' in body and "Token expired" in body
    assert body.index("linked again") < body.index("Robbie")


def test_accounts_that_are_fine_show_no_banner(vacuum, alice, login):
    assert 'class="banner' not in login(alice).get(OVERVIEW).content.decode()


def test_vendor_totals_are_shown_beside_the_archive(vacuum, alice, login):
    DeviceStats.objects.create(
        device=vacuum,
        area_m2=594,
        runs=22,
        duration_s=44175,
        extra={"clues": "Equivalent to ((4.1)) basketball courts", "mop_area_m2": 0},
    )
    make_run(vacuum, timezone.now() - timedelta(hours=1), area=42, duration=1800)
    body = login(alice).get(OVERVIEW).content.decode()
    assert "594 m²" in body and "12.3 h" in body and "42 m²" in body
    assert "Equivalent to <strong>4.1</strong> basketball courts" in body
    assert "Mopped area" not in body  # zero: not worth a line


def test_empty_household_tells_an_owner_to_link_an_account(alice, login):
    body = login(alice).get(OVERVIEW).content.decode()
    assert (
        "No machines yet" in body and '<a href="/cloud/" role="button">Link a cloud account' in body
    )


def test_empty_household_tells_a_viewer_to_ask_an_owner(bob, login):
    body = login(bob).get(OVERVIEW).content.decode()
    assert "Ask an owner" in body and "Link a cloud account" not in body


def test_linked_account_without_devices_yet_says_they_come_with_the_sync(account, bob, login):
    assert "after the first sync" in login(bob).get(OVERVIEW).content.decode()


def test_a_user_in_no_household_is_welcomed_not_refused(db, login, django_user_model):
    loner = django_user_model.objects.create_user("loner", "l@example.com", "x-pass-12345")
    response = login(loner).get(OVERVIEW)
    assert (
        response.status_code == 200 and "not a member of a household" in response.content.decode()
    )


def test_other_households_machines_never_appear(vacuum, carol_vacuum, alice, carol, login):
    make_run(carol_vacuum, timezone.now() - timedelta(hours=1), area=777)
    response = login(alice).get(OVERVIEW)
    body = response.content.decode()
    assert "Carol" not in body and "777 m²" not in body
    assert response.context["overview"].periods[2]["all"].runs == 0
    carols = login(carol).get(OVERVIEW)
    assert "Robbie" not in carols.content.decode()
    assert [c.device for c in carols.context["overview"].cards] == [carol_vacuum]


def test_a_removed_account_no_longer_counts_as_linked(account, bob, login):
    account.credentials_token = ""  # what removal keeping the history leaves behind
    account.save(update_fields=["credentials_token"])

    page = login(bob).get(OVERVIEW).content.decode()

    assert "after the first sync" not in page
