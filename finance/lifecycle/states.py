"""Statuses, transitions, classification and the domain types of the life cycle, with
their readers. The statuses themselves are the graph model's (`graph/model.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from neo4j import Driver

from finance.accounts import (
    AccountCode,
    interest_id,
    principal_id,
)
from finance.daycount import DayCount
from finance.errors import (
    FinanceError,
    InvalidState,
    NotFound,
)
from finance.products import Product, ProductKind, load_products
from graph.model import (
    DEFAULT_FUNDER,
    ApplicationStatus,
    FinancingOrigin,
    FinancingStatus,
    RiskClass,
)
from graph.queries import finance as q

# The statuses are the graph model's (`graph/model.py`): one set for every financing.
AppStatus = ApplicationStatus
FinStatus = FinancingStatus


FIN_TRANSITIONS: dict[FinStatus, frozenset[FinStatus]] = {
    FinStatus.APPROVED: frozenset({FinStatus.CONTRACTED, FinStatus.CANCELLED}),
    FinStatus.CONTRACTED: frozenset({FinStatus.ACTIVE, FinStatus.CANCELLED}),
    FinStatus.ACTIVE: frozenset({FinStatus.ACTIVE, FinStatus.OVERDUE, FinStatus.CLOSED}),
    FinStatus.OVERDUE: frozenset({FinStatus.OVERDUE, FinStatus.CLOSED, FinStatus.WRITTEN_OFF}),
    FinStatus.CLOSED: frozenset(),
    FinStatus.WRITTEN_OFF: frozenset(),
    FinStatus.CANCELLED: frozenset(),
}


APP_TRANSITIONS: dict[AppStatus, frozenset[AppStatus]] = {
    AppStatus.SUBMITTED: frozenset({AppStatus.APPROVED, AppStatus.REFERRED, AppStatus.DECLINED}),
    AppStatus.REFERRED: frozenset({AppStatus.APPROVED, AppStatus.REJECTED}),
    AppStatus.APPROVED: frozenset(),
    AppStatus.DECLINED: frozenset(),
    AppStatus.REJECTED: frozenset(),
}


PROVISION_BPS: dict[RiskClass, int] = {
    RiskClass.NORMAL: 0,
    RiskClass.SPECIAL_MENTION: 200,
    RiskClass.SUBSTANDARD: 2500,
    RiskClass.DOUBTFUL: 5000,
    RiskClass.LOSS: 10000,
}


def classify(dpd: int) -> RiskClass:
    if dpd <= 0:
        return RiskClass.NORMAL
    if dpd <= 90:
        return RiskClass.SPECIAL_MENTION
    if dpd <= 270:
        return RiskClass.SUBSTANDARD
    if dpd <= 360:
        return RiskClass.DOUBTFUL
    return RiskClass.LOSS


# An approval holds the line and pledges the collateral; one not drawn within this many days
# is cancelled by the end-of-day job (docs/finance.md), so holds never outlive the decision.
APPROVAL_VALID_DAYS = 30


# The lender of what ChainLens originates, until several funders share the platform.
OWN_LENDER = "own_book"


def lender_of(funder: str) -> str:
    """The lender (and secured party in the registry) a funder's financings name: the
    platform's own lender for the default funder, the funder's id for the others."""
    return OWN_LENDER if funder == DEFAULT_FUNDER else funder


APPLICANT_ROLES = frozenset({"relationship_manager", "service", "admin"})


CHECKER_ROLES = frozenset({"credit_officer", "admin"})


@dataclass(frozen=True)
class ApplicationCreate:
    id: str  # idempotency key: submitting the same id again returns the first application
    enterprise_id: str
    product_id: str
    amount_minor: int
    currency: str
    collateral_ids: list[str] = field(default_factory=list)
    maker: str = ""
    maker_role: str = "relationship_manager"
    funder_id: str = DEFAULT_FUNDER  # whose book it goes into: the maker's funder


@dataclass(frozen=True)
class ReviewTerms:
    """What a checker changes when approving; None keeps the policy's figure."""

    amount_minor: int | None = None
    rate_bps: int | None = None
    tenor_days: int | None = None
    conditions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.rate_bps is not None and not 0 <= self.rate_bps <= 10_000:
            raise FinanceError(f"a rate must be between 0 and 10000 bps, got {self.rate_bps}")
        if self.tenor_days is not None and not 1 <= self.tenor_days <= 3660:
            raise FinanceError(f"a tenor must be 1 to 3660 days, got {self.tenor_days}")
        if self.amount_minor is not None and self.amount_minor <= 0:
            raise FinanceError(f"an approved amount must be positive, got {self.amount_minor}")
        if any(not c.strip() or len(c) > 500 for c in self.conditions):
            raise FinanceError("a condition is a sentence of 1 to 500 characters")

    @property
    def changes_anything(self) -> bool:
        return self != ReviewTerms()

    def describe(self, policy_amount: int, policy_rate: int) -> list[str]:
        out = []
        if self.amount_minor is not None and self.amount_minor != policy_amount:
            out.append(f"amount changed from {policy_amount} to {self.amount_minor}")
        if self.rate_bps is not None and self.rate_bps != policy_rate:
            out.append(f"rate changed from {policy_rate} to {self.rate_bps} bps")
        if self.tenor_days is not None:
            out.append(f"tenor set to {self.tenor_days} days")
        out += [f"condition: {c}" for c in self.conditions]
        return out


