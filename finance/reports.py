"""The portfolio report: the five-tier distribution, balances by product and by core, the
due list and overdue statistics of the outstanding book, reconciled with the ledger; the
loan-purpose distribution and the exposure by chain (each core's supply-chain lines against
what its chain owes); the flows of a period: disbursements and cash recovered (principal
repaid and interest received), by month and by product; and the cash-recovery forecast:
what the outstanding book is expected to bring back, by month of maturity.

Every stock figure is summed from one list of outstanding financings (active and overdue) read in
one query (`graph/queries/reports.py`), so the tables of a report always agree with each
other. Money is integer minor units (fen for CNY). A financing ChainLens originated carries
its principal in a ledger sub-account; the report compares that balance with the
financing's `outstanding_minor` and lists every financing where they differ. A financing
loaded from a lender's book has no ledger account here and is reported as its lender said.

The flows are read from the ledger itself: the posted transfers on each financing's
principal and interest sub-accounts whose value date falls in the period (a loaded
financing's disbursement is its start date and amount, marked as the book's). Each
originated financing paid out in the period is checked against its recorded amount.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from neo4j import Driver

from finance.accounts import AccountCode
from finance.daycount import DayCount, simple_interest
from finance.errors import FinanceError
from finance.ledger import TransferKind
from finance.products import ProductKind, load_products
from graph.model import CreditLineStatus, FinancingOrigin, FinancingStatus, RiskClass
from graph.queries import reports as q

# Principal receivable codes: loans and factoring (discounted receivables).
PRINCIPAL_CODES: tuple[AccountCode, ...] = (AccountCode.LOANS, AccountCode.FACTORING)

# Days-past-due buckets of the overdue statistics: (label, lowest, highest or None).
DPD_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1-30", 1, 30),
    ("31-90", 31, 90),
    ("91-180", 91, 180),
    ("181-360", 181, 360),
    (">360", 361, None),
)

MAX_DUE_WITHIN_DAYS = 366
MAX_PERIOD_DAYS = 3 * 366
NO_CORE = ""  # the key of financings with no core's supply-chain line


@dataclass(frozen=True)
class ReportFilter:
    """What the report covers; None means every value."""

    as_of: date
    currency: str | None = "CNY"
    lender: str | None = None
    core_id: str | None = None
    product_id: str | None = None  # a product id, or a loaded financing's product kind
    due_within_days: int = 30
    funder: str | None = None  # whose book (None: every funder's, the platform's)
    from_on: date | None = None  # the flows' period, inclusive: from (default: 1 January)
    to_on: date | None = None  # ... to (default: as_of)

    def __post_init__(self) -> None:
        if not 0 <= self.due_within_days <= MAX_DUE_WITHIN_DAYS:
            raise FinanceError(
                f"dueWithinDays must be 0 to {MAX_DUE_WITHIN_DAYS}, got {self.due_within_days}"
            )
        start, end = self.period
        if start > end:
            raise FinanceError(f"the period starts ({start}) after it ends ({end})")
        if (end - start).days > MAX_PERIOD_DAYS:
            raise FinanceError(f"a period is at most {MAX_PERIOD_DAYS} days, got "
                               f"{(end - start).days}")  # fmt: skip

    @property
    def period(self) -> tuple[date, date]:
        """The flows' period, both days included."""
        end = self.to_on or self.as_of
        return self.from_on or date(end.year, 1, 1), end


@dataclass(frozen=True)
class FinancingLine:
    id: str
    status: str
    origin: str
    lender: str
    product: str  # the product id, or the product kind of a loaded financing
    borrower_id: str
    borrower_name: str
    core_id: str
    core_name: str
    currency: str
    outstanding_minor: int
    interest_due_minor: int
    provision_minor: int
    maturity_on: date | None
    dpd: int
    risk_class: RiskClass
    ledger_principal_minor: int | None  # None: loaded, no ledger account here
    rate_bps: int | None = None  # None: not known here (a lender's book carries none)
    day_count: str | None = None
    accrued_through: date | None = None  # interest is in interest_due up to this day
    start_on: date | None = None


