"""The financing life cycle as guarded state machines.

application (relationship manager or service) -> automatic decision with reasons ->
[maker-checker review when policy refers it] -> financing approved (credit line held,
collateral pledged) -> contract -> disbursement -> daily accrual -> partial / full / early
repayment -> maturity -> overdue with days past due and penalty interest -> five-tier
classification and provisions -> write-off.

Each step is ONE `execute_write`: the financing node is locked first (so concurrent steps
serialise), its state checked against the transition table, and the graph change and its
ledger postings committed together. Step ids make every money movement idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from neo4j import Driver, ManagedTransaction

from finance import credit_lines as cl
from finance import ledger
from finance.accounts import (
    AccountCode,
    financing_accounts,
    interest_id,
    lender_account,
    principal_id,
    settlement_account,
)
from finance.daycount import DayCount, bps_of, simple_interest
from finance.errors import (
    AlreadyPledged,
    FinanceError,
    Forbidden,
    IdempotencyConflict,
    InvalidState,
    LedgerRejected,
    LimitExceeded,
    NotEligible,
    NotFound,
)
from finance.ledger import TransferRequest
from finance.policy import POLICY_VERSION, EnterpriseFacts, Outcome, Verdict, evaluate, read_facts
from finance.products import Collateral, Product, ProductKind, get_product
from graph.model import (
    INVOICE_OPEN,
    ApplicationStatus,
    AssetStatus,
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
    )


def _fin(row: dict[str, Any]) -> Financing:
    product_id = row.get("product_id")
    return Financing(
        id=row["id"],
        origin=FinancingOrigin(row.get("origin") or FinancingOrigin.ORIGINATED),
        lender=row.get("lender") or OWN_LENDER,
        product_kind=row.get("product_kind")
        or (get_product(product_id).kind.value if product_id else None),
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
    )


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


def _receivable_code(product: Product) -> AccountCode:
    factoring = {
        ProductKind.FACTORING,
        ProductKind.REVERSE_FACTORING,
        ProductKind.VOUCHER_DISCOUNTING,
    }
    return AccountCode.FACTORING if product.kind in factoring else AccountCode.LOANS


_COLLATERAL_LABEL: dict[Collateral, tuple[str, ...]] = {
    Collateral.INVOICE: ("Invoice",),
    Collateral.WAREHOUSE_RECEIPT: ("Asset",),
    Collateral.ASSET: ("Asset",),
    Collateral.ORDER: ("Contract",),
    Collateral.VOUCHER: ("Voucher",),
    Collateral.NONE: (),
}


def _check_collateral(
    tx: ManagedTransaction, product: Product, borrower_id: str, ids: list[str]
) -> tuple[int, list[dict[str, str]]]:
    """Lock the collateral, refuse what already backs a live financing; (value, pledges)."""
    if product.collateral == Collateral.NONE:
        return 0, []
    if not ids:
        raise NotEligible(f"{product.name} needs collateral ({product.collateral.value})")
    rows = q.lock_collateral(tx, ids)
    found = {r["id"]: r for r in rows}
    missing = sorted(set(ids) - set(found))
    if missing:
        raise NotFound(f"collateral {', '.join(missing)} does not exist")
    pledges: list[dict[str, str]] = []
    for cid in sorted(set(ids)):
        r = found[cid]
        if r["live_financings"]:
            raise AlreadyPledged(
                f"{r['label'].lower()} {cid} already backs live financing "
                f"{', '.join(r['live_financings'])}"
            )
        if r["label"] not in _COLLATERAL_LABEL[product.collateral]:
            raise NotEligible(f"{cid} is a {r['label']}, not {product.collateral.value}")
        if product.collateral == Collateral.WAREHOUSE_RECEIPT and r["kind"] != "warehouse_receipt":
            raise NotEligible(f"asset {cid} is not a warehouse receipt")
        if r["owner_id"] != borrower_id:
            raise NotEligible(f"{cid} does not belong to {borrower_id}")
        if r["label"] == "Invoice" and r["status"] not in INVOICE_OPEN:
            raise NotEligible(f"invoice {cid} is {r['status']}")
        if r["label"] == "Asset" and (r["status"] or AssetStatus.ACTIVE) != AssetStatus.ACTIVE:
            raise NotEligible(f"asset {cid} is {r['status']}")
        rel = "PLEDGED_TO" if r["label"] == "Asset" else "ASSIGNED_TO"
        pledges.append({"id": cid, "rel": rel})
    return sum(int(found[c]["value"] or 0) for c in set(ids)), pledges


def _line_for(
    product: Product, facts: EnterpriseFacts, currency: str, line_of: Callable[..., str | None]
) -> str | None:
    """The line a financing of ``product`` holds: on the core's supply-chain line, the
    sub-limit of the borrower's tier when the core has one, else the core's line; otherwise
    the product sub-line of the enterprise, else its own line. ``line_of`` is `q.line_of`
    bound to a transaction, or `q.line_of_read` bound to a driver."""
    if product.line == "core":
        if facts.core_id and facts.tier:
            tier_line = line_of(facts.core_id, "tier", currency, None, facts.tier)
            if tier_line:
                return tier_line
        return facts.core_line_id
    sub = line_of(facts.enterprise_id, "product", currency, product.id)
    return sub or line_of(facts.enterprise_id, "enterprise", currency)


def _approval_guard(
    driver: Driver, database: str, product: Product, facts: EnterpriseFacts, currency: str
) -> AbstractContextManager[object]:
    """This process's stripe for the line an approval would hold (`cl.line_guard`), so that
    concurrent approvals on one line queue here rather than in the database, where their
    lock waits ran into the write timeout. The line is read before the write; should the
    write pick another one, the database's locks still keep every line right."""
    line_id = _line_for(product, facts, currency, partial(q.line_of_read, driver, database))
    return cl.line_guard(driver, database, line_id)


