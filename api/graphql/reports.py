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
from api.graphql.sensors import CollateralState
from api.security import Role
from finance import reports as fr
from graph.model import Label
from sensors import service
from sensors.errors import NotFound

REPORT_READERS = (Role.CREDIT_OFFICER, Role.ANALYST)
COLLATERAL_READERS = (*REPORT_READERS, Role.RELATIONSHIP_MANAGER)


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


@strawberry.type(description="One row of a flow's distribution: its key, label, how many "
                 "movements and their amount.")
class FlowBucket:
    key: str
    label: str
    count: int
    amount: BigInt
    share_bps: int


@strawberry.type(description="A movement of a financing in the period: a disbursement, "
                 "principal repaid or interest received.")
class FlowMovement:
    financing_id: strawberry.ID
    flow: str = strawberry.field(description="disbursement, principal or interest.")
    on: date
    amount: BigInt
    source: str = strawberry.field(
        description="ledger (a posted transfer) or book (a loaded financing's start, as its "
        "lender said).")
    code: str
    transfer_id: str | None
    product: str
    borrower_id: strawberry.ID
    core_id: str
    core_name: str
    currency: str


@strawberry.type
class FlowTotals:
    count: int
    financings: int
    amount: BigInt
    by_month: list[FlowBucket] = strawberry.field(description="Every month of the period.")
    by_product: list[FlowBucket]


@strawberry.type(description="Disbursements and cash recovered in a period, from the ledger.")
class ReportFlows:
    from_on: date
    to_on: date
    disbursed: FlowTotals
    recovered: FlowTotals = strawberry.field(description="Principal repaid and interest "
                                             "received together.")  # fmt: skip
    principal: BigInt
    interest: BigInt
    ledger_disbursed: BigInt
    book_disbursed: BigInt
    differing_ids: list[str] = strawberry.field(
        description="Financings paid out in the period whose ledger disbursement differs from "
        "their recorded amount.")
    movements: list[FlowMovement]


@strawberry.type(description="A core's chain: its supply-chain lines against what is owed.")
class ChainExposure:
    core_id: strawberry.ID
    core_name: str
    limit: BigInt
    outstanding: BigInt
    overdue: BigInt
    count: int
    borrowers: int
    utilisation_bps: int | None
    share_bps: int


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
    by_purpose: list[ReportBucket] = strawberry.field(
        description="The loan-purpose distribution: what each financing's product finances.")
    chains: list[ChainExposure] = strawberry.field(
        description="Exposure by chain: each core's supply-chain lines and what its chain owes.")
    flows: ReportFlows = strawberry.field(
        description="Disbursements and cash recovered from `fromOn` to `toOn`.")
    forecast: list[ForecastBucket] = strawberry.field(
        description="The cash-recovery forecast: the outstanding book's principal and interest "
        "by month of maturity, twelve months from `asOf`'s, the arrears (`overdue`) first "
        "and `later` last.")  # fmt: skip


@strawberry.type(description="What the outstanding book is expected to bring back in one part "
                 "of the future: the arrears, a month, or later.")  # fmt: skip
class ForecastBucket:
    key: str = strawberry.field(description="`overdue`, a month `YYYY-MM`, or `later`.")
    label: str
    count: int
    principal: BigInt
    interest: BigInt = strawberry.field(
        description="The interest due now plus what is projected to accrue to maturity at "
        "each financing's rate and day count.")  # fmt: skip
    projected_interest: BigInt
    amount: BigInt = strawberry.field(description="Principal plus interest.")
    unpriced: int = strawberry.field(
        description="Financings without a rate here (a lender's book): their interest is "
        "only what is due.")  # fmt: skip


def _flow_bucket(b: fr.Bucket) -> FlowBucket:
    return FlowBucket(key=b.key, label=b.label, count=b.count,
                      amount=BigInt(b.outstanding_minor), share_bps=b.share_bps)  # fmt: skip


def _totals(t: fr.FlowTotals) -> FlowTotals:
    return FlowTotals(count=t.count, financings=t.financings, amount=BigInt(t.amount_minor),
                      by_month=[_flow_bucket(b) for b in t.by_month],
                      by_product=[_flow_bucket(b) for b in t.by_product])  # fmt: skip


def _flows(f: fr.Flows) -> ReportFlows:
    return ReportFlows(
        from_on=f.period[0], to_on=f.period[1], disbursed=_totals(f.disbursed),
        recovered=_totals(f.recovered), principal=BigInt(f.principal_minor),
        interest=BigInt(f.interest_minor), ledger_disbursed=BigInt(f.ledger_disbursed_minor),
        book_disbursed=BigInt(f.book_disbursed_minor), differing_ids=f.differing_ids,
        movements=[FlowMovement(
            financing_id=strawberry.ID(m.financing_id), flow=m.flow, on=m.on,
            amount=BigInt(m.amount_minor), source=m.source, code=m.code,
            transfer_id=m.transfer_id, product=m.product,
            borrower_id=strawberry.ID(m.borrower_id), core_id=m.core_id,
            core_name=m.core_name, currency=m.currency) for m in f.movements],
    )  # fmt: skip