@dataclass(frozen=True)
class Bucket:
    """One row of a distribution: a key, its label, how many financings and their balance."""

    key: str
    label: str
    count: int
    outstanding_minor: int
    share_bps: int  # of the report's total outstanding


@dataclass(frozen=True)
class OverdueStats:
    count: int
    outstanding_minor: int
    ratio_bps: int  # overdue outstanding over all outstanding
    buckets: list[Bucket]


@dataclass(frozen=True)
class Reconciliation:
    """Originated financings' outstanding against their principal in the ledger."""

    originated_count: int
    book_outstanding_minor: int
    ledger_principal_minor: int
    difference_minor: int
    differing_ids: list[str]

    @property
    def reconciled(self) -> bool:
        return self.difference_minor == 0 and not self.differing_ids


@dataclass(frozen=True)
class Portfolio:
    filter: ReportFilter
    count: int
    outstanding_minor: int
    classes: list[Bucket]  # always the five classes, best first
    by_product: list[Bucket]
    by_core: list[Bucket]
    due: list[FinancingLine]  # maturing from as_of to as_of + due_within_days
    overdue: OverdueStats
    reconciliation: Reconciliation
    financings: list[FinancingLine] = field(default_factory=list)
    by_purpose: list[Bucket] = field(default_factory=list)
    chains: list[ChainExposure] = field(default_factory=list)
    flows: Flows | None = None
    forecast: list[ForecastBucket] = field(default_factory=list)


@dataclass(frozen=True)
class ChainExposure:
    """A core's chain: the supply-chain lines granted to the core against what the
    financings drawn on them owe."""

    core_id: str
    core_name: str
    limit_minor: int  # the core's root supply-chain lines (0: none in this book)
    outstanding_minor: int
    overdue_minor: int
    count: int  # outstanding financings
    borrowers: int
    utilisation_bps: int | None  # outstanding over limit; None without a limit
    share_bps: int  # of the report's total outstanding


@dataclass(frozen=True)
class ForecastBucket:
    """What the outstanding book is expected to bring back in one part of the future: the
    arrears (`overdue`: matured before the report's day and still owed), a calendar month
    (`YYYY-MM`, the financings maturing in it), or `later` (beyond the horizon)."""

    key: str
    label: str
    count: int  # financings
    principal_minor: int
    interest_minor: int  # interest due now plus what is projected to accrue to maturity
    projected_interest_minor: int  # the projected part of interest_minor
    unpriced: int  # financings whose rate is not known here: their interest is only what is due

    @property
    def amount_minor(self) -> int:
        return self.principal_minor + self.interest_minor


@dataclass(frozen=True)
class Movement:
    """One movement of a financing in the period: a disbursement, principal repaid or
    interest received; from the ledger (a transfer) or from a loaded book (its start)."""

    financing_id: str
    flow: str  # FLOW_DISBURSEMENT, FLOW_PRINCIPAL or FLOW_INTEREST
    on: date
    amount_minor: int
    source: str  # "ledger" or "book"
    code: str  # the transfer's code ("loaded" for a book's disbursement)
    transfer_id: str | None
    product: str
    borrower_id: str
    core_id: str
    core_name: str
    currency: str


@dataclass(frozen=True)
class FlowTotals:
    count: int  # movements
    financings: int
    amount_minor: int
    by_month: list[Bucket]  # key YYYY-MM, every month of the period, in order
    by_product: list[Bucket]


@dataclass(frozen=True)
class Flows:
    """Disbursements and cash recovered in ``period``; ``differing_ids``: financings paid
    out in the period whose ledger disbursement differs from their recorded amount."""

    period: tuple[date, date]
    disbursed: FlowTotals
    recovered: FlowTotals  # principal and interest together
    principal_minor: int
    interest_minor: int
    ledger_disbursed_minor: int  # the ledger's part (originated financings)
    book_disbursed_minor: int  # loaded financings, as their lender said
    differing_ids: list[str]
    movements: list[Movement]


CLASS_LABELS: dict[RiskClass, str] = {
    RiskClass.NORMAL: "Normal (正常)",
    RiskClass.SPECIAL_MENTION: "Special mention (关注)",
    RiskClass.SUBSTANDARD: "Substandard (次级)",
    RiskClass.DOUBTFUL: "Doubtful (可疑)",
    RiskClass.LOSS: "Loss (损失)",
}


