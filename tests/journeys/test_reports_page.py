"""The reports a supply-chain-finance system is judged on, on the journey world (issue #23):
disbursements, cash recovered (principal repaid and interest received), the loan-purpose
distribution and exposure by chain; filtered by funder, core, product and period; as tables
and charts on the portfolio page and as XLSX and CSV files.

First through HTTP only: a credit officer finances a tier-2 supplier of a core (reverse
factoring on the core's line, approved by a second person, contracted, paid out) and the
supplier repays part of it a month later. `portfolioReport`'s flows must then equal the
ledger to the fen, read another way: the account statements (`accountStatement`) of every
financing the report names, summed by hand; its own financing's disbursement and repayment
must be there as sent; the filters must narrow it; the CSV and XLSX downloads must hold the
same figures. Then in headless Chromium: the portfolio page shows the same tables and its
charts, its XLSX export opens with openpyxl and holds what the page shows, and every page of
the workbench is photographed for people to look at (`test-artifacts/web/7*.png`).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.journeys.conftest import PASSWORD, Api, World
from tests.journeys.test_credit_journey import (
    DISBURSE,
    REPAY,
    approved_supplier_financing,
    sign_contract,
)  # fmt: skip
from tests.web.conftest import ARTIFACTS, shot, web_dist  # noqa: F401  (the web build)
from tests.web.test_explorer import log_in

TODAY = datetime.now(UTC).date()
PAID_ON = TODAY - timedelta(days=40)
REPAID_ON = TODAY - timedelta(days=10)
FROM_ON, TO_ON = TODAY - timedelta(days=60), TODAY

FLOWS = """query($from: Date, $to: Date, $core: ID, $product: String, $funder: ID) {
  portfolioReport(fromOn: $from, toOn: $to, coreId: $core, productId: $product,
                  funderId: $funder) {
    outstanding byPurpose { key label count outstanding }
    chains { coreId limit outstanding overdue count borrowers utilisationBps }
    flows { fromOn toOn principal interest ledgerDisbursed bookDisbursed differingIds
      disbursed { count financings amount byMonth { key count amount } byProduct { key amount } }
      recovered { count amount byMonth { key count amount } }
      movements { financingId flow on amount source code transferId coreId product } } } }"""
LEDGER = """query($id: ID!) { financing(id: $id) { id amount ledgerAccounts } }"""
STATEMENT = """query($id: ID!) { accountStatement(accountId: $id) {
  transferId valueAt code debit credit } }"""
CODES = {"disbursement": ("disbursement", "voucher_discount"),
         "principal": ("principal_repayment", "voucher_clear"),
         "interest": ("interest_repayment",)}  # fmt: skip


def _finance_one(api: Api, world: World) -> dict[str, Any]:
    """A supplier's reverse factoring (`approved_supplier_financing`) paid out 40 days ago
    and partly repaid 10 days ago (interest first, then principal)."""
    supplier, fin, amount = approved_supplier_financing(api, world, "RPT-APP")
    assert sign_contract(api, fin, "CT-RPT")["status"] == "contracted"
    api.gql("otto", DISBURSE, id=fin, on=PAID_ON.isoformat())
    paid = api.gql("otto", REPAY, id=fin, amount=amount // 4, on=REPAID_ON.isoformat(),
                   req="RPT-PAY-1")["repay"]  # fmt: skip
    assert paid["interestPaid"] > 0 and paid["principalPaid"] > 0, paid
    # The chain the financing sits on is the core whose line it holds: the supplier's
    # nearest core (of two as near, the lower id).
    drawn = {m["coreId"] for m in api.gql("otto", FLOWS, **{
        "from": PAID_ON.isoformat(), "to": PAID_ON.isoformat()})["portfolioReport"][
        "flows"]["movements"] if m["financingId"] == fin}  # fmt: skip
    assert len(drawn) == 1 and None not in drawn, drawn
    return {**paid, "core": drawn.pop(), "borrower": supplier, "financing": fin,
            "amount": amount}  # fmt: skip


def _by_hand(api: Api, financing_ids: set[str]) -> dict[str, dict[str, int]]:
    """Each financing's flows in the period, summed from its accounts' statements."""
    out: dict[str, dict[str, int]] = {}
    for fid in sorted(financing_ids):
        sums = {"disbursement": 0, "principal": 0, "interest": 0}
        for account in api.gql("otto", LEDGER, id=fid)["financing"]["ledgerAccounts"]:
            principal = account.startswith(("1301:", "1303:"))
            for x in api.gql("otto", STATEMENT, id=account)["accountStatement"]:
                on = datetime.fromisoformat(x["valueAt"]).date()
                if not FROM_ON <= on <= TO_ON:
                    continue
                if principal and x["code"] in CODES["disbursement"]:
                    sums["disbursement"] += x["debit"]
                elif principal and x["code"] in CODES["principal"]:
                    sums["principal"] += x["credit"]
                elif not principal and x["code"] in CODES["interest"]:
                    sums["interest"] += x["credit"]
        out[fid] = sums
    return out


@pytest.fixture(scope="module")
def financed(api: Api, world: World) -> dict[str, Any]:
    return _finance_one(api, world)


def _report(api: Api, **filters: Any) -> dict[str, Any]:
    got: dict[str, Any] = api.gql("otto", FLOWS, **{
        "from": FROM_ON.isoformat(), "to": TO_ON.isoformat(), **filters})["portfolioReport"]
    return got


def test_flows_reconcile_with_the_ledger_to_the_fen(api: Api, financed: dict[str, Any]) -> None:
    r = _report(api)
    flows = r["flows"]
    assert (flows["fromOn"], flows["toOn"]) == (FROM_ON.isoformat(), TO_ON.isoformat())
    ledger = [m for m in flows["movements"] if m["source"] == "ledger"]
    mine = [m for m in ledger if m["financingId"] == financed["financing"]]
    assert sorted((m["flow"], m["amount"], m["on"]) for m in mine) == sorted([
        ("disbursement", financed["amount"], PAID_ON.isoformat()),
        ("interest", financed["interestPaid"], REPAID_ON.isoformat()),
        ("principal", financed["principalPaid"], REPAID_ON.isoformat()),
    ])  # fmt: skip
    # Every ledger movement of the report, per financing and flow, equals the statements.
    hand = _by_hand(api, {m["financingId"] for m in ledger})
    from_report: dict[str, dict[str, int]] = {f: {"disbursement": 0, "principal": 0,
                                                  "interest": 0} for f in hand}  # fmt: skip
    for m in ledger:
        from_report[m["financingId"]][m["flow"]] += m["amount"]
    assert from_report == hand
    assert flows["ledgerDisbursed"] == sum(h["disbursement"] for h in hand.values())
    assert flows["principal"] == sum(h["principal"] for h in hand.values())
    assert flows["interest"] == sum(h["interest"] for h in hand.values())
    assert flows["recovered"]["amount"] == flows["principal"] + flows["interest"]
    assert flows["disbursed"]["amount"] == flows["ledgerDisbursed"] + flows["bookDisbursed"]
    assert flows["differingIds"] == []
    # The months and products add up to the totals; the loaded book's part is its starts.
    for part in ("disbursed", "recovered"):
        months = flows[part]["byMonth"]
        assert sum(b["amount"] for b in months) == flows[part]["amount"]
        assert sum(b["count"] for b in months) == flows[part]["count"]
        assert months[0]["key"] == FROM_ON.strftime("%Y-%m")
        assert months[-1]["key"] == TO_ON.strftime("%Y-%m")
    assert sum(b["amount"] for b in flows["disbursed"]["byProduct"]) == \
        flows["disbursed"]["amount"]  # fmt: skip
    book = [m for m in flows["movements"] if m["source"] == "book"]
    assert all(m["flow"] == "disbursement" and m["code"] == "loaded" for m in book)
    assert sum(m["amount"] for m in book) == flows["bookDisbursed"]
    # Purpose and chains cover the outstanding book.
    assert sum(b["outstanding"] for b in r["byPurpose"]) == r["outstanding"]
    assert "reverse_factoring" in {b["key"] for b in r["byPurpose"]}
    chain = next(c for c in r["chains"] if c["coreId"] == financed["core"])
    assert chain["limit"] > 0 and chain["count"] >= 1
    assert chain["outstanding"] >= financed["amount"] - financed["principalPaid"]
    assert chain["utilisationBps"] == (chain["outstanding"] * 10_000 + chain["limit"] // 2) \
        // chain["limit"]  # fmt: skip


def test_filters_narrow_the_flows(api: Api, financed: dict[str, Any]) -> None:
    everything = _report(api)["flows"]
    by_core = _report(api, core=financed["core"])
    assert {m["coreId"] for m in by_core["flows"]["movements"]} == {financed["core"]}
    assert [c["coreId"] for c in by_core["chains"]] == [financed["core"]]
    by_product = _report(api, product="reverse_factoring")["flows"]
    assert {m["product"] for m in by_product["movements"]} == {"reverse_factoring"}
    assert financed["financing"] in {m["financingId"] for m in by_product["movements"]}
    assert by_product["disbursed"]["amount"] <= everything["disbursed"]["amount"]
    # The default funder's book, named, is what its staff read without naming it.
    named = _report(api, funder="default")["flows"]
    assert named["disbursed"]["amount"] == everything["disbursed"]["amount"]
    # A period before the repayment: the disbursement without the repayment.
    early = api.gql("otto", FLOWS, **{"from": PAID_ON.isoformat(),
                                       "to": (REPAID_ON - timedelta(days=1)).isoformat(),
                                       "core": financed["core"]})["portfolioReport"]["flows"]
    mine = [m["flow"] for m in early["movements"] if m["financingId"] == financed["financing"]]
    assert mine == ["disbursement"]
    bad = api.error("otto", FLOWS, **{"from": TO_ON.isoformat(), "to": FROM_ON.isoformat()})
    assert "after it ends" in bad.message


def test_the_files_hold_the_same_figures(api: Api, financed: dict[str, Any]) -> None:
    flows = _report(api)["flows"]
    params = {"fromOn": FROM_ON.isoformat(), "toOn": TO_ON.isoformat()}
    headers = {"Authorization": f"Bearer {api.token('otto')}"}
    got = {}
    for table in ("disbursements", "recoveries", "movements"):
        r = api.client.get(f"/api/v1/reports/portfolio/{table}.csv", params=params,
                           headers=headers)  # fmt: skip
        assert r.status_code == 200, r.text
        got[table] = list(csv.DictReader(io.StringIO(r.text)))
    assert sum(Decimal(x["Amount"]) for x in got["disbursements"]) * 100 == \
        flows["disbursed"]["amount"]  # fmt: skip
    assert sum(Decimal(x["Amount"]) for x in got["recoveries"]) * 100 == \
        flows["recovered"]["amount"]  # fmt: skip
    assert len(got["movements"]) == len(flows["movements"])
    r = api.client.get("/api/v1/reports/portfolio.xlsx", params=params, headers=headers)
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    months = list(wb["disbursements"].iter_rows(values_only=True))[1:]
    assert [(m, n, round(Decimal(str(a)) * 100)) for m, n, a, _ in months] == [
        (b["key"], b["count"], b["amount"]) for b in flows["disbursed"]["byMonth"]]
    assert {s for s in wb.sheetnames} >= {"recoveries", "purposes", "chains", "movements"}


# ---- the page -----------------------------------------------------------------------------
def _table(page: Page, sel: str) -> dict[str, tuple[int, int]]:
    """A page table's rows by key: (count, amount in fen)."""
    rows = page.evaluate(
        "(sel) => [...document.querySelectorAll(sel + ' tbody tr[data-key]')].map((tr) => ["
        "tr.dataset.key, Number(tr.querySelector('.count').textContent),"
        "tr.querySelector('.amount').dataset.minor])", sel)  # fmt: skip
    return {k: (n, int(m)) for k, n, m in rows}


