"""Reports in GraphQL: the portfolio report (`finance/reports.py`) for the credit team and
analysts. The same report downloads as XLSX and CSV from `api/routes/reports.py`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.permissions import requires
from api.graphql.scalars import BigInt
from api.graphql.scoping import book_to_read
from api.security import Role
from finance import reports as fr

REPORT_READERS = (Role.CREDIT_OFFICER, Role.ANALYST)


@strawberry.type(description="One row of a distribution: its key, label, count and balance.")
class ReportBucket:
    key: str
    label: str
    count: int
    outstanding: BigInt
    share_bps: int


@strawberry.type(description="An outstanding financing as the report sees it.")
class ReportFinancing:
    id: strawberry.ID
    status: str
    origin: str
    lender: str
    product: str
    borrower_id: strawberry.ID
    borrower_name: str
    core_id: str
    core_name: str
    currency: str
    outstanding: BigInt
    interest_due: BigInt
    provision: BigInt
    maturity_on: date | None
    days_past_due: int
    risk_class: str
    ledger_principal: BigInt | None = strawberry.field(
        description="The principal sub-account's balance; null for a loaded financing."
    )


@strawberry.type
class OverdueStatistics:
    count: int
    outstanding: BigInt
    ratio_bps: int
    buckets: list[ReportBucket]


@strawberry.type(description="Originated financings' outstanding against the ledger.")
class LedgerReconciliation:
    originated_count: int
    book_outstanding: BigInt
    ledger_principal: BigInt
    difference: BigInt
    differing_ids: list[str]
    reconciled: bool


@strawberry.type(description="The outstanding book (active and overdue financings).")
class PortfolioReport:
    as_of: date
    currency: str | None
    funder_id: strawberry.ID | None = strawberry.field(
        description="The funder whose book it covers; null: every funder's (the platform).")
    due_within_days: int
    count: int
    outstanding: BigInt
    classes: list[ReportBucket] = strawberry.field(
        description="The five-tier classification, always all five, best first."
    )
    by_product: list[ReportBucket]
    by_core: list[ReportBucket]
    due: list[ReportFinancing]
    overdue: OverdueStatistics
    reconciliation: LedgerReconciliation
    financings: list[ReportFinancing]


def _bucket(b: fr.Bucket) -> ReportBucket:
    return ReportBucket(key=b.key, label=b.label, count=b.count,
                        outstanding=BigInt(b.outstanding_minor), share_bps=b.share_bps)  # fmt: skip


def _financing(x: fr.FinancingLine) -> ReportFinancing:
    return ReportFinancing(
        id=strawberry.ID(x.id), status=x.status, origin=x.origin, lender=x.lender,
        product=x.product, borrower_id=strawberry.ID(x.borrower_id),
        borrower_name=x.borrower_name, core_id=x.core_id, core_name=x.core_name,
        currency=x.currency, outstanding=BigInt(x.outstanding_minor),
        interest_due=BigInt(x.interest_due_minor), provision=BigInt(x.provision_minor),
        maturity_on=x.maturity_on, days_past_due=x.dpd, risk_class=x.risk_class.value,
        ledger_principal=(BigInt(x.ledger_principal_minor)
                          if x.ledger_principal_minor is not None else None),
    )  # fmt: skip


def to_graphql(p: fr.Portfolio) -> PortfolioReport:
    r = p.reconciliation
    return PortfolioReport(
        as_of=p.filter.as_of, currency=p.filter.currency,
        funder_id=strawberry.ID(p.filter.funder) if p.filter.funder is not None else None,
        due_within_days=p.filter.due_within_days, count=p.count,
        outstanding=BigInt(p.outstanding_minor), classes=[_bucket(b) for b in p.classes],
        by_product=[_bucket(b) for b in p.by_product], by_core=[_bucket(b) for b in p.by_core],
        due=[_financing(x) for x in p.due],
        overdue=OverdueStatistics(
            count=p.overdue.count, outstanding=BigInt(p.overdue.outstanding_minor),
            ratio_bps=p.overdue.ratio_bps, buckets=[_bucket(b) for b in p.overdue.buckets]),
        reconciliation=LedgerReconciliation(
            originated_count=r.originated_count,
            book_outstanding=BigInt(r.book_outstanding_minor),
            ledger_principal=BigInt(r.ledger_principal_minor),
            difference=BigInt(r.difference_minor), differing_ids=r.differing_ids,
            reconciled=r.reconciled),
        financings=[_financing(x) for x in p.financings],
    )  # fmt: skip


def report_filter(
    as_of: date | None, currency: str | None, lender: str | None, core_id: str | None,
    product_id: str | None, due_within_days: int, funder: str | None = None,
) -> fr.ReportFilter:  # fmt: skip
    """The filter of a request; `as_of` defaults to today (UTC)."""
    return fr.ReportFilter(
        as_of=as_of or datetime.now(UTC).date(), currency=currency or None,
        lender=lender or None, core_id=core_id or None, product_id=product_id or None,
        due_within_days=due_within_days, funder=funder,
    )  # fmt: skip



def _field(description: str, roles: tuple[Role, ...]) -> Any:
    return strawberry.field(extensions=requires(*roles), description=description)


@strawberry.type
class ReportsQuery:
    @_field("The portfolio report: five-tier distribution, balances by product and by core, "
            "the due list (maturing within `dueWithinDays` of `asOf`), overdue statistics and "
            "the reconciliation with the ledger; filtered by lender, core and product. Of the "
            "caller's funder's book (funderId, when given, must be it; unbound staff's is the "
            "default funder's); an unbound admin names a funder, or reads every funder's "
            "without one. Also at /api/v1/reports/portfolio.xlsx, .pdf and .csv.",
            REPORT_READERS)  # fmt: skip
    async def portfolio_report(
        self, info: Info[Context, None], as_of: date | None = None,
        currency: str | None = "CNY", lender: str | None = None,
        core_id: strawberry.ID | None = None, product_id: str | None = None,
        due_within_days: int = 30, funder_id: strawberry.ID | None = None,
    ) -> PortfolioReport:  # fmt: skip
        funder = book_to_read(info.context.user, str(funder_id) if funder_id else None)
        flt = report_filter(as_of, currency, lender, str(core_id) if core_id else None,
                            product_id, due_within_days, funder)  # fmt: skip
        return to_graphql(cast(fr.Portfolio, await info.context.call(fr.portfolio, flt)))
