"""The portfolio report over HTTP on a book with known answers (`portfolio_world`): GraphQL
figures against the ledger's trial balance to the fen, the XLSX and CSV downloads against
GraphQL, and who may read them."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver
from openpyxl import load_workbook

from api.security import Role
from finance.accounts import AccountCode
from tests.api.conftest import gql
from tests.api.credit_world import TODAY
from tests.api.portfolio_world import Book, load_book

pytestmark = pytest.mark.neo4j

BUCKET = "key label count outstanding shareBps"
FIN = "id status origin product coreId outstanding maturityOn daysPastDue riskClass ledgerPrincipal"
REPORT = f"""query($asOf: Date, $lender: String, $core: ID, $product: String, $due: Int! = 30) {{
  portfolioReport(asOf: $asOf, lender: $lender, coreId: $core, productId: $product,
                  dueWithinDays: $due) {{
    asOf count outstanding classes {{ {BUCKET} }} byProduct {{ {BUCKET} }}
    byCore {{ {BUCKET} }} due {{ {FIN} }} financings {{ {FIN} }}
    overdue {{ count outstanding ratioBps buckets {{ {BUCKET} }} }}
    reconciliation {{ originatedCount bookOutstanding ledgerPrincipal difference differingIds
                     reconciled }}
    forecast {{ key count principal interest projectedInterest amount unpriced }} }} }}"""
TRIAL = """{ trialBalance(currency: "CNY") { balanced lines { code balance } } }"""


@pytest.fixture
def book(db: Driver, database: str, tmp_path: Path) -> Book:
    return load_book(db, database, tmp_path / "world")


def _data(response: httpx.Response, field: str) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"][field]


def _counts(buckets: list[dict[str, Any]]) -> dict[str, int]:
    return {b["key"]: b["count"] for b in buckets}


def test_portfolio_report_reconciles_with_the_ledger(
    book: Book, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    officer = login(Role.CREDIT_OFFICER, username="officer-reports")
    r = _data(gql(client, officer, REPORT, asOf=TODAY.isoformat()), "portfolioReport")
    fins = {f["id"]: f for f in r["financings"]}
    normal, sub, doubt = (book.financings[k] for k in ("P-NORMAL", "P-SUB", "P-DOUBT"))
    assert set(fins) == {normal, sub, doubt, "FL-1", "FL-2"}  # FL-3 is repaid
    # The five tiers, always five, in order; the lender's FL-2 is overdue but classed normal
    # by its lender's file.
    assert [b["key"] for b in r["classes"]] == [
        "normal", "special_mention", "substandard", "doubtful", "loss"]  # fmt: skip
    assert _counts(r["classes"]) == {
        "normal": 3, "special_mention": 0, "substandard": 1, "doubtful": 1, "loss": 0}  # fmt: skip
    assert (fins[sub]["daysPastDue"], fins[doubt]["daysPastDue"]) == (110, 300)
    assert sum(b["outstanding"] for b in r["classes"]) == r["outstanding"]
    assert sum(f["outstanding"] for f in fins.values()) == r["outstanding"]
    # Repaid in part: interest first, so less than 100,000.00 of principal went.
    assert 40_000_000 < fins[normal]["outstanding"] < 50_000_000

    # To the fen: originated outstanding = principal sub-accounts = the trial balance's
    # loans and factoring lines (no voucher is discounted in this book).
    tb = _data(gql(client, officer, TRIAL), "trialBalance")
    assert tb["balanced"]
    principal = sum(x["balance"] for x in tb["lines"]
                    if x["code"] in (AccountCode.LOANS, AccountCode.FACTORING))  # fmt: skip
    rec = r["reconciliation"]
    assert rec == {"originatedCount": 3, "bookOutstanding": principal,
                   "ledgerPrincipal": principal, "difference": 0, "differingIds": [],
                   "reconciled": True}  # fmt: skip
    assert principal == sum(f["ledgerPrincipal"] for f in fins.values() if f["ledgerPrincipal"])
    assert fins["FL-1"]["ledgerPrincipal"] is None

    # By core: only P-NORMAL drew on the core's supply-chain line.
    cores = {b["key"]: b for b in r["byCore"]}
    assert (cores["C"]["count"], cores["C"]["outstanding"]) == (1, fins[normal]["outstanding"])
    assert cores[""]["count"] == 4
    assert _counts(r["byProduct"]) == {"factoring_recourse": 2, "factoring_nonrecourse": 1,
                                       "factoring": 1, "receivables_pledge": 1}  # fmt: skip
    # Due within 30 days: P-NORMAL and FL-1 (both in 20 days); within 10: none.
    assert sorted(f["id"] for f in r["due"]) == sorted([normal, "FL-1"])
    assert _data(gql(client, officer, REPORT, due=10), "portfolioReport")["due"] == []
    # Overdue: FL-2 (10 days), P-SUB (110), P-DOUBT (300).
    od = r["overdue"]
    assert od["count"] == 3 and _counts(od["buckets"]) == {
        "1-30": 1, "31-90": 0, "91-180": 1, "181-360": 1, ">360": 0}  # fmt: skip
    assert od["outstanding"] == sum(fins[i]["outstanding"] for i in ("FL-2", sub, doubt))

    # Filters: a funder, a core, a product.
    bank_a = _data(gql(client, officer, REPORT, lender="Bank A"), "portfolioReport")
    assert [f["id"] for f in bank_a["financings"]] == ["FL-1"]
    core_c = _data(gql(client, officer, REPORT, core="C"), "portfolioReport")
    assert [f["id"] for f in core_c["financings"]] == [normal]
    recourse = _data(gql(client, officer, REPORT, product="factoring_recourse"),
                     "portfolioReport")  # fmt: skip
    assert sorted(f["id"] for f in recourse["financings"]) == sorted([sub, doubt])
    bad = gql(client, officer, REPORT, due=400).json()["errors"][0]
    assert "dueWithinDays must be 0 to 366" in bad["message"]

    # The cash-recovery forecast: the arrears (the three overdue) first, then each month's
    # maturities (P-NORMAL and FL-1 in 20 days), the whole outstanding book once; the
    # originated financing's interest is projected to maturity, the lender's is not priced.
    fc = {b["key"]: b for b in r["forecast"]}
    assert r["forecast"][0]["key"] == "overdue" and r["forecast"][-1]["key"] == "later"
    assert fc["overdue"]["count"] == 3 and fc["overdue"]["principal"] == od["outstanding"]
    month = fins[normal]["maturityOn"][:7]
    assert fins["FL-1"]["maturityOn"][:7] == month
    assert (fc[month]["count"], fc[month]["unpriced"]) == (2, 1)
    assert fc[month]["principal"] == fins[normal]["outstanding"] + fins["FL-1"]["outstanding"]
    assert fc[month]["projectedInterest"] > 0
    assert fc[month]["amount"] == fc[month]["principal"] + fc[month]["interest"]
    assert sum(b["principal"] for b in r["forecast"]) == r["outstanding"]


def _pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def test_portfolio_downloads_match_graphql_and_need_a_reader(
    book: Book, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    analyst = login(Role.ANALYST, username="analyst-reports")
    r = _data(gql(client, analyst, REPORT, asOf=TODAY.isoformat()), "portfolioReport")
    params = {"asOf": TODAY.isoformat()}
    got = client.get("/api/v1/reports/portfolio.xlsx", params=params, headers=analyst)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert f"portfolio-{TODAY.isoformat()}.xlsx" in got.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(got.content))
    assert wb.sheetnames == ["summary", "classes", "products", "cores", "due", "overdue",
                             "financings", "disbursements", "recoveries", "purposes", "chains",
                             "movements", "forecast"]  # fmt: skip
    rows = list(wb["classes"].iter_rows(values_only=True))
    assert rows[0] == ("Risk class", "Label", "Count", "Outstanding", "Share %")
    assert [(k, n, round(Decimal(str(v)) * 100)) for k, _, n, v, _ in rows[1:]] == [
        (b["key"], b["count"], b["outstanding"]) for b in r["classes"]]  # fmt: skip
    sheet = list(wb["financings"].iter_rows(values_only=True))
    by_id = {row[0]: row for row in sheet[1:]}
    col = sheet[0].index("Outstanding")
    assert {i: round(Decimal(str(row[col])) * 100) for i, row in by_id.items()} == {
        f["id"]: f["outstanding"] for f in r["financings"]}  # fmt: skip

    csv_got = client.get("/api/v1/reports/portfolio/classes.csv", params=params, headers=analyst)
    assert csv_got.status_code == 200 and csv_got.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(csv_got.text)))
    expected = [(b["key"], b["count"], f"{Decimal(b['outstanding']) / 100:.2f}")
                for b in r["classes"]]  # fmt: skip
    assert [(x[0], int(x[2]), x[3]) for x in lines[1:]] == expected
    assert client.get("/api/v1/reports/portfolio/nope.csv", headers=analyst).status_code == 404

    # The whole set as one PDF: every table's heading, and every class's outstanding and each
    # financing's, as text of the pages (read back with pdfium).
    pdf_got = client.get("/api/v1/reports/portfolio.pdf", params=params, headers=analyst)
    assert pdf_got.status_code == 200, pdf_got.text
    assert pdf_got.headers["content-type"] == "application/pdf"
    assert f"portfolio-{TODAY.isoformat()}.pdf" in pdf_got.headers["content-disposition"]
    text = _pdf_text(pdf_got.content)
    assert f"Portfolio report, as of {TODAY.isoformat()}" in text
    text = "".join(text.split())  # a long cell wraps onto lines of its own
    for table in ("summary", "classes", "products", "cores", "due", "overdue", "financings",
                  "forecast"):  # fmt: skip
        assert table.capitalize() in text, table
    for b in r["classes"]:
        if b["count"]:
            assert f"{Decimal(b['outstanding']) / 100:,.2f}" in text, b
    for f in r["financings"]:
        assert f["id"] in text and f"{Decimal(f['outstanding']) / 100:,.2f}" in text, f
    assert client.get("/api/v1/reports/portfolio.pdf").status_code == 401

    # Who may read: credit officers, analysts and admins; a token is needed.
    assert client.get("/api/v1/reports/portfolio.xlsx").status_code == 401
    rm = login(Role.RELATIONSHIP_MANAGER, username="rm-reports")
    denied = client.get("/api/v1/reports/portfolio.xlsx", headers=rm)
    assert denied.status_code == 403 and "reports" in denied.json()["detail"]
    assert gql(client, rm, REPORT).status_code == 403
    admin = login(Role.ADMIN, username="admin-reports")
    assert client.get("/api/v1/reports/portfolio/due.csv", headers=admin).status_code == 200
    too_far = client.get("/api/v1/reports/portfolio.xlsx", headers=analyst,
                         params={"dueWithinDays": 400})  # fmt: skip
    assert too_far.status_code == 422
