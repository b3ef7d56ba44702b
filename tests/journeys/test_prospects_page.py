"""From a prospect to the portfolio, in headless Chromium, on the journey world (issue #23): a
relationship manager's prospects page lists the firms around a core with their trade, the
products that match one of them and why, and submits an application for a match with the
collateral it was sized on; the policy refers it; a credit officer finds it in the review
queue, approves it with changed terms from the page; the portfolio page's five classes then
equal `portfolioReport` and its reconciliation with the ledger.

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
from tests.web.conftest import shot, web_dist  # noqa: F401  (the web build)
from tests.web.test_explorer import log_in

PROSPECTS = """query($core: ID!) { prospects(coreId: $core, first: 50) { id name } }"""
MATCHES = """query($id: ID!) { productMatches(enterpriseId: $id) {
  productId productName verdict amount collateralIds } }"""
DECIDED = """query($id: ID!) { application(id: $id) { status decidedAmount rateBps checker } }"""
REPORT = """{ portfolioReport { classes { key count outstanding }
  reconciliation { reconciled } } }"""
LINES = """query($id: ID!) { creditLines(enterpriseId: $id) { id kind } }"""
APPLICATION = """query($id: ID!) { application(id: $id) {
  id enterpriseId productId maker status collateralIds amount } }"""


def _a_prospect_with_a_match(api: Api, world: World) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(core id, prospect, match) for the first prospect with an eligible product that
    names its collateral. Reverse factoring draws on the core's supply-chain line, so the
    core gets one first (four eyes, as in the credit journey) unless it has one."""
    cores = [r["id"] for r in world.rows("enterprises") if r.get("is_core") == "true"]
    for core in cores:  # the first that has a referred match: a person decides it later
        prospects = api.gql("rita", PROSPECTS, core=core)["prospects"]
        if not prospects:
            continue
        lines = api.gql("otto", LINES, id=core)["creditLines"]
        if not any(line["kind"] == "supply_chain" for line in lines):
            grant_core_line(api, core)
        for prospect in prospects:
            for match in api.gql("rita", MATCHES, id=prospect["id"])["productMatches"]:
                if match["verdict"] == "refer" and match["collateralIds"]:
                    return core, prospect, match
    raise AssertionError("no prospect of the journey world has a referred match with collateral")


def test_from_a_prospect_to_an_approval_and_the_portfolio(
    page: Page, api: Api, api_url: str, world: World, web_dist: Path  # noqa: F811
) -> None:
    core, prospect, match = _a_prospect_with_a_match(api, world)
    log_in(page, api_url, ("rita", PASSWORD))

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
    assert app["status"] == found.group(2) == "referred"
    assert app["amount"] == match["amount"] // 100 * 100
    assert sorted(app["collateralIds"]) == sorted(match["collateralIds"])

    # A credit officer approves it from the review page, for less and at another rate.
    page.click("#logout")
    log_in(page, api_url, ("otto", PASSWORD))
    page.click("#nav-review")
    page.locator(f"button.review-open[data-id='{app['id']}']").click()
    expect(page.locator("#review-card-name")).to_have_text(prospect["name"])
    # Beside the form, the collateral the match sized it on, each valued as the approval
    # values it and pledged nowhere yet.
    offered = api.gql("otto", OFFERED, id=app["id"])["applicationCollateral"]
    assert sorted(c["id"] for c in offered) == sorted(app["collateralIds"])
    assert all(c["value"] > 0 and c["backs"] == [] for c in offered), offered
    for c in offered:
        expect(page.locator(f"#review-collateral li[data-id='{c['id']}']")).to_have_attribute(
            "data-minor", str(c["value"]))
    amount = app["amount"] // 2 // 100 * 100
    page.fill("#review-amount", f"{amount // 100}")
    page.fill("#review-rate", "720")
    page.fill("#review-conditions", "The core confirms the receivables in writing")
    page.click("#review-approve")
    expect(page.locator("#review-result")).to_contain_text(f"Approved {app['id']}",
                                                           timeout=20_000)  # fmt: skip
    shot(page, "53-referred-approved")
    decided = api.gql("otto", DECIDED, id=app["id"])["application"]
    assert (decided["status"], decided["decidedAmount"], decided["rateBps"],
            decided["checker"]) == ("approved", amount, 720, "otto")  # fmt: skip

    # The portfolio page: five classes equal to the report, reconciled with the ledger.
    page.click("#nav-portfolio")
    expect(page.locator("#pf-classes tbody tr")).to_have_count(5, timeout=15_000)
    report = api.gql("otto", REPORT)["portfolioReport"]
    shown = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
        '#pf-classes tbody tr')].map((tr) => [tr.dataset.key, [
        Number(tr.querySelector('.count').textContent),
        Number(tr.querySelector('.amount').dataset.minor)]]))""")
    assert shown == {b["key"]: [b["count"], b["outstanding"]] for b in report["classes"]}
    assert report["reconciliation"]["reconciled"], report["reconciliation"]
    expect(page.locator("#pf-reconciliation")).to_contain_text("Reconciled with the ledger")
    shot(page, "54-portfolio")


OFFERED = """query($id: ID!) { applicationCollateral(applicationId: $id) { id value backs } }"""
WATCH_LIST = """{ watchList { id openAlerts } }"""
OPEN_ALERTS = """query($id: ID!) { alertList(enterpriseId: $id, status: ["open"], first: 1) {
  totalCount } }"""


def test_a_watch_list_of_prospects_with_their_alerts(
    page: Page, api: Api, api_url: str, world: World, web_dist: Path  # noqa: F811
) -> None:
    """The relationship manager watches a prospect from the prospects page; the watch list
    shows it with its open alerts (as many as alertList counts); nobody else's list has it;
    "Stop watching" takes it off."""
    core, prospect, _ = _a_prospect_with_a_match(api, world)
    log_in(page, api_url, ("rita", PASSWORD))
    page.click("#nav-prospects")
    expect(page.locator(f"#pr-core option[value='{core}']")).to_have_count(1)
    page.select_option("#pr-core", core)
    page.click("#pr-find")
    watch = page.locator(f"#pr-rows button.pr-watch[data-id='{prospect['id']}']")
    watch.click()
    expect(watch).to_have_text("Watched")

    page.click("#nav-watchlist")
    row = page.locator(f"#watch-rows tr[data-id='{prospect['id']}']")
    expect(row).to_be_visible(timeout=10_000)
    opened = api.gql("rita", OPEN_ALERTS, id=prospect["id"])["alertList"]["totalCount"]
    expect(row.locator(".open-alerts")).to_have_text(str(opened))
    assert {f["id"]: f["openAlerts"] for f in api.gql("rita", WATCH_LIST)["watchList"]} == {
        prospect["id"]: opened}
    assert api.gql("otto", WATCH_LIST)["watchList"] == []  # each user's own list
    assert api.error("rita", "mutation { watchEnterprise(enterpriseId: \"NOPE\") { id } }"
                     ).code == "NOT_FOUND"  # fmt: skip
    shot(page, "55-watch-list")

    row.locator("button.unwatch").click()
    expect(page.locator("#watch-rows")).to_contain_text("You watch no firm yet")
    assert api.gql("rita", WATCH_LIST)["watchList"] == []
