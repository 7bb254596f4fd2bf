"""Helpers for browser tests: signing in, reading the invitation mail."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page

SIGN_IN_BUTTON = re.compile(r"^(sign in|log in|login)$", re.IGNORECASE)


def log_in_with_form(page: Page, username: str, password: str) -> None:
    """Sign in the way a person does: the login form, typed and submitted."""
    page.goto(reverse("accounts:login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name=SIGN_IN_BUTTON).click()


def sign_in_as(page: Page, live_server, user) -> None:
    """Sign in without the form (for tests that are not about login): a real session cookie.

    The session is made by the test client's force_login in the shared test database and
    handed to the browser context; the next page load is signed in.
    """
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session_cookie.value,
                "url": live_server.url,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )


def link_path_in_mail(message) -> str:
    """The path (and query) of the first http(s) link in a mail, to open on the live server.

    Mails link to SITE_URL, which is not the live server's address in tests.
    """
    bodies = [message.body] + [content for content, _ in getattr(message, "alternatives", [])]
    for body in bodies:
        match = re.search(r"https?://[^\s\"'<>]+", body)
        if match:
            parts = urlsplit(match.group(0))
            return parts.path + (f"?{parts.query}" if parts.query else "")
    raise AssertionError(f"no link in the mail {message.subject!r}:\n{message.body}")
