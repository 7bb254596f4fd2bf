"""S9 security headers and a strict CSP, S5 production cookies, S8 no secrets on error pages."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.test import Client, override_settings
from django.urls import path, reverse

from devices.models import CloudAccount
from tests.conftest import PASSWORD
from tests.devices import PASSWORD_SECRET, RING_OLD, SID, make_account
from tests.test_settings import production_env, run_python

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def pages(alice, login):
    """(name, response) for the pages every visitor meets, anonymous and signed in."""
    anonymous = Client()
    return {
        "login": anonymous.get(reverse("accounts:login")),
        "healthz": anonymous.get("/healthz"),
        "overview": login(alice).get(reverse("dashboard:overview")),
    }


@pytest.mark.parametrize("page_name", ["login", "healthz", "overview"])
def test_strict_content_security_policy(pages, page_name):
    response = pages[page_name]

    assert response.status_code == 200, response.get("Location")
    policy = response["Content-Security-Policy"]
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert "*" not in policy


@pytest.mark.parametrize("page_name", ["login", "healthz", "overview"])
def test_browser_hardening_headers(pages, page_name):
    response = pages[page_name]

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.parametrize("page_name", ["login", "overview"])
def test_rendered_pages_have_no_inline_script_or_style(pages, page_name):
    response = pages[page_name]
    html = response.content.decode()

    assert response.status_code == 200, response.get("Location")
    assert "<script" in html  # htmx is loaded, from a file
    problems = inline_code(html)
    assert problems == [], problems


# --- A static scan of every template keeps the CSP honest as pages are added ----------

INLINE_PATTERNS = {
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I),
    "<style> block": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"""\sstyle\s*=\s*["']""", re.I),
    "on... handler": re.compile(r"""\s(?:on[a-z]+|hx-on[\w:.-]*)\s*=""", re.I),
    "javascript: URL": re.compile(r"""=\s*["']?\s*javascript:""", re.I),
}


def inline_code(text: str) -> list[str]:
    return [
        f"{what}: {match.group(0).strip()!r}"
        for what, pattern in INLINE_PATTERNS.items()
        for match in pattern.finditer(text)
    ]


@pytest.mark.parametrize(
    ("snippet", "found"),
    [
        ("<script>alert(1)</script>", True),
        ('<script type="module">x()</script>', True),
        ('<script src="/static/js/app.js" defer></script>', False),
        ('<p style="color:red">', True),
        ("<button onclick='go()'>", True),
        ('<button hx-on:click="go()">', True),
        ('<a href="javascript:go()">', True),
        ("<style>p{}</style>", True),
        ('<p class="muted">Turned on = yes</p>', False),
        ('<input name="one" data-online="1">', False),
    ],
)
def test_the_scanner_finds_inline_code(snippet, found):
    assert bool(inline_code(snippet)) is found


def test_no_template_carries_inline_script_style_or_handlers():
    templates = sorted(TEMPLATES_DIR.rglob("*.html"))
    assert templates, f"no templates found under {TEMPLATES_DIR}"

    problems = [
        f"{template.relative_to(TEMPLATES_DIR)}: {problem}"
        for template in templates
        for problem in inline_code(template.read_text(encoding="utf-8"))
    ]

    assert problems == []


# --- S5: production cookies ---------------------------------------------------------------

COOKIE_SETTINGS = [
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE",
]


@pytest.fixture(scope="module")
def production_cookie_settings(tmp_path_factory):
    code = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {COOKIE_SETTINGS!r}}}))"
    )
    result = run_python(code, production_env(tmp_path_factory.mktemp("prod")))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_production_settings_make_cookies_secure(production_cookie_settings):
    assert production_cookie_settings == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
    }


def test_cookies_after_a_login_under_production_settings(production_cookie_settings, alice):
    client = Client()
    with override_settings(**production_cookie_settings):
        response = client.post(
            reverse("accounts:login"), {"username": "alice", "password": PASSWORD}, secure=True
        )

    assert response.status_code == 302
    assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)  # signed in
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    csrf = response.cookies[settings.CSRF_COOKIE_NAME]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert csrf["secure"] is True
    assert csrf["samesite"] == "Lax"


# --- S8: a failure while holding credentials shows neither secret nor traceback -----------


class VendorRejected(Exception):
    pass


@login_not_required
def credential_view(request, account_id):
    account = CloudAccount.objects.get(pk=account_id)
    secrets = account.credentials()  # a local that a debug page would print
    token = account.credentials_token
    raise VendorRejected(f"vendor refused the login for account {account.pk} ({len(token)})")
    return secrets  # pragma: no cover


urlpatterns = [path("boom/<int:account_id>/", credential_view)]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False, CREDENTIAL_KEYS=RING_OLD)
def test_a_crash_in_a_credential_view_shows_neither_secret_nor_traceback(home, caplog):
    account = make_account(home, secrets={"sid": SID, "password": PASSWORD_SECRET})
    client = Client(raise_request_exception=False)

    response = client.get(f"/boom/{account.pk}/")

    html = response.content.decode()
    assert response.status_code == 500
    for leak in (SID, PASSWORD_SECRET, account.credentials_token, settings.SECRET_KEY):
        assert leak not in html
        assert leak not in caplog.text
    for debug_detail in ("Traceback", "VendorRejected", "credential_view", "vendor refused"):
        assert debug_detail not in html
    # The failure is still logged for the operator, without the secrets.
    assert "VendorRejected" in caplog.text
