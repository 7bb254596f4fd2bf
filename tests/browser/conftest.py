"""Browser tests: a real headless Chromium (Debian's) driven by Playwright against live_server.

How this plugs into pytest-playwright: the plugin stays enabled and we override its fixtures
properly instead of shadowing them with look-alikes, so its `page`, `context` and `new_context`
fixtures (and its --headed, --slowmo, --tracing, --screenshot options) keep working:

- `browser_type_launch_args` launches /usr/bin/chromium (Playwright cannot download its own
  browser here); skips when it is missing, fails instead when CI=true.
- `base_url` is the live server, so `page.goto("/accounts/login/")` works.
- `new_context` wraps the plugin's: every context (also a second one a test opens for another
  person) gets 10 s timeouts and is watched by `browser_problems`.

`browser_problems` records console errors, uncaught page errors, failed requests and HTTP
errors from the live server; a test that produced any FAILS (after its body, or at teardown for
late arrivals). That is what catches CSP violations. A test that expects e.g. a 403 says so with
`browser_problems.allow(r"403")`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# The sync Playwright API runs an event loop in the main thread; Django's ORM would refuse to
# run in tests and in live_server's in-process code without this.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest  # noqa: E402
from playwright.sync_api import BrowserContext, Error, Page, expect  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 10_000
TEST_TIMEOUT_S = 30
HERE = Path(__file__).parent

expect.set_options(timeout=TIMEOUT_MS)


def pytest_collection_modifyitems(config, items):
    # This hook sees the whole session's items: only touch the ones in this folder.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)
            # live_server serves static files from the finders; no collectstatic needed.
            item.add_marker(pytest.mark.filterwarnings("ignore:No directory at:UserWarning"))
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(TEST_TIMEOUT_S))


# --- pytest-playwright overrides -----------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """The plugin's launch options (--headed, --slowmo) plus Debian's Chromium."""
    if not os.access(CHROMIUM, os.X_OK):
        reason = (
            f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` "
            "(or set CHROMIUM_PATH). Playwright cannot download its own browser here."
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} Browser tests must not be skipped in CI.", pytrace=False)
        pytest.skip(reason)
    return {
        "headless": True,
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server.url


@pytest.fixture
def new_context(browser_problems, new_context):
    """Every browser context of a test: 10 s timeouts, watched for problems."""
    # browser_problems comes first so it is torn down last, after the contexts are closed.

    def watched_context(**kwargs) -> BrowserContext:
        context = new_context(**kwargs)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        browser_problems.watch(context)
        return context

    return watched_context


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Personas and sign-ins hash passwords; PBKDF2 costs ~0.3 s each and is not under test
    # here. live_server runs in this process, so it uses the same hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- problem recording -----------------------------------------------------------------------


class BrowserProblems:
    """Console errors, page errors, failed requests and HTTP errors seen during one test."""

    def __init__(self, server_url: str):
        self.server_url = server_url
        self.problems: list[str] = []
        self.contexts: list[BrowserContext] = []
        self._allowed: list[re.Pattern[str]] = []
        self._reported = 0
        self.test_failed = False

    def allow(self, pattern: str) -> None:
        """Ignore problems matching this regex, e.g. allow(r"403") in a test expecting one."""
        self._allowed.append(re.compile(pattern))

    def watch(self, context: BrowserContext) -> None:
        self.contexts.append(context)
        context.on("console", self._on_console)
        context.on("page", lambda page: page.on("pageerror", self._on_page_error(page)))
        context.on("requestfailed", self._on_request_failed)
        context.on("response", self._on_response)

    def _on_console(self, message) -> None:
        if message.type == "error":
            where = message.location.get("url") or (message.page.url if message.page else "")
            self.problems.append(f"console error ({where}): {message.text}")

    def _on_page_error(self, page: Page):
        def record(error) -> None:
            self.problems.append(f"page error ({page.url}): {error}")

        return record

    def _on_request_failed(self, request) -> None:
        failure = request.failure or ""
        # Leaving a page while its favicon or a stylesheet still loads aborts that request:
        # that is navigation, not a bug. Blocked requests (CSP) fail with other codes.
        if "ERR_ABORTED" in failure:
            return
        self.problems.append(f"request failed: {request.method} {request.url}: {failure}")

    def _on_response(self, response) -> None:
        if response.status >= 400 and response.url.startswith(self.server_url):
            request = response.request
            self.problems.append(f"HTTP {response.status}: {request.method} {response.url}")

    def settle(self) -> None:
        """Let events already on their way from the browser arrive (one round trip per page)."""
        for context in self.contexts:
            for page in context.pages:
                try:
                    page.evaluate("0")
                except Error:
                    pass  # closed or navigating: nothing more to wait for

    def unreported(self) -> list[str]:
        new = [
            problem
            for problem in self.problems[self._reported :]
            if not any(pattern.search(problem) for pattern in self._allowed)
        ]
        self._reported = len(self.problems)
        return new


def _problem_report(problems: list[str]) -> str:
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return f"the browser reported {len(problems)} problem(s):\n{lines}"


@pytest.fixture
def browser_problems(live_server):
    problems = BrowserProblems(live_server.url)
    yield problems
    # Anything that arrived after the test body was checked fails the test here.
    problems.settle()
    late = problems.unreported()
    if late and not problems.test_failed:  # a failed test already says what went wrong
        pytest.fail("after the test body, " + _problem_report(late), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail the test itself (not only its teardown) when the browser reported problems."""
    problems: BrowserProblems | None = item.funcargs.get("browser_problems")
    try:
        result = yield
    except BaseException as exc:
        if problems is not None:
            problems.test_failed = True
            problems.settle()
            found = problems.unreported()
            if found:
                exc.add_note(_problem_report(found))
        raise
    if problems is not None:
        problems.settle()
        found = problems.unreported()
        if found:
            problems.test_failed = True
            raise AssertionError(_problem_report(found))
    return result
