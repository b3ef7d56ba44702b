"""A relationship manager starts an application from a prospect, in headless Chromium, on the
journey world (issue #23): the prospects page lists the firms around a core with their trade,
the products that match one of them and why, and submits an application for a match with the
collateral it was sized on; GraphQL then holds the application, made by that manager.

The firm and product are chosen the way a manager would read the same pages, through
GraphQL, after the core got its supply-chain line (as in the credit journey); the browser
does the rest."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.journeys.conftest import PASSWORD, Api, World
from tests.journeys.test_credit_journey import grant_core_line
from tests.web.conftest import browser, page, shot, web_dist  # noqa: F401  (browser fixtures)

PROSPECTS = """query($core: ID!) { prospects(coreId: $core, first: 50) { id name } }"""
MATCHES = """query($id: ID!) { productMatches(enterpriseId: $id) {
  productId productName verdict amount collateralIds } }"""
LINES = """query($id: ID!) { creditLines(enterpriseId: $id) { id kind } }"""
APPLICATION = """query($id: ID!) { application(id: $id) {
  id enterpriseId productId maker status collateralIds amount } }"""


def _a_prospect_with_a_match(api: Api, world: World) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(core id, prospect, match) for the first prospect with an eligible product that
    names its collateral. Reverse factoring draws on the core's supply-chain line, so the
    core gets one first (four eyes, as in the credit journey) unless it has one."""
    cores = [r["id"] for r in world.rows("enterprises") if r.get("is_core") == "true"]
    for core in cores:
        prospects = api.gql("rita", PROSPECTS, core=core)["prospects"]
        if not prospects:
            continue
        lines = api.gql("otto", LINES, id=core)["creditLines"]
        if not any(line["kind"] == "supply_chain" for line in lines):
            grant_core_line(api, core)
        for prospect in prospects:
            for match in api.gql("rita", MATCHES, id=prospect["id"])["productMatches"]:
                if match["verdict"] in ("approve", "refer") and match["collateralIds"]:
                    return core, prospect, match
    raise AssertionError("no prospect of the journey world has a product match with collateral")


def test_relationship_manager_starts_an_application_from_a_prospect(
    page: Page, api: Api, api_url: str, world: World, web_dist: Path  # noqa: F811
) -> None:
    core, prospect, match = _a_prospect_with_a_match(api, world)
    page.goto(api_url + "/")
    page.fill("#username", "rita")
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    expect(page.locator("#app")).to_be_visible()

    page.click("#nav-prospects")
    expect(page.locator(f"#pr-core option[value='{core}']")).to_have_count(1)
    page.select_option("#pr-core", core)
    page.click("#pr-find")
    row = page.locator(f"#pr-rows tr[data-id='{prospect['id']}']")
    expect(row).to_be_visible(timeout=15_000)
    shot(page, "50-prospects")

    row.locator("button.pr-products").click()
    offer = page.locator(f"#pr-match-rows tr[data-product='{match['productId']}']")
    expect(offer).to_be_visible(timeout=15_000)
    expect(offer).to_contain_text(f"{len(match['collateralIds'])} item(s)")
    shot(page, "51-product-matches")

    offer.locator("button.pr-start").click()
    expect(page.locator("#pr-apply-form")).to_be_visible()
    expect(page.locator("#pr-amount")).to_be_focused()
    ticked = page.locator("input[name='pr-collateral']:checked")
    expect(ticked).to_have_count(len(match["collateralIds"]))
    # A malformed amount is refused in words, before anything is sent.
    page.fill("#pr-amount", "lots")
    page.click("#pr-submit")
    expect(page.locator("#pr-apply-error")).to_contain_text("positive number")
    page.fill("#pr-amount", f"{match['amount'] // 100}")
    page.click("#pr-submit")
    result = page.locator("#pr-result")
    expect(result).to_contain_text("Application APP-", timeout=20_000)
    shot(page, "52-application-started")

    found = re.search(r"Application (APP-[0-9a-f-]+): (\w+)", result.inner_text())
    assert found, result.inner_text()
    app = api.gql("rita", APPLICATION, id=found.group(1))["application"]
    assert (app["enterpriseId"], app["productId"], app["maker"]) == (
        prospect["id"], match["productId"], "rita")
    assert app["status"] == found.group(2)
    assert app["amount"] == match["amount"] // 100 * 100
    assert sorted(app["collateralIds"]) == sorted(match["collateralIds"])
