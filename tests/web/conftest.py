"""Browser fixtures: the built explorer served by the real app over the real Neo4j, driven by
Playwright in Debian's headless Chromium (never a downloaded browser).

Screenshots and timings go to `test-artifacts/web/` (git-ignored) for people to look at.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j import Driver
from playwright.sync_api import Browser, Page, sync_playwright

from api.app import WEB_DIST
from api.security import Role, add_user
from chainlens.settings import PROJECT_ROOT, Environment, Settings
from tests.api.conftest import PASSWORD
from tests.api.serving import serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "web"
USERNAME = "web-analyst"


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """The web build (the explorer, the rule editor); built here (as `make web` does) when a
    page is missing."""
    if not all((WEB_DIST / page).is_file() for page in ("index.html", "rules.html")):
        web = WEB_DIST.parent
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=web, check=True)
        subprocess.run(["npm", "run", "build"], cwd=web, check=True)
    return WEB_DIST


@pytest.fixture(scope="session")
def web_url(neo4j_settings: Settings, driver: Driver, web_dist: Path) -> Iterator[str]:
    settings = neo4j_settings.model_copy(
        update={"environment": Environment.TEST, "rate_limit_per_minute": 6000,
                "rate_limit_burst": 1000,
                "graphql_cost_per_minute": 100_000_000, "graphql_cost_burst": 100_000_000}
    )  # fmt: skip
    with serve(settings, driver) as url:
        yield url


def launch() -> Iterator[Browser]:
    """Debian's Chromium under Playwright's sync API. That API keeps an event loop running in
    the thread while it is open, so a browser must not outlive its package: this one is the
    last package's (tests/web, for the session); tests/journeys has its own."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser: Browser) -> Iterator[Page]:
    """A fresh context and page; any JavaScript error in the page fails the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 860}, locale="zh-CN")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    yield from launch()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from open_page(browser)


@pytest.fixture
def analyst(db: Driver, database: str) -> tuple[str, str]:
    add_user(db, database, USERNAME, PASSWORD, [Role.ANALYST])
    return USERNAME, PASSWORD


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
