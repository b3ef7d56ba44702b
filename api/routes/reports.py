"""`GET /api/v1/reports/portfolio.xlsx`, `GET /api/v1/reports/portfolio.pdf` and
`GET /api/v1/reports/portfolio/{table}.csv`: the portfolio report (`finance/reports.py`) as
files a person can take to a meeting.

Both take the filters of the GraphQL field `portfolioReport` as query parameters (`asOf`,
`currency`, `lender`, `coreId`, `productId`, `dueWithinDays`, `funderId`, and the flows'
period `fromOn`, `toOn`) and the same roles (credit
officer, analyst, admin), with a bearer token like every other route. The workbook holds one
sheet per table; the PDF the whole set, one section per table (Jinja2, WeasyPrint, Noto CJK);
a CSV holds one table. Amounts are in currency units with two decimals
(the report's integer minor units divided by 100, exactly: the XLSX cells are decimals).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from jinja2 import Environment, StrictUndefined
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUserDep, DriverDep, SettingsDep
from api.graphql.reports import REPORT_READERS, report_filter
from api.graphql.scoping import book_to_read
from api.security import CurrentUser, Role
from finance import reports as fr
from finance.errors import FinanceError, Forbidden

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"

Cell = str | int | Decimal | date | None
Table = tuple[list[str], list[list[Cell]]]


def money(minor: int | None) -> Decimal | None:
    """Minor units as currency units, exact (fen to yuan)."""
    return None if minor is None else Decimal(minor) / 100


def _buckets(buckets: Sequence[fr.Bucket], what: str) -> Table:
    head = [what, "Label", "Count", "Outstanding", "Share %"]
    return head, [[b.key, b.label, b.count, money(b.outstanding_minor),
                   Decimal(b.share_bps) / 100] for b in buckets]  # fmt: skip


def _financings(lines: Sequence[fr.FinancingLine]) -> Table:
    head = ["Financing", "Status", "Origin", "Lender", "Product", "Borrower", "Borrower name",
            "Core", "Core name", "Currency", "Outstanding", "Interest due", "Provision",
            "Maturity", "Days past due", "Risk class", "Ledger principal"]  # fmt: skip
    rows: list[list[Cell]] = [
        [x.id, x.status, x.origin, x.lender, x.product, x.borrower_id, x.borrower_name,
         x.core_id, x.core_name, x.currency, money(x.outstanding_minor),
         money(x.interest_due_minor), money(x.provision_minor), x.maturity_on, x.dpd,
         x.risk_class.value, money(x.ledger_principal_minor)]
        for x in lines
    ]  # fmt: skip
    return head, rows


def _amounts(buckets: Sequence[fr.Bucket], what: str) -> Table:
    head = [what, "Count", "Amount", "Share %"]
    return head, [[b.label, b.count, money(b.outstanding_minor),
                   Decimal(b.share_bps) / 100] for b in buckets]  # fmt: skip


def _chains(chains: Sequence[fr.ChainExposure]) -> Table:
    head = ["Core", "Core name", "Limit", "Outstanding", "Overdue", "Financings", "Borrowers",
            "Utilisation %", "Share %"]  # fmt: skip
    return head, [[c.core_id, c.core_name, money(c.limit_minor), money(c.outstanding_minor),
                   money(c.overdue_minor), c.count, c.borrowers,
                   None if c.utilisation_bps is None else Decimal(c.utilisation_bps) / 100,
                   Decimal(c.share_bps) / 100] for c in chains]  # fmt: skip


def _movements(moves: Sequence[fr.Movement]) -> Table:
    head = ["Date", "Flow", "Financing", "Amount", "Source", "Code", "Transfer", "Product",
            "Borrower", "Core", "Core name", "Currency"]  # fmt: skip
    return head, [[m.on, m.flow, m.financing_id, money(m.amount_minor), m.source, m.code,
                   m.transfer_id, m.product, m.borrower_id, m.core_id, m.core_name,
                   m.currency] for m in moves]  # fmt: skip


def _forecast(buckets: Sequence[fr.ForecastBucket]) -> Table:
    head = ["Due", "Label", "Count", "Principal", "Interest", "Projected interest", "Amount",
            "Unpriced"]  # fmt: skip
    return head, [[b.key, b.label, b.count, money(b.principal_minor), money(b.interest_minor),
                   money(b.projected_interest_minor), money(b.amount_minor), b.unpriced]
                  for b in buckets]  # fmt: skip


def _flows(p: fr.Portfolio) -> fr.Flows:
    return p.flows or fr.build_flows([], p.filter.period)


def _summary(p: fr.Portfolio) -> Table:
    r = p.reconciliation
    f = p.filter
    flows = _flows(p)
    rows: list[list[Cell]] = [
        ["As of", f.as_of], ["Currency", f.currency or "all"], ["Lender", f.lender or "all"],
        ["Core", f.core_id or "all"], ["Product", f.product_id or "all"],
        ["Due within days", f.due_within_days], ["Financings", p.count],
        ["Outstanding", money(p.outstanding_minor)],
        ["Overdue outstanding", money(p.overdue.outstanding_minor)],
        ["Overdue ratio %", Decimal(p.overdue.ratio_bps) / 100],
        ["Originated outstanding", money(r.book_outstanding_minor)],
        ["Ledger principal", money(r.ledger_principal_minor)],
        ["Difference", money(r.difference_minor)],
        ["Reconciled", "yes" if r.reconciled else "no: " + ", ".join(r.differing_ids)],
        ["Period from", flows.period[0]], ["Period to", flows.period[1]],
        ["Disbursed", money(flows.disbursed.amount_minor)],
        ["Disbursed (ledger)", money(flows.ledger_disbursed_minor)],
        ["Disbursed (loaded book)", money(flows.book_disbursed_minor)],
        ["Principal recovered", money(flows.principal_minor)],
        ["Interest received", money(flows.interest_minor)],
        ["Disbursements match the financings", "yes" if not flows.differing_ids
         else "no: " + ", ".join(flows.differing_ids)],
    ]  # fmt: skip
    return ["Item", "Value"], rows


def tables(p: fr.Portfolio) -> dict[str, Table]:
    """Every table of the report by name, in the workbook's sheet order."""
    return {
        "summary": _summary(p),
        "classes": _buckets(p.classes, "Risk class"),
        "products": _buckets(p.by_product, "Product"),
        "cores": _buckets(p.by_core, "Core"),
        "due": _financings(p.due),
        "overdue": _buckets(p.overdue.buckets, "Days past due"),
        "financings": _financings(p.financings),
        "disbursements": _amounts(_flows(p).disbursed.by_month, "Month"),
        "recoveries": _amounts(_flows(p).recovered.by_month, "Month"),
        "purposes": _buckets(p.by_purpose, "Purpose"),
        "chains": _chains(p.chains),
        "movements": _movements(_flows(p).movements),
        "forecast": _forecast(p.forecast),
    }