def _approve_tx(
    tx: ManagedTransaction,
    app: dict[str, Any],
    product: Product,
    facts: EnterpriseFacts,
    amount: int,
    rate: int,
    now: datetime,
    today: date,
    tenor_days: int | None = None,
    conditions: Sequence[str] = (),
) -> str:
    """Create the financing: hold the line (pending, every level), pledge the collateral."""
    fin_id = f"F-{app['id']}"
    ccy = app["currency"]
    _, pledges = _check_collateral(tx, product, app["enterprise_id"], app["collateral_ids"])
    line_id = _line_for(product, facts, ccy, partial(q.line_of, tx))
    if line_id is None:
        raise NotEligible(
            f"no {'core supply-chain' if product.line == 'core' else 'own'} credit line to draw on"
        )
    holds = cl.occupy_tx(
        tx, line_id, amount, f"hold:{fin_id}", pending=True, ref=fin_id, on=today, now=now
    )
    cl.raise_for(ledger.create_transfers_tx(tx, holds, now), line_id, amount)
    q.create_financing(
        tx,
        {
            "id": fin_id,
            "origin": FinancingOrigin.ORIGINATED.value,
            "lender": OWN_LENDER,
            "product_kind": product.kind.value,
            "application_id": app["id"],
            "borrower_id": app["enterprise_id"],
            "product_id": product.id,
            "status": FinStatus.APPROVED.value,
            "currency": ccy,
            "amount_minor": amount,
            "rate_bps": rate,
            "day_count": product.day_count.value,
            "line_id": line_id,
            "line_path": cl.path_ids(tx, line_id),
            "outstanding_minor": 0,
            "interest_due_minor": 0,
            "dpd": 0,
            "risk_class": RiskClass.NORMAL.value,
            "provision_minor": 0,
            "created_at": now,
            "approved_on": today,
            "penalty_pct": product.penalty_rate_multiplier_pct,
            "tenor_days": tenor_days or product.tenor_days,
            "conditions": list(conditions),
        },
        app["enterprise_id"],
        app["id"],
        line_id,
        pledges,
        now,
    )
    return fin_id


