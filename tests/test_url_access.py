"""Every URL of the project, walked from the root URLconf: who may reach it without signing in,
and that no POST gets past CSRF protection without a token.

New URLs are covered automatically; a public one must be added to PUBLIC below, on purpose.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.converters import IntConverter, PathConverter, UUIDConverter
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.regex_helper import normalize

# Reachable without signing in, on purpose (namespace:name). Static files are not URL
# patterns: whitenoise serves them before any view.
PUBLIC = {
    "accounts:login",
    "accounts:setup",
    "accounts:invitation_accept",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "dashboard:healthz",
    "admin:login",
}
# The admin's own pages (index, app lists, its password change...) send anonymous visitors
# to its login page, which authenticates through the same throttled backends.
ADMIN_LOGIN_OK = "admin"
# Views that accept POSTs without a CSRF token (webhooks and the like). None so far.
CSRF_EXEMPT: set[str] = set()

DUMMY_BY_CONVERTER = {
    IntConverter: "1",
    UUIDConverter: str(uuid.UUID(int=1)),
    PathConverter: "dummy/path",
}
CANDIDATES = ["1", "dummy", "accounts", "auth", str(uuid.UUID(int=1)), "dummy/path", "a"]


def sample_route(pattern: RoutePattern) -> str:
    """The route with every <converter:name> filled with a value the converter accepts."""

    def fill(match: re.Match) -> str:
        converter = pattern.converters[match.group("name")]
        if type(converter) in DUMMY_BY_CONVERTER:
            return DUMMY_BY_CONVERTER[type(converter)]
        for value in CANDIDATES:
            if re.fullmatch(converter.regex, value):
                return value
        raise AssertionError(f"No dummy value for {converter!r} in {pattern}")

    return re.sub(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>", fill, str(pattern._route))


def sample_regex(pattern: RegexPattern, is_endpoint: bool) -> str:
    """A string the regex matches, from the same normalisation reverse() uses."""
    regex = pattern._regex
    fmt, params = normalize(regex)[0]
    for value in CANDIDATES:
        sample = fmt % {p: value for p in params}
        full = re.fullmatch if is_endpoint else re.match
        if full(regex.removesuffix("$").removeprefix("^") + ("$" if is_endpoint else ""), sample):
            return sample
    raise AssertionError(f"No sample path for {regex!r}")


def walk(resolver=None, prefix="", namespace=""):
    """(full path, namespace:name) for every endpoint in the URLconf tree."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        if isinstance(pattern, RoutePattern):
            part = sample_route(pattern)
        else:
            part = sample_regex(pattern, isinstance(entry, URLPattern))
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace]))
            yield from walk(entry, prefix + part, inner)
        else:
            name = ":".join(filter(None, [namespace, entry.name])) if entry.name else None
            yield "/" + prefix + part, name or namespace + ":<unnamed>", entry


ENDPOINTS = list(walk())


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def endpoint_id(endpoint) -> str:
    path, name, _ = endpoint
    return f"{name} {path}"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_sample_path_resolves_to_its_own_view(endpoint):
    path, name, entry = endpoint
    match = resolve(path)
    assert match.func == entry.callback or match.view_name == name


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_anonymous_get_is_sent_to_sign_in_unless_public(endpoint, alice):
    path, name, _ = endpoint
    if name in PUBLIC:
        pytest.skip("public on purpose")
    response = Client().get(path)
    assert response.status_code == 302, f"{path} answered {response.status_code}"
    login_pages = [reverse(settings.LOGIN_URL)]
    if name.split(":")[0] == ADMIN_LOGIN_OK:
        login_pages.append(reverse("admin:login"))
    assert response["Location"].startswith(tuple(page + "?next=" for page in login_pages))


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_post_without_csrf_token_is_refused(endpoint, alice, login):
    path, name, _ = endpoint
    if name in CSRF_EXEMPT:
        pytest.skip("CSRF-exempt on purpose")
    for client in [Client(enforce_csrf_checks=True), login(alice, enforce_csrf_checks=True)]:
        response = client.post(path, {"anything": "1"})
        assert response.status_code == 403, f"{path} answered {response.status_code}"


def test_public_names_still_exist():
    names = {name for _, name, _ in ENDPOINTS}
    assert PUBLIC <= names
