"""Changing one's password and resetting a forgotten one by email."""

import re

from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from tests.conftest import PASSWORD

CHANGE = "/accounts/password/"
RESET = "/accounts/password/reset/"
HOUSEHOLD = "/accounts/household/"
NEW = "another-horse-battery-7"


def change(client, old=PASSWORD, new=NEW, again=NEW):
    data = {"old_password": old, "new_password1": new, "new_password2": again}
    return client.post(CHANGE, data)


def test_password_change_page_has_labelled_fields(alice, login):
    html = login(alice).get(CHANGE).content.decode()
    for field_id in ["id_old_password", "id_new_password1", "id_new_password2"]:
        assert f'<label for="{field_id}">' in html


def test_password_change_keeps_this_session_and_ends_the_others(alice, login):
    here, elsewhere = login(alice), login(alice)
    response = change(here)
    assert response["Location"] == reverse("accounts:password_change")
    alice.refresh_from_db()
    assert alice.check_password(NEW)
    assert here.get(HOUSEHOLD).status_code == 200
    assert elsewhere.get(HOUSEHOLD)["Location"].startswith(reverse("accounts:login"))


def test_password_change_cycles_this_sessions_key(alice, login):
    client = login(alice)
    before = client.cookies["sessionid"].value
    change(client)
    assert client.cookies["sessionid"].value != before


def test_wrong_current_password_is_an_error_next_to_the_field(alice, login):
    response = change(login(alice), old="not-it")
    assert response.status_code == 200
    assert 'id="id_old_password_error"' in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_weak_new_password_is_refused(alice, login):
    response = change(login(alice), new="12345678", again="12345678")
    assert 'id="id_new_password2_error"' in response.content.decode()


# --- reset by email ------------------------------------------------------------------------


def reset_link(body: str) -> str:
    return re.search(r"https?://\S+/accounts/password/reset/\S+/\S+/", body).group(0)


@override_settings(SITE_URL="https://robots.example.org")
def test_reset_email_link_is_built_from_site_url(alice):
    response = Client().post(RESET, {"email": "alice@example.com"}, HTTP_HOST="localhost")
    assert response["Location"] == reverse("accounts:password_reset_done")
    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert reset_link(message.body).startswith("https://robots.example.org/accounts/")
    assert "localhost" not in message.body


def test_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(alice):
    response = Client().post(RESET, {"email": "nobody@example.com"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_reset_link_sets_a_new_password_once_and_ends_other_sessions(alice, login):
    elsewhere = login(alice)
    Client().post(RESET, {"email": "alice@example.com"})
    path = reset_link(mail.outbox[0].body).split("://", 1)[1].split("/", 1)[1]
    client = Client()
    form_page = client.get("/" + path, follow=True)
    assert form_page.context["validlink"]
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    assert done["Location"] == reverse("accounts:password_reset_complete")
    assert "Password saved" in client.get(done["Location"]).content.decode()
    alice.refresh_from_db()
    assert alice.check_password(NEW)
    assert elsewhere.get(HOUSEHOLD)["Location"].startswith(reverse("accounts:login"))
    # The link worked once.
    again = Client().get("/" + path, follow=True)
    assert not again.context["validlink"]
    assert "This link no longer works" in again.content.decode()


def test_reset_pages_use_our_templates(alice):
    client = Client()
    assert "Reset your password" in client.get(RESET).content.decode()
    done = client.get(reverse("accounts:password_reset_done")).content.decode()
    assert "Check your email" in done


@override_settings(EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend")
def test_without_a_mail_server_the_reset_pages_say_whom_to_ask(alice, capsys):
    client = Client()
    form = client.get(RESET).content.decode()
    assert "This server has no email set up" in form
    assert "ask the person who runs this dashboard" in form
    done = client.post(RESET, {"email": "alice@example.com"}).content.decode()
    assert "Ask the person who runs this dashboard" in done
    assert "Check your email" not in done
    # The same page for an address nobody uses.
    unknown = client.post(RESET, {"email": "nobody@example.com"}).content.decode()
    assert unknown.split("<main", 1)[1] == done.split("<main", 1)[1]