def submit_application(
    driver: Driver, database: str, req: ApplicationCreate, today: date | None = None
) -> Application:
    """Record an application and decide it automatically in the same transaction; when the
    policy approves, the financing is created with its line hold and pledges too."""
    if req.maker_role not in APPLICANT_ROLES:
        raise Forbidden(f"role {req.maker_role} cannot submit applications")
    if req.amount_minor <= 0:
        raise FinanceError("the amount asked must be positive")
    product = get_product(req.product_id)
    now = _now()
    today = today or now.date()
    terms = {
        "enterprise_id": req.enterprise_id,
        "product_id": req.product_id,
        "amount_minor": req.amount_minor,
        "currency": req.currency,
        "collateral_ids": sorted(set(req.collateral_ids)),
        "maker": req.maker,
        "maker_role": req.maker_role,
    }
    existing = q.get_application(driver, database, req.id)
    if existing is not None:
        return _same_application(existing, terms)
    facts = read_facts(driver, database, req.enterprise_id, req.currency, today)

    def work(tx: ManagedTransaction, refused: FinanceError | None) -> None:
        got = q.merge_application(tx, req.id, req.enterprise_id, terms, now)
        if got is None:
            raise NotFound(f"enterprise {req.enterprise_id} does not exist")
        if not got["created"]:
            return
        app = got["application"]
        if refused is not None:
            # The first attempt failed on the collateral or the line: the application is
            # kept, declined with that reason, so that nothing a maker asked for is lost.
            outcome = evaluate(product, facts, req.amount_minor, 0)
            outcome = replace(
                outcome, verdict=Verdict.DECLINE, amount_minor=0,
                reasons=[str(refused), *outcome.reasons],
            )  # fmt: skip
            _decide_tx(tx, app, product, facts, outcome, now, today, actor="policy")
            return
        value = 0
        if product.collateral != Collateral.NONE and req.collateral_ids:
            # Value read under lock; pledge conflicts surface here as AlreadyPledged.
            value, _ = _check_collateral(tx, product, req.enterprise_id, list(req.collateral_ids))
        outcome = evaluate(product, facts, req.amount_minor, value)
        _decide_tx(tx, app, product, facts, outcome, now, today, actor="policy")

    try:
        with _approval_guard(driver, database, product, facts, req.currency):
            ledger.run_write(driver, database, partial(work, refused=None))
    except (NotEligible, AlreadyPledged, LimitExceeded, LedgerRejected) as refused:
        ledger.run_write(driver, database, partial(work, refused=refused))
    return get_application(driver, database, req.id)


def _same_application(existing: dict[str, Any], terms: dict[str, Any]) -> Application:
    """A repeated submission: the first result when the terms agree, a conflict otherwise."""
    differ = sorted(
        k for k, v in terms.items()
        if k != "maker_role" and (existing.get(k) or None) != (v or None)
    )  # fmt: skip
    if differ:
        raise IdempotencyConflict(
            f"application {existing['id']} was already submitted with other "
            f"{', '.join(differ)}; use a new id for a new application"
        )
    return _app(existing)


def _decide_tx(
    tx: ManagedTransaction,
    app: dict[str, Any],
    product: Product,
    facts: EnterpriseFacts,
    outcome: Outcome,
    now: datetime,
    today: date,
    actor: str,
) -> None:
    status = {
        Verdict.APPROVE: AppStatus.APPROVED,
        Verdict.REFER: AppStatus.REFERRED,
        Verdict.DECLINE: AppStatus.DECLINED,
    }[outcome.verdict]
    props: dict[str, Any] = {
        "status": status.value,
        "reasons": outcome.reasons,
        "decided_amount_minor": outcome.amount_minor,
        "rate_bps": outcome.rate_bps,
        "policy_version": POLICY_VERSION,
        "decided_at": now,
    }
    if status == AppStatus.APPROVED:
        props["financing_id"] = _approve_tx(
            tx, app, product, facts, outcome.amount_minor, outcome.rate_bps, now, today
        )
    q.update_application(tx, app["id"], props)
    q.create_decision(
        tx,
        app["id"],
        {
            "id": f"D-{app['id']}-auto",
            "kind": "automatic",
            "actor": actor,
            "verdict": outcome.verdict.value,
            "reasons": outcome.reasons,
            "amount_minor": outcome.amount_minor,
            "rate_bps": outcome.rate_bps,
            "policy_version": POLICY_VERSION,
            "decided_at": now,
            "inputs": _inputs_json(facts),
        },
    )


def _inputs_json(facts: EnterpriseFacts) -> str:
    import json

    return json.dumps(facts.as_dict(), sort_keys=True, default=str)


