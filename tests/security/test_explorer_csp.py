"""The explorer works under its Content-Security-Policy: logging in, searching, drawing a
neighbourhood and running the layout worker raise no CSP violation in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from neo4j import Driver
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright

from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, analyst, web_dist, web_url  # noqa: F401
from tests.web.test_explorer import CORE_NAME, log_in, seed, wait_layout

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]


@pytest.fixture
def page() -> Iterator[Page]:
    """A browser of this test's own: Playwright's sync API keeps an event loop running in
    the thread while it is open, which must not outlive the test (asyncio.run elsewhere)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page()
        browser.close()


def test_the_explorer_runs_under_its_policy(
    page: Page,
    web_url: str,  # noqa: F811
    analyst: tuple[str, str],  # noqa: F811
    db: Driver,
    database: str,
) -> None:
    violations: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            violations.append(message.text)

    page.on("console", watch)
    seed(db, database)
    log_in(page, web_url, analyst)
    served = page.context.request.get(web_url + "/")
    assert "frame-ancestors 'none'" in served.headers["content-security-policy"]
    page.fill("#search", "牧歌")
    page.locator("#results li", has_text=CORE_NAME).click()
    expect(page.locator("#card-name")).to_have_text(CORE_NAME)
    page.wait_for_function("() => window.__explorer.view.graph.order === 29")
    wait_layout(page)  # ForceAtlas2 ran in its (blob) worker and stopped
    assert not violations, violations