def _date(x: Any) -> date | None:
    if x is None:
        return None
    return x.to_native() if hasattr(x, "to_native") else x  # type: ignore[no-any-return]


def _days_past_due(row: dict[str, Any], maturity: date | None, as_of: date) -> int:
    """The stored days past due; a financing overdue without one (a lender's book) counts
    from its maturity."""
    dpd = int(row["dpd"])
    if dpd == 0 and row["status"] == FinancingStatus.OVERDUE and maturity and maturity < as_of:
        return (as_of - maturity).days
    return dpd


def _line(row: dict[str, Any], as_of: date) -> FinancingLine:
    maturity = _date(row["maturity_on"])
    principal = row["ledger_principal_minor"]
    return FinancingLine(
        id=row["id"], status=row["status"],
        origin=row["origin"] or FinancingOrigin.ORIGINATED.value, lender=row["lender"] or "",
        product=row["product_id"] or row["product_kind"] or "",
        borrower_id=row["borrower_id"], borrower_name=row["borrower_name"] or "",
        core_id=row["core_id"] or NO_CORE, core_name=row["core_name"] or "",
        currency=row["currency"], outstanding_minor=int(row["outstanding_minor"]),
        interest_due_minor=int(row["interest_due_minor"]),
        provision_minor=int(row["provision_minor"]), maturity_on=maturity,
        dpd=_days_past_due(row, maturity, as_of), risk_class=RiskClass(row["risk_class"]),
        ledger_principal_minor=int(principal) if principal is not None else None,
        rate_bps=None if row.get("rate_bps") is None else int(row["rate_bps"]),
        day_count=row.get("day_count"), accrued_through=_date(row.get("accrued_through")),
        start_on=_date(row.get("start_on")),
    )  # fmt: skip