def review_application(
    driver: Driver,
    database: str,
    application_id: str,
    checker: str,
    checker_role: str,
    approve: bool,
    note: str = "",
    today: date | None = None,
    terms: ReviewTerms | None = None,
) -> Application:
    """The checker's decision on a referred application; the maker cannot check. An approval
    may change the terms (a smaller or larger amount up to what was asked, another rate or
    tenor) and attach conditions; the decision records them. Sending the same decision
    again returns the application as it stands."""
    if checker_role not in CHECKER_ROLES:
        raise Forbidden(f"role {checker_role} cannot approve applications")
    terms = terms or ReviewTerms()
    if not approve and terms.changes_anything:
        raise FinanceError("a rejection cannot change terms")
    now = _now()
    today = today or now.date()
    app0 = get_application(driver, database, application_id)
    product = get_product(app0.product_id)
    facts = read_facts(driver, database, app0.enterprise_id, app0.currency, today)

    def work(tx: ManagedTransaction) -> None:
        app = q.lock_application(tx, application_id)
        if app is None:
            raise NotFound(f"application {application_id} does not exist")
        verdict = AppStatus.APPROVED if approve else AppStatus.REJECTED
        if app["status"] == verdict and app.get("checker") == checker:
            return  # the same decision sent again
        if app["status"] != AppStatus.REFERRED:
            raise InvalidState(f"application {application_id} is {app['status']}, not referred")
        if checker == app.get("maker"):
            raise Forbidden(f"{checker} made application {application_id} and cannot check it")
        amount = terms.amount_minor or app["decided_amount_minor"]
        rate = app["rate_bps"] if terms.rate_bps is None else terms.rate_bps
        if approve and not 0 < amount <= app["amount_minor"]:
            raise FinanceError(
                f"the approved amount must be positive and at most the "
                f"{app['amount_minor']} asked, got {amount}"
            )
        props: dict[str, Any] = {
            "checker": checker, "reviewed_at": now, "review_note": note,
            "status": verdict.value, "conditions": list(terms.conditions),
        }  # fmt: skip
        if approve:
            props.update(decided_amount_minor=amount, rate_bps=rate)
            props["financing_id"] = _approve_tx(
                tx, app, product, facts, amount, rate, now, today,
                tenor_days=terms.tenor_days, conditions=terms.conditions,
            )  # fmt: skip
        q.update_application(tx, application_id, props)
        q.create_decision(
            tx,
            application_id,
            {
                "id": f"D-{application_id}-review",
                "kind": "review",
                "actor": checker,
                "verdict": "approve" if approve else "reject",
                "reasons": [
                    note or ("approved by " + checker if approve else "rejected"),
                    *terms.describe(app["decided_amount_minor"], app["rate_bps"]),
                ],
                "amount_minor": amount if approve else 0,
                "rate_bps": rate,
                "policy_version": POLICY_VERSION,
                "decided_at": now,
                "inputs": _inputs_json(facts),
            },
        )

    # Only an approval holds the line.
    with (
        _approval_guard(driver, database, product, facts, app0.currency)
        if approve
        else nullcontext()
    ):
        ledger.run_write(driver, database, work)
    return get_application(driver, database, application_id)


# --------------------------------------------------------------------------------------
# Financing steps
# --------------------------------------------------------------------------------------


def require_serviced(row: dict[str, Any]) -> None:
    """Refuse a servicing step on a financing loaded from a lender's book: it has no
    ledger accounts, schedule or line here, only what the lender reported."""
    if row.get("origin") == FinancingOrigin.LOADED:
        raise InvalidState(
            f"financing {row['id']} was loaded from {row.get('lender') or 'a lender'}'s book; "
            "ChainLens does not service it"
        )


def _step(
    driver: Driver,
    database: str,
    financing_id: str,
    allowed: set[FinStatus],
    fn: Any,
) -> Financing:
    """Lock the financing, check its state, run `fn(tx, row)` that returns new properties."""

    def work(tx: ManagedTransaction) -> None:
        row = q.lock_financing(tx, financing_id)
        if row is None:
            raise NotFound(f"financing {financing_id} does not exist")
        require_serviced(row)
        status = FinStatus(row["status"])
        if status not in allowed:
            raise InvalidState(f"financing {financing_id} is {status.value}")
        props = fn(tx, row)
        if props:
            new = FinStatus(props.get("status", status))
            if new != status and new not in FIN_TRANSITIONS[status]:
                raise InvalidState(f"financing {financing_id}: {status} -> {new} not allowed")
            q.update_financing(tx, financing_id, props)

    ledger.run_write(driver, database, work)
    return get_financing(driver, database, financing_id)