def _sheet(wb: Any, name: str, key_col: int, count_col: int,
           amount_col: int) -> dict[str, tuple[int, int]]:  # fmt: skip
    return {str(r[key_col]): (r[count_col], round(Decimal(str(r[amount_col])) * 100))
            for r in list(wb[name].iter_rows(values_only=True))[1:]}  # fmt: skip


def test_the_page_shows_the_reports_and_its_xlsx_holds_them(
    page: Page, api_url: str, api: Api, financed: dict[str, Any], web_dist: Path,  # noqa: F811
) -> None:  # fmt: skip
    log_in(page, api_url, ("otto", PASSWORD))
    page.evaluate("() => { location.hash = '#/portfolio'; }")
    expect(page.locator("#pf-classes tbody tr")).to_have_count(5, timeout=15_000)
    page.fill("#pf-from", FROM_ON.isoformat())
    page.fill("#pf-to", TO_ON.isoformat())
    page.click("#pf-show")
    page.wait_for_function(
        "(k) => document.querySelectorAll('#pf-disbursements tbody tr').length === k && "
        "document.querySelector('#chart-chains')?.dataset.rendered !== undefined",
        arg=len(_report(api)["flows"]["disbursed"]["byMonth"]), timeout=15_000)  # fmt: skip
    flows = _report(api)["flows"]
    report = _report(api)
    shown = {name: _table(page, f"#pf-{name}")
             for name in ("disbursements", "recoveries", "purposes", "classes")}  # fmt: skip
    assert shown["disbursements"] == {b["key"]: (b["count"], b["amount"])
                                      for b in flows["disbursed"]["byMonth"]}  # fmt: skip
    assert shown["recoveries"] == {b["key"]: (b["count"], b["amount"])
                                   for b in flows["recovered"]["byMonth"]}  # fmt: skip
    assert shown["purposes"] == {b["key"]: (b["count"], b["outstanding"])
                                 for b in report["byPurpose"]}  # fmt: skip
    chains = page.evaluate("() => [...document.querySelectorAll('#pf-chains tbody tr[data-key]')]"
                           ".map((tr) => [tr.dataset.key, tr.querySelector('.limit').dataset.minor,"
                           " tr.querySelector('.amount').dataset.minor])")  # fmt: skip
    assert {k: (int(lim), int(out)) for k, lim, out in chains} == {
        c["coreId"]: (c["limit"], c["outstanding"]) for c in report["chains"]}
    for chart in ("disbursements", "recoveries", "purposes", "chains"):
        assert page.get_attribute(f"#chart-{chart}", "data-rendered") not in (None, "0"), chart
    expect(page.locator("#pf-flows")).to_contain_text(f"From {FROM_ON.isoformat()}")
    page.locator("#pf-disbursements").scroll_into_view_if_needed()
    shot(page, "70-portfolio-flows")

    with page.expect_download() as info:
        page.focus("#pf-export-xlsx")
        page.keyboard.press("Enter")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    saved = ARTIFACTS / "portfolio-journey.xlsx"
    info.value.save_as(saved)
    wb = load_workbook(saved)
    # Month rows carry the month as their label; the bucket sheets carry the key first.
    assert _sheet(wb, "disbursements", 0, 1, 2) == shown["disbursements"]
    assert _sheet(wb, "recoveries", 0, 1, 2) == shown["recoveries"]
    assert _sheet(wb, "purposes", 0, 2, 3) == shown["purposes"]
    assert _sheet(wb, "classes", 0, 2, 3) == shown["classes"]
    assert {str(r[0]): (round(Decimal(str(r[2])) * 100), round(Decimal(str(r[3])) * 100))
            for r in list(wb["chains"].iter_rows(values_only=True))[1:]} == {
        k: (int(lim), int(out)) for k, lim, out in chains}  # fmt: skip

    with page.expect_download() as info:
        page.click("button.pf-csv[data-table='recoveries']")
    text = Path(info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["Month"]: (int(r["Count"]), int(Decimal(r["Amount"]) * 100)) for r in rows} == \
        shown["recoveries"]  # fmt: skip

    # Every page of the workbench, photographed on the generated world.
    fin = financed["financing"]
    for name, hash_, ready in (
        ("71-financing", f"#/financing/{fin}",
         "() => document.querySelectorAll('#fin-terms tr').length > 0 && "
         "document.querySelectorAll('#fin-schedule tbody tr').length > 0"),
        ("72-review", "#/review",
         "() => /waiting for review/.test(document.querySelector('#review-status').textContent)"),
        ("73-alerts", "#/alerts",
         "() => /open of/.test(document.querySelector('#alerts-status').textContent)"),
        ("74-watchlist", "#/watchlist",
         "() => /firms watched/.test(document.querySelector('#watchlist-status').textContent)"),
        ("75-explorer", f"#e={financed['core']}",
         "() => document.querySelector('#card-name')?.textContent.length > 0"),
    ):  # fmt: skip
        page.evaluate("(h) => { location.hash = h; }", hash_)
        page.wait_for_function(ready, timeout=20_000)
        shot(page, name)
    # The borrower's card in the explorer lists the financing; its link opens the financing.
    page.evaluate("(h) => { location.hash = h; }", f"#e={financed['borrower']}")
    row = page.locator(f'#card [data-section="financings"] tr[data-financing="{fin}"]')
    expect(row).to_contain_text("reverse_factoring", timeout=20_000)
    row.locator("a").click()
    expect(page.locator("#financing-title")).to_contain_text(fin, timeout=20_000)
    page.goto(f"{api_url}/rules.html")
    page.wait_for_function("() => document.querySelectorAll('#rules-list tr[data-name]').length",
                           timeout=20_000)  # fmt: skip
    shot(page, "76-rules")
    page.goto(api_url + "/")
    page.click("#logout")
    log_in(page, api_url, ("rita", PASSWORD))
    page.evaluate("() => { location.hash = '#/prospects'; }")
    page.wait_for_function("() => document.querySelectorAll('#pr-core option').length > 0",
                           timeout=20_000)  # fmt: skip
    page.select_option("#pr-core", financed["core"])
    page.click("#pr-find")
    page.wait_for_function("() => document.querySelectorAll('#pr-rows tr').length > 0",
                           timeout=20_000)  # fmt: skip
    shot(page, "77-prospects")
