"""Screenshot pages at phone and desktop widths, to look at them (headless Debian Chromium).

    .venv/bin/python tools/screenshots.py --base-url http://127.0.0.1:8000 \\
        --user alice --out /tmp/shots / /accounts/household/

Signs in through the real login form first (the password comes from --password or, better,
the SCREENSHOT_PASSWORD environment variable), unless --no-login. Each path is saved full page
as <out>/<path>__phone-390.png and <out>/<path>__desktop-1280.png. Console errors, page errors,
failed requests and HTTP errors are printed; the exit status is 1 if there were any, 2 if the
tool could not run (bad arguments, login failed, browser missing).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import Browser, BrowserContext, Error, Page, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SIZES = {  # name: (width, height, is_mobile)
    "phone": (390, 844, True),
    "desktop": (1280, 900, False),
}
TIMEOUT_MS = 10_000
SIGN_IN_BUTTON = re.compile(r"^(sign in|log in|login)$", re.IGNORECASE)


class ToolError(Exception):
    """Something that stops the tool (exit status 2)."""


@dataclass
class Problems:
    origin: str
    seen: list[str] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        context.on("console", self._console)
        context.on("page", lambda page: page.on("pageerror", self._page_error(page)))
        context.on("requestfailed", self._request_failed)
        context.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error":
            self.seen.append(f"console error: {message.text}")

    def _page_error(self, page: Page):
        return lambda error: self.seen.append(f"page error on {page.url}: {error}")

    def _request_failed(self, request) -> None:
        if "ERR_ABORTED" not in (request.failure or ""):  # aborted by leaving the page
            self.seen.append(f"request failed: {request.url}: {request.failure}")

    def _response(self, response) -> None:
        if response.status >= 400 and response.url.startswith(self.origin):
            self.seen.append(f"HTTP {response.status}: {response.url}")

    def take(self) -> list[str]:
        taken, self.seen = self.seen, []
        return taken


def file_stem(path: str) -> str:
    """'/' -> 'root', '/accounts/household/' -> 'accounts-household', queries kept."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")
    return stem or "root"


def new_context(browser: Browser, size: str, problems: Problems, args, storage_state=None):
    width, height, mobile = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        is_mobile=mobile,
        has_touch=mobile,
        color_scheme=args.color_scheme,
        storage_state=storage_state,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    problems.watch(context)
    return context


def log_in(browser: Browser, problems: Problems, args) -> dict:
    """Sign in through the login form; returns the signed-in storage state (cookies)."""
    context = new_context(browser, "desktop", problems, args)
    try:
        page = context.new_page()
        page.goto(urljoin(args.base_url, args.login_path))
        page.get_by_label("Username").fill(args.user)
        page.get_by_label("Password", exact=True).fill(args.password)
        page.get_by_role("button", name=SIGN_IN_BUTTON).click()
        page.wait_for_load_state()
        if urlsplit(page.url).path == args.login_path:
            raise ToolError(f"login as {args.user!r} failed: still on {page.url}")
        return context.storage_state()
    except Error as exc:
        raise ToolError(f"could not use the login form at {args.login_path}: {exc}") from None
    finally:
        context.close()


def shoot(context: BrowserContext, size: str, path: str, args, problems: Problems) -> bool:
    """One full-page screenshot; prints what it saw. True when the page had no problems."""
    out = args.out / f"{file_stem(path)}__{size}-{SIZES[size][0]}.png"
    page = context.new_page()
    try:
        response = page.goto(urljoin(args.base_url, path))
        try:
            page.wait_for_load_state("networkidle", timeout=3_000)
        except Error:
            pass  # something keeps polling: take the picture anyway
        page.screenshot(path=out, full_page=True)
        status = response.status if response else "-"
        landed = urlsplit(page.url).path
        note = f" (ended at {landed})" if landed != urlsplit(path).path else ""
        print(f"{size:8} {status} {path}{note} -> {out}")
    except Error as exc:
        problems.seen.append(f"could not screenshot: {exc.message.splitlines()[0]}")
    finally:
        try:
            page.evaluate("0")  # let late console messages arrive
        except Error:
            pass
        page.close()
    found = problems.take()
    for problem in found:
        print(f"         ! {problem}")
    return not found


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Screenshot pages at phone (390x844) and desktop (1280x900) widths.",
    )
    parser.add_argument("paths", nargs="+", help="paths to screenshot, e.g. / /accounts/household/")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--user", help="sign in as this user through the login form")
    parser.add_argument(
        "--password",
        default=os.environ.get("SCREENSHOT_PASSWORD"),
        help="password for --user (default: $SCREENSHOT_PASSWORD)",
    )
    parser.add_argument("--no-login", action="store_true", help="do not sign in")
    parser.add_argument("--login-path", default="/accounts/login/")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    parser.add_argument("--size", choices=sorted(SIZES), action="append", help="only this size")
    parser.add_argument("--color-scheme", choices=["light", "dark"], default="light")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    args = parser.parse_args(argv)
    if not args.no_login and not (args.user and args.password):
        parser.error("give --user and --password (or SCREENSHOT_PASSWORD), or --no-login")
    args.base_url = args.base_url.rstrip("/") + "/"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not os.access(args.chromium, os.X_OK):
        print(
            f"Chromium not found at {args.chromium} (apt-get install -y chromium)", file=sys.stderr
        )
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(args.base_url))
    problems = Problems(origin)
    all_clean = True
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            state = None if args.no_login else log_in(browser, problems, args)
            for problem in problems.take():
                print(f"login    ! {problem}")
                all_clean = False
            for size in args.size or list(SIZES):
                context = new_context(browser, size, problems, args, storage_state=state)
                for path in args.paths:
                    all_clean &= shoot(context, size, path, args, problems)
                context.close()
        except ToolError as exc:
            print(exc, file=sys.stderr)
            return 2
        finally:
            browser.close()
    if not all_clean:
        print("The browser reported problems (listed with !).")
    return 0 if all_clean else 1


if __name__ == "__main__":
    sys.exit(main())