def sign_contract(
    driver: Driver, database: str, financing_id: str, contract_no: str, today: date | None = None
) -> Financing:
    day = today or _now().date()

    def fn(tx: ManagedTransaction, row: dict[str, Any]) -> dict[str, Any]:
        return {"status": FinStatus.CONTRACTED.value, "contract_no": contract_no, "signed_on": day}

    return _step(driver, database, financing_id, {FinStatus.APPROVED}, fn)


def cancel(driver: Driver, database: str, financing_id: str, reason: str) -> Financing:
    """Before disbursement: void the line holds; collateral is free again."""
    now = _now()

    def fn(tx: ManagedTransaction, row: dict[str, Any]) -> dict[str, Any]:
        reqs = cl.close_chain(
            cl.confirm_requests(
                f"hold:{financing_id}", list(row["line_path"]), f"cancel:{financing_id}", void=True
            )
        )
        ledger.require_ok(ledger.create_transfers_tx(tx, reqs, now))
        return {"status": FinStatus.CANCELLED.value, "cancel_reason": reason}

    return _step(driver, database, financing_id, {FinStatus.APPROVED, FinStatus.CONTRACTED}, fn)


def _at(day: date) -> datetime:
    """Business value time of a dated posting: the end of that day, UTC."""
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)


def disburse(driver: Driver, database: str, financing_id: str, on: date) -> Financing:
    """Draw the held line and pay the advance into the borrower's settlement account, less
    the arrangement fee; for discounting products the discount is taken up front."""
    now = _now()

    def fn(tx: ManagedTransaction, row: dict[str, Any]) -> dict[str, Any]:
        product = get_product(row["product_id"])
        ccy, amount, borrower = row["currency"], row["amount_minor"], row["borrower_id"]
        code = _receivable_code(product)
        settle = settlement_account(borrower, ccy)
        ledger.ensure_accounts_tx(
            tx,
            [
                *financing_accounts(financing_id, ccy, code),
                settle,
                lender_account(AccountCode.FEE_INCOME, ccy),
                lender_account(AccountCode.INTEREST_INCOME, ccy),
                lender_account(AccountCode.PENALTY_INCOME, ccy),
            ],
        )
        key = f"disb:{financing_id}"
        reqs = cl.confirm_requests(f"hold:{financing_id}", list(row["line_path"]), key)
        reqs.append(
            TransferRequest(
                f"{key}:principal",
                principal_id(financing_id, ccy, code),
                settle.id,
                amount,
                ccy,
                linked=True,
                code="disbursement",
                ref=financing_id,
                value_at=_at(on),
            )
        )
        fee = bps_of(amount, product.fees.arrangement_bps)
        if fee:
            reqs.append(
                TransferRequest(
                    f"{key}:fee",
                    settle.id,
                    lender_account(AccountCode.FEE_INCOME, ccy).id,
                    fee,
                    ccy,
                    linked=True,
                    code="arrangement_fee",
                    ref=financing_id,
                    value_at=_at(on),
                )
            )
        ledger.require_ok(ledger.create_transfers_tx(tx, cl.close_chain(reqs), now))
        maturity = on + timedelta(days=int(row.get("tenor_days") or product.tenor_days))
        return {
            "status": FinStatus.ACTIVE.value,
            "start_on": on,
            "maturity_on": maturity,
            "accrued_through": on,
            "outstanding_minor": amount,
            "interest_due_minor": 0,
            "period_start": on,
            "period_principal": amount,
            "period_accrued": 0,
            "penalty_accrued": 0,
        }

    return _step(driver, database, financing_id, {FinStatus.CONTRACTED}, fn)


