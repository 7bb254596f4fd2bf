"""The words the accounts pages build from data: articles, lists of names, expiry times."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.views.wording import a_role, either_of, expires_in

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("role", "phrase"), [("owner", "an owner"), ("operator", "an operator"), ("viewer", "a viewer")]
)
def test_roles_get_the_right_article(role, phrase):
    assert a_role(role) == phrase


@pytest.mark.parametrize(
    ("names", "text"),
    [
        ([], ""),
        (["alice"], "alice"),
        (["alice", "oscar"], "alice or oscar"),
        (["alice", "oscar", "zoe"], "alice, oscar or zoe"),
    ],
)
def test_names_are_joined_as_alternatives(names, text):
    assert either_of(names) == text


@pytest.mark.parametrize(
    ("left", "text"),
    [
        (timedelta(days=7), "in 7 days"),
        (timedelta(days=6, hours=23, minutes=59), "in 7 days"),
        (timedelta(days=1, hours=2), "in 1 day"),
        (timedelta(hours=23, minutes=40), "in 1 day"),
        (timedelta(hours=5, minutes=10), "in 5 hours"),
        (timedelta(minutes=59), "in 59 minutes"),
        (timedelta(seconds=20), "in 1 minute"),
    ],
)
def test_expiry_is_short_and_rounded(left, text):
    assert expires_in(NOW + left, now=NOW) == text