@dataclass(frozen=True)
class Application:
    id: str
    enterprise_id: str
    product_id: str
    amount_minor: int
    currency: str
    status: AppStatus
    maker: str
    collateral_ids: list[str]
    financing_id: str | None
    reasons: list[str]
    decided_amount_minor: int
    rate_bps: int
    policy_version: str
    checker: str | None = None
    conditions: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    funder_id: str = DEFAULT_FUNDER
    product_version: str | None = None  # the product version that decided it; None: shipped


@dataclass(frozen=True)
class Financing:
    """A financing of either origin: loaded from a lender's book (no application, product,
    rate or ledger accounts here) or originated and serviced through ChainLens."""

    id: str
    origin: FinancingOrigin
    lender: str
    product_kind: str | None
    application_id: str | None
    borrower_id: str
    product_id: str | None
    status: FinStatus
    currency: str
    amount_minor: int
    rate_bps: int
    day_count: DayCount | None
    line_id: str | None
    outstanding_minor: int
    interest_due_minor: int
    start_on: date | None
    maturity_on: date | None
    accrued_through: date | None
    dpd: int
    risk_class: RiskClass
    provision_minor: int
    tenor_days: int | None = None
    conditions: list[str] = field(default_factory=list)
    funder_id: str = DEFAULT_FUNDER
    product_version: str | None = None  # the product version that priced it; None: shipped
    contract_document_id: str | None = None  # the signed contract signContract recorded
    contract_sha256: str | None = None  # that PDF's SHA-256 as it was verified


def _now() -> datetime:
    return datetime.now(UTC)


def _d(x: Any) -> date | None:
    if x is None:
        return None
    return x.to_native() if hasattr(x, "to_native") else x  # type: ignore[no-any-return]


def _dt(x: Any) -> datetime | None:
    return x.to_native() if hasattr(x, "to_native") else x  # type: ignore[no-any-return]


def _app(row: dict[str, Any]) -> Application:
    return Application(
        id=row["id"],
        enterprise_id=row["enterprise_id"],
        product_id=row["product_id"],
        amount_minor=row["amount_minor"],
        currency=row["currency"],
        status=AppStatus(row["status"]),
        maker=row.get("maker") or "",
        collateral_ids=list(row.get("collateral_ids") or []),
        financing_id=row.get("financing_id"),
        reasons=list(row.get("reasons") or []),
        decided_amount_minor=row.get("decided_amount_minor") or 0,
        rate_bps=row.get("rate_bps") or 0,
        policy_version=row.get("policy_version") or "",
        checker=row.get("checker"),
        conditions=list(row.get("conditions") or []),
        created_at=_dt(row.get("created_at")),
        funder_id=row.get("funder_id") or DEFAULT_FUNDER,
        product_version=row.get("product_version"),
    )


