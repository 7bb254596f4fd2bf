"""Linking cloud accounts in a real browser, against the simulator over HTTP.

Every test also fails on any console error, page error or failed request (conftest.py).
"""

# Fixtures are imported from test_linking_fixtures (no conftest of our own here).
# ruff: noqa: F811

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from devices.models import CloudAccount, Device
from tests.conftest import PASSWORD
from tests.devices.test_linking_fixtures import (  # noqa: F401
    CLIENT_ID,
    CLIENT_SECRET,
    QID,
    SID,
    Q,
    T,
    cloud,
    put_in_sudo_mode,
    sync_calls,
)

ACCOUNTS = reverse("devices:accounts")
LINK_360 = reverse("devices:link_qihoo360")
LINK_MAMMOTION = reverse("devices:link_mammotion")


def sign_in_in_sudo_mode(page, live_server, user) -> None:
    """A signed-in session that has just confirmed its password (not what is tested here)."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    put_in_sudo_mode(client, user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )


@pytest.fixture
def owner_page(page, live_server, cloud, sync_calls, alice):
    sign_in_in_sudo_mode(page, live_server, alice)
    return page


def account_page(account) -> re.Pattern[str]:
    return re.compile(re.escape(reverse("devices:account", args=[account.pk])) + "(#.*)?$")


def test_owner_confirms_the_password_then_links_360_by_qid_and_sid(
    page, live_server, cloud, sync_calls, alice
):
    from tests.browser.helpers import sign_in_as

    sign_in_as(page, live_server, alice)
    page.goto(ACCOUNTS)
    page.get_by_role("button", name="Link a cloud account").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("button", name="Link 360 Smart").click()

    way = page.locator("#way-sid")
    way.get_by_label("QID").fill(QID)
    way.get_by_label("SID", exact=True).fill(SID)
    way.get_by_role("button", name="Link with QID and SID").click()

    account = CloudAccount.objects.get()
    expect(page).to_have_url(account_page(account))
    expect(page.get_by_text("Found 4 machines.")).to_be_visible()
    expect(page.get_by_text("No push key was given")).to_be_visible()
    for name in ["Living room", "Upstairs", "Garage", "Office"]:
        expect(page.get_by_role("link", name=name)).to_be_visible()
    assert sync_calls == [(account.pk, "link")]


def test_owner_links_360_by_q_and_t_cookies(owner_page):
    owner_page.goto(LINK_360)
    owner_page.locator("#way-cookies summary").click()  # the help opens and closes
    way = owner_page.locator("#way-cookies")
    way.get_by_label("Q cookie").fill(Q)
    way.get_by_label("T cookie").fill(T)
    way.get_by_role("button", name="Link with the cookies").click()

    account = CloudAccount.objects.get()
    expect(owner_page).to_have_url(account_page(account))
    expect(owner_page.get_by_text("Found 1 machine.")).to_be_visible()
    expect(owner_page.get_by_role("link", name="Office")).to_be_visible()
    expect(owner_page.get_by_text("QID with Q and T cookies")).to_be_visible()


def test_owner_links_mammotion_by_client_credentials_and_sees_the_mowers(owner_page):
    owner_page.goto(ACCOUNTS)
    owner_page.get_by_role("button", name="Link a cloud account").click()
    owner_page.get_by_role("button", name="Link Mammotion").click()
    owner_page.get_by_label("Client ID").fill(CLIENT_ID)
    owner_page.get_by_label("Client secret").fill(CLIENT_SECRET)
    owner_page.get_by_role("button", name="Link with client credentials").click()

    account = CloudAccount.objects.get()
    expect(owner_page).to_have_url(account_page(account))
    for name in ["Luba-VS5K8D2M1", "Front Lawn", "RTKX9Q2L7P4", "Luba-MN4H7C1K9"]:
        expect(owner_page.get_by_role("link", name=name)).to_be_visible()
    expect(owner_page.get_by_text("RTK station")).to_be_visible()
    assert CLIENT_SECRET not in owner_page.content()


def test_a_wrong_sid_shows_why_and_stores_nothing(owner_page):
    owner_page.goto(LINK_360)
    way = owner_page.locator("#way-sid")
    way.get_by_label("QID").fill(QID)
    way.get_by_label("SID", exact=True).fill("0" * 32)
    way.get_by_role("button", name="Link with QID and SID").click()

    expect(way.get_by_text("360 did not accept this SID")).to_be_visible()
    expect(way.get_by_label("SID", exact=True)).to_have_value("")  # never shown back
    expect(way.get_by_label("QID")).to_have_value(QID)
    assert not CloudAccount.objects.exists() and not Device.objects.exists()