def _accrual(row: dict[str, Any], until: date) -> tuple[int, int, dict[str, Any]]:
    """Interest and penalty from `accrued_through` to `until`; amounts and new properties.

    Regular interest runs to maturity as the difference of cumulative amounts since the
    period start (so daily accruals sum exactly to the period's interest); past maturity,
    penalty interest at the product's multiple of the rate runs on the overdue principal.
    """
    through = _d(row["accrued_through"])
    assert through is not None
    if until <= through:
        return 0, 0, {}
    dc = DayCount(row["day_count"])
    maturity = _d(row["maturity_on"])
    assert maturity is not None
    start, principal = _d(row["period_start"]), int(row["period_principal"])
    assert start is not None
    interest = 0
    reg_end = min(until, maturity)
    if reg_end > through:
        total = simple_interest(principal, row["rate_bps"], start, reg_end, dc)
        interest = total - int(row["period_accrued"])
    penalty = 0
    pen_start = max(through, maturity)
    if until > pen_start and row["outstanding_minor"] > 0:
        pen_rate = row["rate_bps"] * int(row.get("penalty_pct") or 150) // 100
        penalty = simple_interest(row["outstanding_minor"], pen_rate, pen_start, until, dc)
    props = {
        "accrued_through": until,
        "period_accrued": int(row["period_accrued"]) + interest,
        "interest_due_minor": int(row["interest_due_minor"]) + interest + penalty,
        "penalty_accrued": int(row.get("penalty_accrued") or 0) + penalty,
    }
    return interest, penalty, props


def _accrual_requests(
    financing_id: str, row: dict[str, Any], interest: int, penalty: int, until: date
) -> list[TransferRequest]:
    ccy = row["currency"]
    reqs = []
    if interest:
        reqs.append(
            TransferRequest(
                f"acc:{financing_id}:{until.isoformat()}",
                interest_id(financing_id, ccy),
                lender_account(AccountCode.INTEREST_INCOME, ccy).id,
                interest,
                ccy,
                code="interest_accrual",
                ref=financing_id,
                value_at=_at(until),
            )
        )
    if penalty:
        reqs.append(
            TransferRequest(
                f"pen:{financing_id}:{until.isoformat()}",
                interest_id(financing_id, ccy),
                lender_account(AccountCode.PENALTY_INCOME, ccy).id,
                penalty,
                ccy,
                code="penalty_accrual",
                ref=financing_id,
                value_at=_at(until),
            )
        )
    return reqs


def accrue(driver: Driver, database: str, financing_id: str, until: date) -> Financing:
    """Accrue interest (and penalty interest when overdue) up to `until` (exclusive)."""
    now = _now()

    def fn(tx: ManagedTransaction, row: dict[str, Any]) -> dict[str, Any]:
        interest, penalty, props = _accrual(row, until)
        reqs = _accrual_requests(financing_id, row, interest, penalty, until)
        ledger.require_ok(ledger.create_transfers_tx(tx, reqs, now))
        return props

    return _step(driver, database, financing_id, {FinStatus.ACTIVE, FinStatus.OVERDUE}, fn)


def accrue_all(driver: Driver, database: str, until: date) -> int:
    """The daily job: accrue every live financing up to `until`; returns how many."""
    ids = q.financings_by_status(driver, database, [FinStatus.ACTIVE, FinStatus.OVERDUE])
    for fid in ids:
        accrue(driver, database, fid, until)
    return len(ids)


@dataclass(frozen=True)
class DailyRun:
    """What one end-of-day run did."""

    expired: int  # approvals never drawn within APPROVAL_VALID_DAYS, cancelled
    accrued: int
    reviewed: int


def expire_approvals(driver: Driver, database: str, as_of: date) -> int:
    """Cancel financings approved more than ``APPROVAL_VALID_DAYS`` before ``as_of`` and
    still not disbursed: their line holds are voided and their collateral is free again.
    Returns how many; a second run on the same day finds none left."""
    before = as_of - timedelta(days=APPROVAL_VALID_DAYS)
    ids = q.undrawn_approvals_before(
        driver, database, [FinStatus.APPROVED, FinStatus.CONTRACTED], before
    )
    reason = f"approval expired: not drawn within {APPROVAL_VALID_DAYS} days"
    expired = 0
    for fid in ids:
        try:
            cancel(driver, database, fid, reason)
        except InvalidState:  # disbursed or cancelled since it was listed: nothing to expire
            continue
        expired += 1
    return expired


def run_daily(driver: Driver, database: str, as_of: date) -> DailyRun:
    """The end-of-day job: expire undrawn approvals, accrue every live financing to `as_of`,
    then update days past due, penalty interest, five-tier class and provisions."""
    expired = expire_approvals(driver, database, as_of)
    accrued = accrue_all(driver, database, as_of)
    ids = q.financings_by_status(driver, database, [FinStatus.ACTIVE, FinStatus.OVERDUE])
    for fid in ids:
        update_delinquency(driver, database, fid, as_of)
    return DailyRun(expired, accrued, len(ids))