def _chain(c: fr.ChainExposure) -> ChainExposure:
    return ChainExposure(
        core_id=strawberry.ID(c.core_id), core_name=c.core_name, limit=BigInt(c.limit_minor),
        outstanding=BigInt(c.outstanding_minor), overdue=BigInt(c.overdue_minor),
        count=c.count, borrowers=c.borrowers, utilisation_bps=c.utilisation_bps,
        share_bps=c.share_bps)  # fmt: skip


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
        by_purpose=[_bucket(b) for b in p.by_purpose], chains=[_chain(c) for c in p.chains],
        flows=_flows(p.flows or fr.build_flows([], p.filter.period)),
        forecast=[ForecastBucket(
            key=b.key, label=b.label, count=b.count, principal=BigInt(b.principal_minor),
            interest=BigInt(b.interest_minor), projected_interest=BigInt(
                b.projected_interest_minor), amount=BigInt(b.amount_minor),
            unpriced=b.unpriced) for b in p.forecast],
    )  # fmt: skip


def report_filter(
    as_of: date | None, currency: str | None, lender: str | None, core_id: str | None,
    product_id: str | None, due_within_days: int, funder: str | None = None,
    from_on: date | None = None, to_on: date | None = None,
) -> fr.ReportFilter:  # fmt: skip
    """The filter of a request; `as_of` defaults to today (UTC), the flows' period to the
    year to `as_of`."""
    return fr.ReportFilter(
        as_of=as_of or datetime.now(UTC).date(), currency=currency or None,
        lender=lender or None, core_id=core_id or None, product_id=product_id or None,
        due_within_days=due_within_days, funder=funder, from_on=from_on, to_on=to_on,
    )  # fmt: skip



@strawberry.type(description="A piece of collateral, a financing's or offered by an application; "
                 "an asset's live state from its sensors (null for a receivable, a voucher, "
                 "or an asset without any).")  # fmt: skip
class FinancingCollateral:
    id: strawberry.ID
    label: str
    value: BigInt
    state: CollateralState | None
    backs: list[strawberry.ID] = strawberry.field(
        description="The live financings it is pledged or assigned to."
    )


async def _with_state(info: Info[Context, None], items: Any) -> list[FinancingCollateral]:
    """Collateral items with each asset's live state from its sensors (none reporting: null)."""
    out = []
    for c in cast(list[fr.CollateralItem], items):
        state = None
        if c.label == Label.ASSET:
            try:
                state = CollateralState.from_domain(
                    await info.context.call(service.asset_state, c.id))
            except NotFound:
                state = None
        out.append(FinancingCollateral(
            id=strawberry.ID(c.id), label=c.label, value=BigInt(c.value_minor), state=state,
            backs=[strawberry.ID(f) for f in c.backs]))  # fmt: skip
    return out


def _field(description: str, roles: tuple[Role, ...]) -> Any:
    return strawberry.field(extensions=requires(*roles), description=description)


@strawberry.type
class ReportsQuery:
    @_field("The portfolio report: five-tier distribution, balances by product and by core, "
            "the due list (maturing within `dueWithinDays` of `asOf`), overdue statistics and "
            "the reconciliation with the ledger, the loan-purpose distribution, exposure by "
            "chain, and the flows from `fromOn` (default 1 January) to `toOn` (default `asOf`): "
            "disbursements and cash recovered; filtered by lender, core and product. Of the "
            "caller's funder's book (funderId, when given, must be it; unbound staff's is the "
            "default funder's); an unbound admin names a funder, or reads every funder's "
            "without one. Also at /api/v1/reports/portfolio.xlsx, .pdf and .csv.",
            REPORT_READERS)  # fmt: skip
    async def portfolio_report(
        self, info: Info[Context, None], as_of: date | None = None,
        currency: str | None = "CNY", lender: str | None = None,
        core_id: strawberry.ID | None = None, product_id: str | None = None,
        due_within_days: int = 30, funder_id: strawberry.ID | None = None,
        from_on: date | None = None, to_on: date | None = None,
    ) -> PortfolioReport:  # fmt: skip
        funder = book_to_read(info.context.user, str(funder_id) if funder_id else None)
        flt = report_filter(as_of, currency, lender, str(core_id) if core_id else None,
                            product_id, due_within_days, funder, from_on, to_on)  # fmt: skip
        return to_graphql(cast(fr.Portfolio, await info.context.call(fr.portfolio, flt)))

    @_field("A financing's collateral (what loan-to-value counts) with each asset's live "
            "state from its sensors, for the financing's page.", REPORT_READERS)
    async def financing_collateral(
        self, info: Info[Context, None], financing_id: strawberry.ID
    ) -> list[FinancingCollateral]:
        return await _with_state(info, await info.context.call(
            fr.financing_collateral, str(financing_id)))  # fmt: skip

    @_field("What an application offers as collateral, valued as loan-to-value values it, "
            "with each asset's live state and the live financings a piece already backs: "
            "what the reviewer weighs before approving.", COLLATERAL_READERS)  # fmt: skip
    async def application_collateral(
        self, info: Info[Context, None], application_id: strawberry.ID
    ) -> list[FinancingCollateral]:
        return await _with_state(info, await info.context.call(
            fr.application_collateral, str(application_id)))  # fmt: skip
