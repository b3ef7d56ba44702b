"""Applications: submission with the automatic decision, the checker's review, and the
approval that creates the financing (line hold, pledges) in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from neo4j import Driver, ManagedTransaction

from finance import credit_lines as cl
from finance import ledger, registry
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
from finance.lifecycle.states import (
    APPLICANT_ROLES,
    CHECKER_ROLES,
    Application,
    ApplicationCreate,
    AppStatus,
    FinStatus,
    ReviewTerms,
    _app,
    _now,
    get_application,
    lender_of,
)
from finance.policy import (
    POLICY_VERSION,
    EnterpriseFacts,
    Evaluator,
    Outcome,
    Verdict,
    evaluate,
    read_facts,
)
from finance.products import Collateral, Product, ProductKind, in_force, recorded
from graph.model import (
    DEFAULT_FUNDER,
    INVOICE_OPEN,
    AssetStatus,
    FinancingOrigin,
    InterestKind,
    RiskClass,
)
from graph.queries import finance as q

# A financing's registrations run past its tenor by this much (a late repayment keeps the
# interest registered); they lapse anyway once the financing is closed or cancelled.
REGISTRATION_GRACE_DAYS = 365

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
        pledges.append({"id": cid, "rel": rel, "label": r["label"], "kind": r["kind"] or ""})
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
    driver: Driver, database: str, product: Product, facts: EnterpriseFacts, currency: str,
    funder: str = DEFAULT_FUNDER,
) -> AbstractContextManager[object]:  # fmt: skip
    """This process's stripe for the line an approval would hold (`cl.line_guard`), so that
    concurrent approvals on one line queue here rather than in the database, where their
    lock waits ran into the write timeout. The line is read before the write; should the
    write pick another one, the database's locks still keep every line right."""
    line_id = _line_for(
        product, facts, currency, partial(q.line_of_read, driver, database, funder=funder)
    )
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
    funder = app.get("funder_id") or DEFAULT_FUNDER
    lender = lender_of(funder)
    _, pledges = _check_collateral(tx, product, app["enterprise_id"], app["collateral_ids"])
    # The registry of security interests is the platform's: another secured party's live
    # registration on the collateral refuses the financing, naming that registration.
    registry.check_free(tx, [p["id"] for p in pledges], lender, today)
    line_id = _line_for(product, facts, ccy, partial(q.line_of, tx, funder=funder))
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
            "lender": lender,
            "funder_id": funder,
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
            "product_version": product.version,  # servicing reads this version, not a newer
        },
        app["enterprise_id"],
        app["id"],
        line_id,
        pledges,
        now,
    )
    transfer = product.kind in (ProductKind.FACTORING, ProductKind.REVERSE_FACTORING)
    registry.register_financing(
        tx, fin_id, app["enterprise_id"], pledges,
        InterestKind.TRANSFER if transfer else InterestKind.PLEDGE, lender, today,
        today + timedelta(days=(tenor_days or product.tenor_days) + REGISTRATION_GRACE_DAYS),
        "chainlens", now,
    )  # fmt: skip
    return fin_id


def submit_application(
    driver: Driver,
    database: str,
    req: ApplicationCreate,
    today: date | None = None,
    evaluator: Evaluator = evaluate,
) -> Application:
    """Record an application and decide it automatically in the same transaction; when the
    policy approves, the financing is created with its line hold and pledges too.
    ``evaluator`` decides: the Python policy by default, a rule set's when the caller (the
    API) passes one from package ``decisions``."""
    if req.maker_role not in APPLICANT_ROLES:
        raise Forbidden(f"role {req.maker_role} cannot submit applications")
    if req.amount_minor <= 0:
        raise FinanceError("the amount asked must be positive")
    # recorded on the application; another funder's own product is not offered here
    product = in_force(driver, database, req.product_id, funder=req.funder_id)
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
        "funder_id": req.funder_id,
    }
    existing = q.get_application(driver, database, req.id)
    if existing is not None:
        if (existing.get("funder_id") or DEFAULT_FUNDER) != req.funder_id:
            # Another funder's: say nothing of it but that the id is taken.
            raise IdempotencyConflict(
                f"application id {req.id} is taken; use a new id for a new application"
            )
        return _same_application({**existing, "funder_id": req.funder_id}, terms)
    facts = read_facts(driver, database, req.enterprise_id, req.currency, today, req.funder_id)

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
            outcome = evaluator(product, facts, req.amount_minor, 0)
            outcome = replace(
                outcome, verdict=Verdict.DECLINE, amount_minor=0,
                reasons=[str(refused), *outcome.reasons],
            )  # fmt: skip
            _decide_tx(tx, app, product, facts, outcome, now, today, actor="policy", value=0)
            return
        value = 0
        if product.collateral != Collateral.NONE and req.collateral_ids:
            # Value read under lock; pledge conflicts surface here as AlreadyPledged.
            value, _ = _check_collateral(tx, product, req.enterprise_id, list(req.collateral_ids))
        outcome = evaluator(product, facts, req.amount_minor, value)
        _decide_tx(tx, app, product, facts, outcome, now, today, actor="policy", value=value)

    try:
        with _approval_guard(driver, database, product, facts, req.currency, req.funder_id):
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
    value: int,
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
        "policy_version": outcome.policy_version,
        "decided_at": now,
        "product_version": product.version,
        "conditions": list(outcome.conditions),
    }
    if status == AppStatus.APPROVED:
        props["financing_id"] = _approve_tx(
            tx, app, product, facts, outcome.amount_minor, outcome.rate_bps, now, today,
            conditions=outcome.conditions,
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
            "policy_version": outcome.policy_version,
            "product_version": product.version,
            "conditions": list(outcome.conditions),
            "decided_at": now,
            "inputs": _inputs_json(
                facts, outcome.inputs, requested_minor=app["amount_minor"],
                collateral_value_minor=value,
            ),
            **(outcome.record or {}),
        },
    )


def _inputs_json(
    facts: EnterpriseFacts, inputs: Mapping[str, Any] | None = None, **application: Any
) -> str:
    """What the decision read: the evaluator's own inputs when it gave them (a rule set's
    indicators), else the facts with the application's amount and collateral value, so that
    a later simulation can run another rule set on the same figures."""
    import json

    got = dict(inputs) if inputs is not None else {**facts.as_dict(), **application}
    return json.dumps(got, sort_keys=True, default=str)


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
    # The version that decided it at submission: a version published since does not apply.
    product = recorded(driver, database, app0.product_id, app0.product_version)
    facts = read_facts(driver, database, app0.enterprise_id, app0.currency, today, app0.funder_id)

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
        # The rule set's conditions stand; the checker's come after them.
        conditions = list(dict.fromkeys([*(app.get("conditions") or []), *terms.conditions]))
        props: dict[str, Any] = {
            "checker": checker, "reviewed_at": now, "review_note": note,
            "status": verdict.value, "conditions": conditions,
        }  # fmt: skip
        if approve:
            props.update(decided_amount_minor=amount, rate_bps=rate)
            props["financing_id"] = _approve_tx(
                tx, app, product, facts, amount, rate, now, today,
                tenor_days=terms.tenor_days, conditions=conditions,
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
                "policy_version": app.get("policy_version") or POLICY_VERSION,
                "product_version": product.version,
                "decided_at": now,
                "inputs": _inputs_json(facts),
            },
        )

    # Only an approval holds the line.
    with (
        _approval_guard(driver, database, product, facts, app0.currency, app0.funder_id)
        if approve
        else nullcontext()
    ):
        ledger.run_write(driver, database, work)
    return get_application(driver, database, application_id)
