"""The portfolio report: the five-tier distribution, balances by product and by core, the
due list and overdue statistics of the outstanding book, reconciled with the ledger.

Every figure is summed from one list of outstanding financings (active and overdue) read in
one query (`graph/queries/reports.py`), so the tables of a report always agree with each
other. Money is integer minor units (fen for CNY). A financing ChainLens originated carries
its principal in a ledger sub-account; the report compares that balance with the
financing's `outstanding_minor` and lists every financing where they differ. A financing
loaded from a lender's book has no ledger account here and is reported as its lender said.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from neo4j import Driver

from finance.accounts import AccountCode
from finance.errors import FinanceError
from graph.model import FinancingOrigin, FinancingStatus, RiskClass
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

    def __post_init__(self) -> None:
        if not 0 <= self.due_within_days <= MAX_DUE_WITHIN_DAYS:
            raise FinanceError(
                f"dueWithinDays must be 0 to {MAX_DUE_WITHIN_DAYS}, got {self.due_within_days}"
            )


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
        financings=lines,
    )  # fmt: skip


def portfolio(driver: Driver, database: str, flt: ReportFilter) -> Portfolio:
    """The portfolio report of the outstanding book under ``flt``, read from the graph."""
    rows = q.portfolio_rows(
        driver, database, principal_codes=[c.value for c in PRINCIPAL_CODES],
        currency=flt.currency, lender=flt.lender, core_id=flt.core_id,
        product_id=flt.product_id, funder=flt.funder,
    )  # fmt: skip
    return build([_line(r, flt.as_of) for r in rows], flt)
