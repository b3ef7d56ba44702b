"""Every page passes axe-core's contrast check (issue #23), in headless Chromium on the book of
`tests/api/portfolio_world.py`: the login form, the explorer with an enterprise's card, the
review queue with its form open, the portfolio dashboard, a financing's page, the prospects
page, the watch list, the alerts inbox, and the rule editor with a rule set open. axe-core
comes from npm through the lock file (api/web/node_modules); its report for every page goes
to `test-artifacts/web/axe-*.json`, beside a screenshot.

No WCAG 2 A/AA rule may find anything - contrast (4.5:1 for text, 3:1 for large text)
included - except one, inside the third-party rule editor only: React Flow draws each node
of a rule set's graph as a focusable element holding buttons (`nested-interactive`). A
control with too little contrast added to a page is found (the check can fail).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from api.app import WEB_DIST
from tests.api.conftest import PASSWORD
from tests.api.portfolio_world import Book
from tests.web.conftest import ARTIFACTS, shot
from tests.web.test_explorer import log_in
from tests.web.test_workbench import OFFICER, book  # noqa: F401  (the book fixture)

pytestmark = pytest.mark.neo4j

AXE = WEB_DIST.parent / "node_modules" / "axe-core" / "axe.min.js"


def _axe(page: Page, name: str) -> dict[str, Any]:
    """Run axe-core on the page as it stands; keep its report and a screenshot."""
    assert AXE.is_file(), f"{AXE} is missing: run `make web` (npm ci installs axe-core)"
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol: the page's CSP (script-src 'self') rightly
        # refuses an inline <script>, and the check must not weaken it.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    report: dict[str, Any] = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa']}, resultTypes: ['violations']});
            return {violations: r.violations.map((v) => ({id: v.id, impact: v.impact,
                help: v.help, nodes: v.nodes.map((n) => ({target: n.target,
                summary: n.failureSummary}))}))};
        }"""
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    shot(page, f"axe-{name}")
    return report


# What the JDM editor's graph (React Flow) does that we cannot change: rule -> where.
THIRD_PARTY = {"nested-interactive": ".react-flow__node"}


def _ours(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The violations not explained by `THIRD_PARTY`."""
    out = []
    for v in report["violations"]:
        where = THIRD_PARTY.get(v["id"])
        nodes = [n for n in v["nodes"] if where is None or not _inside(n["target"], where)]
        if nodes:
            out.append({**v, "nodes": nodes})
    return out


def _inside(target: list[str], where: str) -> bool:
    return any(where.lstrip(".") in part or "data-id" in part for part in target)


def test_every_page_passes_the_contrast_check(
    page: Page, web_url: str, book: Book  # noqa: F811
) -> None:
    failures: dict[str, list[dict[str, Any]]] = {}

    def check(name: str) -> None:
        found = _ours(_axe(page, name))
        if found:
            failures[name] = found

    page.goto(web_url + "/")
    expect(page.locator("#login")).to_be_visible()
    check("login")

    log_in(page, web_url, (OFFICER, PASSWORD))
    page.goto(web_url + "/#e=T1")
    expect(page.locator("#card-name")).not_to_be_empty()
    page.wait_for_function("() => window.__explorer.view && window.__explorer.view.firstPaint")
    check("explorer-card")

    page.click("#nav-review")
    expect(page.locator(f"#review-rows tr[data-id='{book.referred}']")).to_be_visible()
    page.click(f"button.review-open[data-id='{book.referred}']")
    expect(page.locator("#review-form")).to_be_visible()
    check("review")

    page.click("#nav-portfolio")
    expect(page.locator("#pf-classes tbody tr")).to_have_count(5, timeout=10_000)
    page.wait_for_function(
        "() => document.querySelector('#chart-classes').dataset.rendered === '5'", timeout=10_000
    )
    check("portfolio")

    page.locator("#pf-due-list a").first.click()
    expect(page.locator("#fin-postings tr").first).to_be_visible(timeout=10_000)
    check("financing")

    page.click("#nav-prospects")
    expect(page.locator("#pr-core option").first).to_be_attached()
    page.click("#pr-find")
    expect(page.locator("#pr-rows tr").first).to_be_visible(timeout=10_000)
    check("prospects")

    page.click("#nav-watchlist")
    expect(page.locator("#watch-rows tr").first).to_be_visible()
    check("watchlist")

    page.click("#nav-alerts")
    expect(page.locator("#alert-rows tr").first).to_be_visible()
    page.wait_for_function("() => window.__workbench.live === true", timeout=10_000)
    check("alerts")

    page.click("#nav-rules")
    expect(page.locator("#rules-list")).to_be_visible()
    page.click("#open-approval")
    expect(page.locator("#rules-editor .react-flow__node").first).to_be_visible()
    check("rules")

    assert not failures, json.dumps(failures, ensure_ascii=False, indent=1)

    # The control: pale grey text on the page is a contrast violation axe reports.
    page.evaluate("""() => { const p = document.createElement('p');
        p.textContent = 'barely legible'; p.id = 'pale';
        p.style.cssText = 'color:#d0d0d0;background:#ffffff;font-size:14px';
        document.body.prepend(p); }""")
    pale = [v for v in _axe(page, "control")["violations"] if v["id"] == "color-contrast"]
    assert pale and any("#pale" in n["target"] for n in pale[0]["nodes"]), pale