@dataclass(frozen=True)
class Repayment:
    financing: Financing
    interest_paid_minor: int
    principal_paid_minor: int
    fee_minor: int


def repay(
    driver: Driver,
    database: str,
    financing_id: str,
    amount_minor: int,
    on: date,
    request_id: str,
    payer_id: str | None = None,
) -> Repayment:
    """Apply a repayment: accrue to `on`, then interest first, then principal (plus an early
    repayment fee where the product has one). The principal repaid frees the credit line.
    Full repayment closes the financing and frees its collateral."""
    now = _now()
    paid: dict[str, int] = {}

    def fn(tx: ManagedTransaction, row: dict[str, Any]) -> dict[str, Any]:
        key = f"rep:{financing_id}:{request_id}"
        done = q.get_transfers_tx(tx, [f"{key}:interest", f"{key}:principal"])
        if done:  # a retry of a repayment already applied
            paid.update(interest=0, principal=0, fee=0)
            return {}
        product = get_product(row["product_id"])
        ccy = row["currency"]
        interest, penalty, props = _accrual(row, on)
        reqs = _accrual_requests(financing_id, row, interest, penalty, on)
        state = {**row, **props}
        due_interest = int(state["interest_due_minor"])
        outstanding = int(state["outstanding_minor"])
        maturity = _d(row["maturity_on"])
        assert maturity is not None
        to_interest = min(amount_minor, due_interest)
        to_principal = min(amount_minor - to_interest, outstanding)
        fee = bps_of(to_principal, product.fees.early_repayment_bps) if on < maturity else 0
        if amount_minor - to_interest - to_principal > 0:
            raise FinanceError(
                f"repayment {amount_minor} exceeds what is due "
                f"({due_interest} interest + {outstanding} principal)"
            )
        payer = settlement_account(payer_id or row["borrower_id"], ccy)
        ledger.ensure_accounts_tx(tx, [payer])
        code = _receivable_code(product)
        pay: list[TransferRequest] = []
        if to_interest:
            pay.append(
                TransferRequest(
                    f"{key}:interest",
                    payer.id,
                    interest_id(financing_id, ccy),
                    to_interest,
                    ccy,
                    linked=True,
                    code="interest_repayment",
                    ref=financing_id,
                    value_at=_at(on),
                )
            )
        if to_principal:
            pay.append(
                TransferRequest(
                    f"{key}:principal",
                    payer.id,
                    principal_id(financing_id, ccy, code),
                    to_principal,
                    ccy,
                    linked=True,
                    code="principal_repayment",
                    ref=financing_id,
                    value_at=_at(on),
                )
            )
            for r in cl.release_requests(tx, row["line_id"], to_principal, key, financing_id):
                pay.append(r)
        if fee:
            pay.append(
                TransferRequest(
                    f"{key}:fee",
                    payer.id,
                    lender_account(AccountCode.FEE_INCOME, ccy).id,
                    fee,
                    ccy,
                    linked=True,
                    code="early_repayment_fee",
                    ref=financing_id,
                    value_at=_at(on),
                )
            )
        ledger.require_ok(ledger.create_transfers_tx(tx, reqs + cl.close_chain(pay), now))
        new_out = outstanding - to_principal
        new_due = due_interest - to_interest
        props.update(
            {
                "outstanding_minor": new_out,
                "interest_due_minor": new_due,
                "period_start": on,
                "period_principal": new_out,
                "period_accrued": 0,
            }
        )
        if new_out == 0 and new_due == 0:
            props.update(status=FinStatus.CLOSED.value, closed_on=on)
        paid.update(interest=to_interest, principal=to_principal, fee=fee)
        return props

    fin = _step(driver, database, financing_id, {FinStatus.ACTIVE, FinStatus.OVERDUE}, fn)
    return Repayment(fin, paid["interest"], paid["principal"], paid["fee"])


