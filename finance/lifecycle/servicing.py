"""Servicing: repayment (interest first, then principal), delinquency (days past due, class,
provisions) and write-off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from neo4j import Driver, ManagedTransaction

from finance import credit_lines as cl
from finance import ledger
from finance.accounts import (
    AccountCode,
    book_of,
    interest_id,
    lender_account,
    principal_id,
    settlement_account,
)
from finance.daycount import bps_of
from finance.errors import (
    FinanceError,
    Forbidden,
    InvalidState,
)
from finance.ledger import TransferRequest
from finance.lifecycle.accrual import (
    _accrual,
    _accrual_requests,
)
from finance.lifecycle.financings import (
    _step,
)
from finance.lifecycle.states import (
    CHECKER_ROLES,
    PROVISION_BPS,
    Financing,
    FinStatus,
    _at,
    _d,
    _now,
    _receivable_code,
    classify,
)
from finance.products import recorded
from graph.model import (
    RiskClass,
)
from graph.queries import finance as q


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
        product = recorded(driver, database, row["product_id"], row.get("product_version"))
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
        payer = settlement_account(payer_id or row["borrower_id"], ccy, book_of(row))
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
                    lender_account(AccountCode.FEE_INCOME, ccy, book_of(row)).id,
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
                lender_account(AccountCode.PROVISION, ccy, book_of(row)),
                lender_account(AccountCode.PROVISION_EXPENSE, ccy, book_of(row)),
            ],
        )
        if delta:
            exp = lender_account(AccountCode.PROVISION_EXPENSE, ccy, book_of(row)).id
            prov = lender_account(AccountCode.PROVISION, ccy, book_of(row)).id
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
        # Its days past due over time, a change per day it changed, so that decisions read
        # them as they stood at a past time (graph.queries.decisions.POINT_IN_TIME).
        days, values = list(row.get("dpd_on") or []), list(row.get("dpd_values") or [])
        if (not values or values[-1] != dpd) and (not days or (_d(days[-1]) or date.min) < as_of):
            props.update(dpd_on=[*days, as_of], dpd_values=[*values, dpd])
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
        product = recorded(driver, database, row["product_id"], row.get("product_version"))
        ccy = row["currency"]
        out, due = int(row["outstanding_minor"]), int(row["interest_due_minor"])
        prov = lender_account(AccountCode.PROVISION, ccy, book_of(row)).id
        exp = lender_account(AccountCode.PROVISION_EXPENSE, ccy, book_of(row)).id
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
