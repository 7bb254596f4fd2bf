"""The safety net itself: the fixtures must notice what a person's browser would complain about.

If these fail, every other browser test may be passing without checking anything.
"""

from playwright.sync_api import expect

from tests.browser.helpers import sign_in_as


def test_signed_in_overview_shows_the_household(page, live_server, alice):
    sign_in_as(page, live_server, alice)
    page.goto("/")
    expect(page.get_by_role("heading", name="Home")).to_be_visible()


def test_inline_script_is_blocked_by_csp_and_recorded(page, live_server, alice, browser_problems):
    sign_in_as(page, live_server, alice)
    page.goto("/")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "document.title = 'inline ran'";
            document.body.append(script);
        }"""
    )
    browser_problems.settle()
    expect(page).not_to_have_title("inline ran")
    assert any("Content Security Policy" in p for p in browser_problems.problems)
    browser_problems.allow("Content Security Policy")


def test_missing_static_file_and_script_error_are_recorded(
    page, live_server, alice, browser_problems
):
    sign_in_as(page, live_server, alice)
    page.goto("/")
    page.evaluate(
        """() => {
            const img = document.createElement("img");
            img.src = "/static/img/does-not-exist.png";
            document.body.append(img);
            setTimeout(() => { throw new Error("boom from a script"); }, 0);
        }"""
    )
    expect(page.locator("img[src$='does-not-exist.png']")).to_have_js_property("complete", True)
    page.wait_for_timeout(100)  # the setTimeout above
    browser_problems.settle()
    problems = "\n".join(browser_problems.problems)
    assert "HTTP 404" in problems
    assert "boom from a script" in problems
    browser_problems.allow("does-not-exist.png|404|boom from a script")