def update_delinquency(driver: Driver, database: str, financing_id: str, as_of: date) -> Financing:
    """Days past due, overdue status, five-tier class and provision as of a date (accruing
    penalty interest up to it)."""
    now = _now()

    def fn(tx: ManagedTransaction, row: dict[str, Any]) -> dict[str, Any]:
        interest, penalty, props = _accrual(row, as_of)
        reqs = _accrual_requests(financing_id, row, interest, penalty, as_of)
        maturity = _d(row["maturity_on"])
        assert maturity is not None
        dpd = max(0, (as_of - maturity).days) if row["outstanding_minor"] > 0 else 0
        cls = classify(dpd)
        ccy = row["currency"]
        target = bps_of(int(row["outstanding_minor"]), PROVISION_BPS[cls])
        delta = target - int(row.get("provision_minor") or 0)
        ledger.ensure_accounts_tx(
            tx,
            [
                lender_account(AccountCode.PROVISION, ccy),
                lender_account(AccountCode.PROVISION_EXPENSE, ccy),
            ],
        )
        if delta:
            exp = lender_account(AccountCode.PROVISION_EXPENSE, ccy).id
            prov = lender_account(AccountCode.PROVISION, ccy).id
            dr, cr = (exp, prov) if delta > 0 else (prov, exp)
            reqs.append(
                TransferRequest(
                    f"prov:{financing_id}:{as_of.isoformat()}",
                    dr,
                    cr,
                    abs(delta),
                    ccy,
                    code="provision",
                    ref=financing_id,
                    value_at=_at(as_of),
                )
            )
        ledger.require_ok(ledger.create_transfers_tx(tx, reqs, now))
        props.update(dpd=dpd, risk_class=cls.value, provision_minor=target)
        if dpd > 0:
            props["status"] = FinStatus.OVERDUE.value
        return props

    return _step(driver, database, financing_id, {FinStatus.ACTIVE, FinStatus.OVERDUE}, fn)


def write_off(
    driver: Driver, database: str, financing_id: str, actor: str, actor_role: str, on: date
) -> Financing:
    """Write off a doubtful or loss financing against its provision (topped up as needed);
    the credit line is released, the claim is kept outside the books."""
    if actor_role not in CHECKER_ROLES:
        raise Forbidden(f"role {actor_role} cannot write off")
    now = _now()

    def fn(tx: ManagedTransaction, row: dict[str, Any]) -> dict[str, Any]:
        cls = RiskClass(row["risk_class"])
        if cls not in (RiskClass.DOUBTFUL, RiskClass.LOSS):
            raise InvalidState(
                f"financing {financing_id} is {cls.value}; only doubtful or loss can be written off"
            )
        product = get_product(row["product_id"])
        ccy = row["currency"]
        out, due = int(row["outstanding_minor"]), int(row["interest_due_minor"])
        prov = lender_account(AccountCode.PROVISION, ccy).id
        exp = lender_account(AccountCode.PROVISION_EXPENSE, ccy).id
        key = f"wo:{financing_id}"
        reqs: list[TransferRequest] = []
        top_up = out + due - int(row["provision_minor"])
        if top_up > 0:
            reqs.append(
                TransferRequest(
                    f"{key}:topup",
                    exp,
                    prov,
                    top_up,
                    ccy,
                    linked=True,
                    code="provision",
                    ref=financing_id,
                    value_at=_at(on),
                )
            )
        if out:
            reqs.append(
                TransferRequest(
                    f"{key}:principal",
                    prov,
                    principal_id(financing_id, ccy, _receivable_code(product)),
                    out,
                    ccy,
                    linked=True,
                    code="write_off",
                    ref=financing_id,
                    value_at=_at(on),
                )
            )
            reqs += cl.release_requests(tx, row["line_id"], out, key, financing_id)
        if due:
            reqs.append(
                TransferRequest(
                    f"{key}:interest",
                    prov,
                    interest_id(financing_id, ccy),
                    due,
                    ccy,
                    linked=True,
                    code="write_off",
                    ref=financing_id,
                    value_at=_at(on),
                )
            )
        ledger.require_ok(ledger.create_transfers_tx(tx, cl.close_chain(reqs), now))
        return {
            "status": FinStatus.WRITTEN_OFF.value,
            "written_off_on": on,
            "written_off_by": actor,
            "written_off_minor": out + due,
            "outstanding_minor": 0,
            "interest_due_minor": 0,
            "provision_minor": 0,
        }

    return _step(driver, database, financing_id, {FinStatus.OVERDUE}, fn)


def require_state(fin: Financing, *states: FinStatus) -> None:
    if fin.status not in states:
        raise InvalidState(f"financing {fin.id} is {fin.status.value}")