MONEY_COLUMNS = frozenset({"Outstanding", "Interest due", "Provision", "Ledger principal",
                           "Value", "Amount", "Limit", "Overdue", "Principal", "Interest",
                           "Projected interest"})  # fmt: skip


def _cell(value: Cell) -> Cell:
    """A value a worksheet can hold: text without the control characters XML forbids (a
    filter echoed from the query string may carry them) and without lone surrogates."""
    if not isinstance(value, str):
        return value
    text = value.encode("utf-8", "replace").decode("utf-8")
    return str(ILLEGAL_CHARACTERS_RE.sub("\ufffd", text))


def workbook(p: fr.Portfolio) -> bytes:
    wb = Workbook()
    first = True
    for name, (head, rows) in tables(p).items():
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        first = False
        ws.title = name
        ws.append(head)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([_cell(v) for v in row])
        for col, title in enumerate(head, start=1):
            if title in MONEY_COLUMNS:
                for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                    if isinstance(cell.value, Decimal):
                        cell.number_format = MONEY_FORMAT
            ws.column_dimensions[ws.cell(1, col).column_letter].width = max(12, len(title) + 4)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


_PDF_ENV = Environment(autoescape=True, undefined=StrictUndefined)
_PDF_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Portfolio {{ as_of }}</title>
<style>
  @page { size: A4 landscape; margin: 14mm 12mm;
          @bottom-center { content: counter(page) " / " counter(pages); font-size: 7pt; } }
  body { font-family: "Noto Sans CJK SC", sans-serif; font-size: 8pt; }
  h1 { font-size: 14pt; margin: 0 0 2mm; }
  h2 { font-size: 10pt; margin: 5mm 0 1mm; text-transform: capitalize; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border: 0.4pt solid #999; padding: 0.8mm 1.2mm; text-align: left; }
  th { background: #eee; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  td:first-child { white-space: nowrap; }
  .muted { color: #555; }
</style></head><body>
<h1>Portfolio report, as of {{ as_of }}</h1>
<p class="muted">Amounts in currency units, two decimals; made {{ made }}.</p>
{% for name, head, rows in sections %}
<h2>{{ name }}</h2>
<table><thead><tr>{% for h in head %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr>{% for text, num in row %}
<td{% if num %} class="num"{% endif %}>{{ text }}</td>{% endfor %}</tr>
{% else %}<tr><td colspan="{{ head | length }}" class="muted">None.</td></tr>{% endfor %}</tbody>
</table>
{% endfor %}
</body></html>"""


def _pdf_cell(value: Cell) -> tuple[str, bool]:
    """(text, right-aligned): money and shares with two decimals and thousands separators."""
    if value is None:
        return "", False
    if isinstance(value, Decimal):
        return f"{value:,.2f}", True
    if isinstance(value, int):
        return str(value), True
    return str(_cell(value)), False


def report_html(p: fr.Portfolio, made: datetime) -> str:
    sections = [(name, head, [[_pdf_cell(c) for c in row] for row in rows])
                for name, (head, rows) in tables(p).items()]  # fmt: skip
    return _PDF_ENV.from_string(_PDF_TEMPLATE).render(
        as_of=p.filter.as_of.isoformat(), made=made.isoformat(timespec="seconds"),
        sections=sections)  # fmt: skip


def report_pdf(p: fr.Portfolio) -> bytes:
    """The whole report as one PDF (WeasyPrint; fonts found by fontconfig)."""
    from weasyprint import HTML

    pdf = HTML(string=report_html(p, datetime.now(UTC))).write_pdf()
    assert pdf is not None
    return bytes(pdf)


def csv_text(table: Table) -> str:
    head, rows = table
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(head)
    for row in rows:
        w.writerow(["" if c is None else f"{c:.2f}" if isinstance(c, Decimal) else c
                    for c in row])  # fmt: skip
    return out.getvalue()


def _allowed(user: CurrentUser) -> None:
    if not user.has_any(frozenset((*REPORT_READERS, Role.ADMIN))):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role does not allow reports")
    if user.enterprise_id is not None:  # as portfolioReport's scope refuses them
        raise HTTPException(status.HTTP_403_FORBIDDEN, "an enterprise's user reads no report")


async def _report(
    driver: DriverDep, settings: SettingsDep, as_of: date | None, currency: str | None,
    lender: str | None, core_id: str | None, product_id: str | None, due_within_days: int,
    funder: str | None = None, from_on: date | None = None, to_on: date | None = None,
) -> fr.Portfolio:  # fmt: skip
    try:
        flt = report_filter(as_of, currency, lender, core_id, product_id, due_within_days,
                            funder, from_on, to_on)  # fmt: skip
    except FinanceError as e:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(e)) from e
    return await run_in_threadpool(fr.portfolio, driver, settings.neo4j_database, flt)


AsOf = Annotated[date | None, Query(alias="asOf")]
Currency = Annotated[str | None, Query(max_length=8)]
Lender = Annotated[str | None, Query(max_length=200)]
CoreId = Annotated[str | None, Query(alias="coreId", max_length=200)]
ProductId = Annotated[str | None, Query(alias="productId", max_length=200)]
DueWithin = Annotated[int, Query(alias="dueWithinDays", ge=0, le=fr.MAX_DUE_WITHIN_DAYS)]
FunderId = Annotated[str | None, Query(alias="funderId", max_length=200)]
FromOn = Annotated[date | None, Query(alias="fromOn")]
ToOn = Annotated[date | None, Query(alias="toOn")]


def _filename(p: fr.Portfolio, suffix: str) -> str:
    return f"portfolio-{p.filter.as_of.isoformat()}{suffix}"


async def _attachment(
    p: fr.Portfolio, render: Callable[[fr.Portfolio], bytes], media: str, suffix: str
) -> Response:
    """The report rendered (in a worker thread) as a file to download."""
    body = await run_in_threadpool(render, p)
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{_filename(p, suffix)}"'})  # fmt: skip


async def _portfolio(
    user: CurrentUserDep, driver: DriverDep, settings: SettingsDep, as_of: AsOf = None,
    currency: Currency = "CNY", lender: Lender = None, core_id: CoreId = None,
    product_id: ProductId = None, due_within_days: DueWithin = 30, funder_id: FunderId = None,
    from_on: FromOn = None, to_on: ToOn = None,
) -> fr.Portfolio:  # fmt: skip
    """The report every download route serves: the caller may read reports, the filters
    (query parameters) are valid, and it covers the caller's funder's book (as
    portfolioReport does)."""
    _allowed(user)
    try:
        funder = book_to_read(user, funder_id)
    except Forbidden as e:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(e)) from e
    return await _report(driver, settings, as_of, currency, lender, core_id, product_id,
                         due_within_days, funder, from_on, to_on)  # fmt: skip


PortfolioDep = Annotated[fr.Portfolio, Depends(_portfolio)]


@router.get("/portfolio.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}}, 403: {"description": "Role."}})  # fmt: skip
async def portfolio_xlsx(p: PortfolioDep) -> Response:
    """The portfolio report as a workbook, one sheet per table."""
    return await _attachment(p, workbook, XLSX, ".xlsx")


@router.get("/portfolio.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}},
                       403: {"description": "Role."}})  # fmt: skip
async def portfolio_pdf(p: PortfolioDep) -> Response:
    """The whole portfolio report as one PDF, a section per table."""
    return await _attachment(p, report_pdf, "application/pdf", ".pdf")


TABLES = ("summary", "classes", "products", "cores", "due", "overdue", "financings",
          "disbursements", "recoveries", "purposes", "chains", "movements", "forecast")


@router.get("/portfolio/{table}.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}, 403: {"description": "Role."},
                       404: {"description": "No such table."}})  # fmt: skip
async def portfolio_csv(table: str, p: PortfolioDep) -> Response:
    """One table of the portfolio report as CSV (UTF-8)."""
    if table not in TABLES:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"table must be one of {', '.join(TABLES)}")  # fmt: skip
    name = _filename(p, f"-{table}.csv")
    return Response(
        csv_text(tables(p)[table]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