def _share(part: int, total: int) -> int:
    return (part * 10_000 + total // 2) // total if total else 0


def _group(
    lines: Iterable[FinancingLine], key: Callable[[FinancingLine], str],
    label: Callable[[FinancingLine], str], total: int,
) -> list[Bucket]:  # fmt: skip
    """Buckets by key, largest balance first (then by key)."""
    counts: dict[str, int] = {}
    sums: dict[str, int] = {}
    labels: dict[str, str] = {}
    for x in lines:
        k = key(x)
        counts[k] = counts.get(k, 0) + 1
        sums[k] = sums.get(k, 0) + x.outstanding_minor
        labels.setdefault(k, label(x))
    order = sorted(counts, key=lambda k: (-sums[k], k))
    return [Bucket(k, labels[k], counts[k], sums[k], _share(sums[k], total)) for k in order]


def _overdue(lines: list[FinancingLine], total: int) -> OverdueStats:
    late = [x for x in lines if x.dpd > 0 or x.status == FinancingStatus.OVERDUE]
    buckets = []
    for label, lo, hi in DPD_BUCKETS:
        inside = [x for x in late if x.dpd >= lo and (hi is None or x.dpd <= hi)]
        amount = sum(x.outstanding_minor for x in inside)
        buckets.append(Bucket(label, f"{label} days", len(inside), amount, _share(amount, total)))
    amount = sum(x.outstanding_minor for x in late)
    return OverdueStats(len(late), amount, _share(amount, total), buckets)


def _reconcile(lines: list[FinancingLine]) -> Reconciliation:
    mine = [x for x in lines if x.origin == FinancingOrigin.ORIGINATED]
    book = sum(x.outstanding_minor for x in mine)
    ledger = sum(x.ledger_principal_minor or 0 for x in mine)
    differing = [x.id for x in mine if x.ledger_principal_minor != x.outstanding_minor]
    return Reconciliation(len(mine), book, ledger, book - ledger, differing)


# The loan purpose of a financing is what its product finances.
PURPOSES: dict[str, str] = {
    ProductKind.FACTORING: "Working capital against receivables sold (保理)",
    ProductKind.REVERSE_FACTORING: "Suppliers paid early on the core's credit (反向保理)",
    ProductKind.RECEIVABLES_PLEDGE: "Working capital against receivables pledged (应收账款质押)",
    ProductKind.WAREHOUSE_RECEIPT_PLEDGE: "Inventory in a warehouse (仓单质押)",
    ProductKind.MOVABLE_ASSET_PLEDGE: "Inventory and movable assets (动产质押)",
    ProductKind.ORDER_FINANCING: "Purchases to fulfil a confirmed order (订单融资)",
    ProductKind.CONFIRMED_WAREHOUSE: "Purchases prepaid for a dealer (保兑仓)",
    ProductKind.VOUCHER_DISCOUNTING: "Early cash from a core's e-voucher (凭证贴现)",
}
_KIND_OF_PRODUCT: dict[str, str] = {pid: p.kind.value for pid, p in load_products().items()}


def purpose_of(product: str) -> str:
    """The purpose key of a product id or a loaded financing's product kind: its kind."""
    return _KIND_OF_PRODUCT.get(product, product)


FLOW_DISBURSEMENT, FLOW_PRINCIPAL, FLOW_INTEREST = "disbursement", "principal", "interest"
# Ledger codes of each flow (finance/lifecycle, finance/vouchers): what pays a financing
# out, what repays its principal, what pays its interest.
DISBURSEMENT_CODES = ("disbursement", "voucher_discount")
PRINCIPAL_IN_CODES = ("principal_repayment", "voucher_clear")
INTEREST_IN_CODES = ("interest_repayment",)
PAID_OUT = tuple(sorted({FinancingStatus.ACTIVE, FinancingStatus.OVERDUE,
                         FinancingStatus.CLOSED, FinancingStatus.WRITTEN_OFF}))  # fmt: skip
LINE_STATUSES = (CreditLineStatus.ACTIVE, CreditLineStatus.FROZEN)


def _months(start: date, end: date) -> list[str]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _flow_totals(moves: list[Movement], period: tuple[date, date]) -> FlowTotals:
    total = sum(x.amount_minor for x in moves)
    by_month = []
    for key in _months(*period):
        inside = [x for x in moves if x.on.strftime("%Y-%m") == key]
        amount = sum(x.amount_minor for x in inside)
        by_month.append(Bucket(key, key, len(inside), amount, _share(amount, total)))
    by_product = [
        Bucket(b.key, b.label, b.count, b.outstanding_minor, b.share_bps)
        for b in _group_amounts(moves, total)
    ]
    return FlowTotals(len(moves), len({x.financing_id for x in moves}), total, by_month,
                      by_product)  # fmt: skip


def _group_amounts(moves: list[Movement], total: int) -> list[Bucket]:
    counts: dict[str, int] = {}
    sums: dict[str, int] = {}
    for x in moves:
        counts[x.product] = counts.get(x.product, 0) + 1
        sums[x.product] = sums.get(x.product, 0) + x.amount_minor
    order = sorted(counts, key=lambda k: (-sums[k], k))
    return [Bucket(k, k or "unknown", counts[k], sums[k], _share(sums[k], total)) for k in order]


def build_flows(rows: list[dict[str, Any]], period: tuple[date, date]) -> Flows:
    """The flows of already-read movement rows (`graph.queries.reports.flow_rows`)."""
    moves = [
        Movement(
            financing_id=r["id"], flow=r["flow"], on=_date(r["on"]) or period[0],
            amount_minor=int(r["amount"]), source=r["source"], code=r["code"],
            transfer_id=r["transfer_id"], product=r["product_id"] or r["product_kind"] or "",
            borrower_id=r["borrower_id"] or "", core_id=r["core_id"] or NO_CORE,
            core_name=r["core_name"] or "", currency=r["currency"],
        )
        for r in rows
    ]  # fmt: skip
    out = [x for x in moves if x.flow == FLOW_DISBURSEMENT]
    back = [x for x in moves if x.flow != FLOW_DISBURSEMENT]
    recorded = {r["id"]: int(r["amount_minor"]) for r in rows if r["source"] == "ledger"}
    paid: dict[str, int] = {}
    for x in out:
        if x.source == "ledger":
            paid[x.financing_id] = paid.get(x.financing_id, 0) + x.amount_minor
    # A voucher's discount pays out less than its face: only plain disbursements compare.
    plain = {x.financing_id for x in out if x.code == DISBURSEMENT_CODES[0]}
    differing = sorted(i for i in plain if paid[i] != recorded[i])
    return Flows(
        period=period, disbursed=_flow_totals(out, period), recovered=_flow_totals(back, period),
        principal_minor=sum(x.amount_minor for x in back if x.flow == FLOW_PRINCIPAL),
        interest_minor=sum(x.amount_minor for x in back if x.flow == FLOW_INTEREST),
        ledger_disbursed_minor=sum(x.amount_minor for x in out if x.source == "ledger"),
        book_disbursed_minor=sum(x.amount_minor for x in out if x.source == "book"),
        differing_ids=differing, movements=moves,
    )  # fmt: skip


def _chains(lines: list[FinancingLine], limits: list[dict[str, Any]],
            total: int) -> list[ChainExposure]:  # fmt: skip
    """Every core with a line or an outstanding financing on its chain, largest first."""
    limit = {r["core_id"]: int(r["limit_minor"]) for r in limits}
    names = {r["core_id"]: r["core_name"] or r["core_id"] for r in limits}
    for x in lines:
        if x.core_id != NO_CORE:
            names.setdefault(x.core_id, x.core_name or x.core_id)
    out = []
    for core in names:
        mine = [x for x in lines if x.core_id == core]
        owed = sum(x.outstanding_minor for x in mine)
        late = sum(x.outstanding_minor for x in mine
                   if x.dpd > 0 or x.status == FinancingStatus.OVERDUE)  # fmt: skip
        cap = limit.get(core, 0)
        out.append(ChainExposure(
            core, names[core], cap, owed, late, len(mine), len({x.borrower_id for x in mine}),
            (owed * 10_000 + cap // 2) // cap if cap else None, _share(owed, total)))  # fmt: skip
    return sorted(out, key=lambda c: (-c.outstanding_minor, -c.limit_minor, c.core_id))


FORECAST_MONTHS = 12  # months of the cash-recovery forecast, from the report's month
FORECAST_OVERDUE, FORECAST_LATER = "overdue", "later"


def projected_interest(x: FinancingLine) -> int:
    """The interest still to accrue on a bullet financing's outstanding principal from
    where the end of day left it to maturity, at its rate and day count (the financing
    page's projection; the end of day accrues the exact figure). 0 without a rate."""
    start = x.accrued_through or x.start_on
    if x.rate_bps is None or x.maturity_on is None or start is None or start >= x.maturity_on:
        return 0
    return simple_interest(x.outstanding_minor, x.rate_bps, start, x.maturity_on,
                           DayCount(x.day_count or DayCount.ACT_365F))  # fmt: skip


def forecast(lines: list[FinancingLine], as_of: date) -> list[ForecastBucket]:
    """The cash-recovery forecast: every outstanding financing's principal and interest at
    its maturity (every product here is repaid in one payment then), by month for
    FORECAST_MONTHS months from ``as_of``'s, the arrears first and what matures later last.
    A financing without a maturity is counted under `later`."""
    last = as_of.year * 12 + as_of.month - 1 + FORECAST_MONTHS - 1  # months since year 0
    months = _months(as_of, date(last // 12, last % 12 + 1, 1))
    keys = [FORECAST_OVERDUE, *months, FORECAST_LATER]
    labels = {FORECAST_OVERDUE: "Overdue (matured, still owed)", FORECAST_LATER:
              f"After {months[-1]}", **{m: m for m in months}}  # fmt: skip
    sums = {k: [0, 0, 0, 0, 0] for k in keys}  # count, principal, interest, projected, unpriced
    for x in lines:
        if x.outstanding_minor == 0 and x.interest_due_minor == 0:
            continue
        if x.maturity_on is not None and x.maturity_on < as_of:
            key, extra = FORECAST_OVERDUE, 0
        else:
            month = x.maturity_on.strftime("%Y-%m") if x.maturity_on else None
            key = month if month in sums else FORECAST_LATER
            extra = projected_interest(x)
        b = sums[key]
        b[0] += 1
        b[1] += x.outstanding_minor
        b[2] += x.interest_due_minor + extra
        b[3] += extra
        b[4] += x.rate_bps is None
    return [ForecastBucket(k, labels[k], *sums[k]) for k in keys]


def build(lines: list[FinancingLine], flt: ReportFilter) -> Portfolio:
    """The report of already-read financing lines (pure: the tests feed it by hand)."""
    total = sum(x.outstanding_minor for x in lines)
    classes = []
    for rc in RiskClass:
        inside = [x for x in lines if x.risk_class == rc]
        amount = sum(x.outstanding_minor for x in inside)
        classes.append(Bucket(rc.value, CLASS_LABELS[rc], len(inside), amount,
                              _share(amount, total)))  # fmt: skip
    until = flt.as_of + timedelta(days=flt.due_within_days)
    due = sorted(
        (x for x in lines if x.maturity_on is not None and flt.as_of <= x.maturity_on <= until),
        key=lambda x: (x.maturity_on or flt.as_of, x.id),
    )
    return Portfolio(
        filter=flt, count=len(lines), outstanding_minor=total, classes=classes,
        by_product=_group(lines, lambda x: x.product, lambda x: x.product or "unknown", total),
        by_core=_group(lines, lambda x: x.core_id,
                       lambda x: x.core_name or x.core_id or "No core line", total),
        due=due, overdue=_overdue(lines, total), reconciliation=_reconcile(lines),
        financings=lines, forecast=forecast(lines, flt.as_of),
        by_purpose=_group(lines, lambda x: purpose_of(x.product),
                          lambda x: PURPOSES.get(purpose_of(x.product), x.product or "unknown"),
                          total),
    )  # fmt: skip


def portfolio(driver: Driver, database: str, flt: ReportFilter) -> Portfolio:
    """The portfolio report of the outstanding book under ``flt``, read from the graph."""
    rows = q.portfolio_rows(
        driver, database, principal_codes=[c.value for c in PRINCIPAL_CODES],
        currency=flt.currency, lender=flt.lender, core_id=flt.core_id,
        product_id=flt.product_id, funder=flt.funder,
    )  # fmt: skip
    lines = [_line(r, flt.as_of) for r in rows]
    start, end = flt.period
    moves = q.flow_rows(
        driver, database, from_on=start, to_on=end,
        principal_codes=[c.value for c in PRINCIPAL_CODES],
        interest_code=AccountCode.INTEREST_RECEIVABLE.value,
        disbursement_codes=DISBURSEMENT_CODES, principal_in=PRINCIPAL_IN_CODES,
        interest_in=INTEREST_IN_CODES, posted=[TransferKind.SINGLE, TransferKind.POST],
        paid_out=PAID_OUT, loaded=FinancingOrigin.LOADED.value, currency=flt.currency,
        lender=flt.lender, core_id=flt.core_id, product_id=flt.product_id, funder=flt.funder,
    )  # fmt: skip
    limits = q.chain_limits(driver, database, statuses=LINE_STATUSES, currency=flt.currency,
                            core_id=flt.core_id, funder=flt.funder)  # fmt: skip
    p = build(lines, flt)
    return replace(p, chains=_chains(lines, limits, p.outstanding_minor),
                   flows=build_flows(moves, (start, end)))  # fmt: skip


@dataclass(frozen=True)
class CollateralItem:
    """One piece of collateral: an asset, a receivable, a contract or a voucher."""

    id: str
    label: str  # the graph label: Asset, Invoice, Contract, Voucher
    value_minor: int  # what loan-to-value counts
    backs: tuple[str, ...] = ()  # the live financings it is pledged or assigned to

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> CollateralItem:
        return cls(r["id"], r["label"], int(r["value"] or 0), tuple(r.get("backs") or ()))


def financing_collateral(driver: Driver, database: str, financing_id: str) -> list[CollateralItem]:
    """A financing's collateral with the value loan-to-value counts (for its page)."""
    return [CollateralItem.from_row(r)
            for r in q.financing_collateral(driver, database, financing_id)]  # fmt: skip


def application_collateral(
    driver: Driver, database: str, application_id: str
) -> list[CollateralItem]:
    """What an application offers as collateral, valued as a financing's is, with the live
    financings each piece already backs (for the reviewer; the approval refuses those)."""
    return [CollateralItem.from_row(r)
            for r in q.application_collateral(driver, database, application_id)]  # fmt: skip