def _fin(row: dict[str, Any]) -> Financing:
    product_id = row.get("product_id")
    return Financing(
        id=row["id"],
        origin=FinancingOrigin(row.get("origin") or FinancingOrigin.ORIGINATED),
        lender=row.get("lender") or OWN_LENDER,
        product_kind=row.get("product_kind") or _shipped_kind(product_id),
        application_id=row.get("application_id"),
        borrower_id=row["borrower_id"],
        product_id=product_id,
        status=FinStatus(row["status"]),
        currency=row["currency"],
        amount_minor=row["amount_minor"],
        rate_bps=row.get("rate_bps") or 0,
        day_count=DayCount(row["day_count"]) if row.get("day_count") else None,
        line_id=row.get("line_id"),
        outstanding_minor=row.get("outstanding_minor") or 0,
        interest_due_minor=row.get("interest_due_minor") or 0,
        start_on=_d(row.get("start_on")),
        maturity_on=_d(row.get("maturity_on")),
        accrued_through=_d(row.get("accrued_through")),
        dpd=row.get("dpd") or 0,
        risk_class=RiskClass(row.get("risk_class") or RiskClass.NORMAL),
        provision_minor=row.get("provision_minor") or 0,
        tenor_days=row.get("tenor_days"),
        conditions=list(row.get("conditions") or []),
        funder_id=row.get("funder_id") or DEFAULT_FUNDER,
        product_version=row.get("product_version"),
        contract_document_id=row.get("contract_document_id"),
        contract_sha256=row.get("contract_sha256"),
    )


def _shipped_kind(product_id: str | None) -> str | None:
    """The kind of a shipped product, for a financing that did not record its own (every
    financing written since products were versioned records it)."""
    shipped = load_products().get(product_id or "")
    return None if shipped is None else shipped.kind.value


def get_application(driver: Driver, database: str, application_id: str) -> Application:
    row = q.get_application(driver, database, application_id)
    if row is None:
        raise NotFound(f"application {application_id} does not exist")
    return _app(row)


def get_financing(driver: Driver, database: str, financing_id: str) -> Financing:
    row = q.get_financing(driver, database, financing_id)
    if row is None:
        raise NotFound(f"financing {financing_id} does not exist")
    return _fin(row)


def decisions(driver: Driver, database: str, application_id: str) -> list[dict[str, Any]]:
    """Every decision on an application (automatic and human), oldest first."""
    return q.decisions_of(driver, database, application_id)


_FACTORING_KINDS = frozenset(
    {ProductKind.FACTORING, ProductKind.REVERSE_FACTORING, ProductKind.VOUCHER_DISCOUNTING}
)


def _receivable_code(product: Product | str) -> AccountCode:
    """Factoring or loans, by a product or a product kind."""
    kind = product.kind if isinstance(product, Product) else product
    return AccountCode.FACTORING if kind in _FACTORING_KINDS else AccountCode.LOANS


def ledger_accounts(fin: Financing) -> list[str]:
    """The ledger accounts of an originated financing: its principal receivable (loans or
    factoring, by product) and its interest receivable; none for one loaded from a book."""
    if fin.origin == FinancingOrigin.LOADED or not fin.product_id or not fin.product_kind:
        return []
    code = _receivable_code(fin.product_kind)
    return [principal_id(fin.id, fin.currency, code), interest_id(fin.id, fin.currency)]


def require_serviced(row: dict[str, Any]) -> None:
    """Refuse a servicing step on a financing loaded from a lender's book: it has no
    ledger accounts, schedule or line here, only what the lender reported."""
    if row.get("origin") == FinancingOrigin.LOADED:
        raise InvalidState(
            f"financing {row['id']} was loaded from {row.get('lender') or 'a lender'}'s book; "
            "ChainLens does not service it"
        )


def require_state(fin: Financing, *states: FinStatus) -> None:
    if fin.status not in states:
        raise InvalidState(f"financing {fin.id} is {fin.status.value}")


def _at(day: date) -> datetime:
    """Business value time of a dated posting: the end of that day, UTC."""
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)
