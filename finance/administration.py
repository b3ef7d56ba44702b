"""Credit administration: grant credit lines (an enterprise's own, a core's supply-chain line
with tier sub-limits, a group line, product sub-limits), change a limit, freeze and unfreeze;
deposits to and withdrawals from settlement accounts.

These check what `finance.credit_lines` and `finance.settlement` leave to their callers (ids,
amounts, the line tree, states), then call them, and those write the line and its ledger
transfers in one transaction. Every refusal is a `FinanceError` with a plain message: bad
input (400), an unknown id (404), a step the line's state does not allow or a reused request
id with other fields (409). Nothing is written when refused. GraphQL (`api/graphql/credit.py`)
and `chainlens finance line|deposit|withdraw` both call these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from neo4j import Driver, ManagedTransaction

from chainlens.money import currency_problem, money_problem
from finance import credit_lines as cl
from finance import ledger as fl
from finance import settlement
from finance.accounts import AccountSpec
from finance.batching import Prepared, run_alone
from finance.errors import (
    FinanceError,
    Forbidden,
    IdempotencyConflict,
    InvalidState,
    LimitExceeded,
    NotFound,
)
from finance.ledger import TransferRequest, TransferResult, TransferStatus
from finance.products import in_force
from graph.enterprises import get_enterprises
from graph.model import DEFAULT_FUNDER, CreditLineStatus
from graph.queries import finance as qf
from graph.queries import lists as ql

# Ids become parts of ledger account ids (`9101:CNY:<line>`), so ':' and spaces are refused.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_REQUEST_ID = 100
MAX_REASON = 500


def money(amount: int, what: str) -> int:
    """``amount`` when it is a positive amount of minor units within the cap."""
    problem = money_problem(amount, what)
    if problem is not None:
        raise FinanceError(problem)
    return amount


def checked_request_id(value: str) -> str:
    if not value.strip() or len(value) > MAX_REQUEST_ID:
        raise FinanceError(f"a request id is 1 to {MAX_REQUEST_ID} characters")
    return value


def reason_text(value: str) -> str:
    if not value.strip() or len(value) > MAX_REASON:
        raise FinanceError(f"a reason is 1 to {MAX_REASON} characters")
    return value.strip()


def line_spec(
    *, id: str, enterprise_id: str, kind: str, limit: int, currency: str, expires_on: date,
    parent_id: str | None = None, product_id: str | None = None, tier: int | None = None,
) -> cl.LineSpec:  # fmt: skip
    """A grant checked for what needs no database (also used by `chainlens finance line`)."""
    if not ID_PATTERN.fullmatch(id):
        raise FinanceError(
            f"a line id is 1 to 64 letters, digits, '.', '_' or '-', got {id[:70]!r}"
        )
    try:
        line_kind = cl.LineKind(kind)
    except ValueError as e:
        kinds = ", ".join(k.value for k in cl.LineKind)
        raise FinanceError(f"kind must be one of {kinds}, got {kind[:40]!r}") from e
    problem = currency_problem(currency)
    if problem is not None:
        raise FinanceError(problem)
    if tier is not None and not 1 <= tier <= 5:
        raise FinanceError(f"a tier is 1 to 5, got {tier}")
    if expires_on <= datetime.now(UTC).date():
        raise FinanceError(f"a new line expires after today, not on {expires_on}")
    if line_kind == cl.LineKind.PRODUCT and product_id is None:
        raise FinanceError("a product sub-limit names its product")
    if product_id is not None and not ID_PATTERN.fullmatch(product_id):
        raise NotFound(f"no product {product_id[:70]!r}")  # checked in force by check_grant
    return cl.LineSpec(
        id=id, enterprise_id=enterprise_id, kind=line_kind, limit_minor=money(limit, "a limit"),
        currency=currency, expires_on=expires_on, parent_id=parent_id, product_id=product_id,
        tier=tier,
    )  # fmt: skip


def _check_tree(spec: cl.LineSpec, existing: dict[str, Any] | None,
                parent: dict[str, Any] | None) -> None:  # fmt: skip
    """Refuse a grant that contradicts the line already there or its parent."""
    if existing is not None:
        if (existing.get("funder_id") or DEFAULT_FUNDER) != spec.funder_id:
            raise IdempotencyConflict(f"credit line id {spec.id} is taken; use another id")
        same = (
            existing.get("enterprise_id") == spec.enterprise_id
            and existing.get("kind") == spec.kind.value
            and existing.get("parent_id") == spec.parent_id
            and existing.get("tier") == spec.tier
            and existing.get("product_id") == spec.product_id
            and existing.get("currency") == spec.currency
        )
        if not same:
            raise IdempotencyConflict(f"credit line {spec.id} already exists with other terms")
    if spec.parent_id is None:
        return
    if parent is None or (parent.get("funder_id") or DEFAULT_FUNDER) != spec.funder_id:
        raise NotFound(f"parent line {spec.parent_id} does not exist")
    if parent.get("currency") != spec.currency:
        raise FinanceError(
            f"parent line {spec.parent_id} is in {parent.get('currency')}, not {spec.currency}"
        )
    if parent.get("status") == CreditLineStatus.EXPIRED:
        raise InvalidState(f"parent line {spec.parent_id} has expired")
    if spec.kind == cl.LineKind.TIER:
        if parent.get("kind") != cl.LineKind.SUPPLY_CHAIN:
            raise FinanceError(
                f"a tier sub-limit is part of a supply-chain line; {spec.parent_id} is a "
                f"{parent.get('kind')} line"
            )
        if parent.get("enterprise_id") != spec.enterprise_id:
            raise FinanceError(
                f"a tier sub-limit is granted to the core that holds supply-chain line "
                f"{spec.parent_id} ({parent.get('enterprise_id')})"
            )


def one_pair_of_eyes(limit: int, four_eyes_minor: int | None, what: str) -> None:
    """Refuse a limit above the four-eyes threshold to one person acting alone."""
    if four_eyes_minor is not None and limit > four_eyes_minor:
        raise Forbidden(
            f"{what} above {four_eyes_minor} minor units needs a second approver: propose it "
            f"(proposeCreditLine or proposeCreditLimit) for another admin to decide"
        )


def check_grant(driver: Driver, database: str, spec: cl.LineSpec) -> None:
    """Refuse a grant that contradicts the line already there or its parent, or names a
    product not offered now (shipped or configured: `finance.products.catalogue`)."""
    cl.check_spec(spec)
    if spec.product_id is not None:
        in_force(driver, database, spec.product_id)  # NOT_FOUND for an unknown product
    rows = ql.credit_lines_by_id(driver, database, [spec.id, *filter(None, [spec.parent_id])])
    _check_tree(spec, rows.get(spec.id), rows.get(spec.parent_id or ""))


def grant(
    driver: Driver, database: str, spec: cl.LineSpec, four_eyes_minor: int | None = None
) -> None:
    """Grant a line after checking it against the line already there and its parent; above
    ``four_eyes_minor`` (when given) it must be proposed and approved instead."""
    one_pair_of_eyes(spec.limit_minor, four_eyes_minor, f"a {spec.kind.value} line")
    check_grant(driver, database, spec)
    cl.grant_line(driver, database, spec)


def line_row(driver: Driver, database: str, line_id: str) -> dict[str, Any]:
    """The line's graph fields; an unknown or expired line is refused."""
    row = ql.credit_lines_by_id(driver, database, [line_id]).get(line_id)
    if row is None:
        raise NotFound(f"credit line {line_id} does not exist")
    if row.get("status") == CreditLineStatus.EXPIRED:
        raise InvalidState(f"credit line {line_id} has expired; grant a new one")
    return row


def change_limit(
    driver: Driver, database: str, line_id: str, new_limit: int, request_id: str,
    four_eyes_minor: int | None = None,
) -> None:  # fmt: skip
    """Raise or cut a line's limit (retry-safe by request id); an expired line is refused. A
    raise to above ``four_eyes_minor`` (when given) must be proposed and approved instead."""
    checked = money(new_limit, "a limit")
    req = checked_request_id(request_id)
    row = line_row(driver, database, line_id)
    if checked > int(row["limit_minor"]):
        one_pair_of_eyes(checked, four_eyes_minor, f"raising line {line_id}'s limit")
    # The domain keys the change by (line, request) and posts the difference, so a reused
    # request id that happens to ask for the same difference would pass as a retry: a used
    # request id is a retry only when the limit already is what it asks for.
    used = f"limit:{line_id}:{req}"
    with driver.session(database=database) as session:
        if session.execute_read(lambda tx: qf.get_transfers_tx(tx, [used])):
            if int(row["limit_minor"]) == checked:
                return
            raise IdempotencyConflict(
                f"request {req} already changed line {line_id}, whose limit is now "
                f"{row['limit_minor']}; a new change needs a new request id"
            )
    cl.change_limit(driver, database, line_id, checked, req)


def set_frozen(driver: Driver, database: str, line_id: str, frozen: bool, reason: str) -> None:
    """Freeze an active line or unfreeze a frozen one; any other step is refused."""
    why = reason_text(reason)
    row = ql.credit_lines_by_id(driver, database, [line_id]).get(line_id)
    if row is None:
        raise NotFound(f"credit line {line_id} does not exist")
    status = row.get("status")
    if status == CreditLineStatus.EXPIRED:
        raise InvalidState(f"credit line {line_id} has expired")
    if frozen and status == CreditLineStatus.FROZEN:
        raise InvalidState(f"credit line {line_id} is already frozen")
    if not frozen and status != CreditLineStatus.FROZEN:
        raise InvalidState(f"credit line {line_id} is not frozen")
    cl.set_status(driver, database, line_id, frozen, why)


@dataclass(frozen=True)
class Movement:
    """A deposit or withdrawal and what the settlement account holds after it."""

    transfer_id: str
    enterprise_id: str
    account_id: str
    amount_minor: int
    currency: str
    balance_minor: int


@dataclass(frozen=True)
class MovementJob:
    """A checked deposit or withdrawal as a ledger job (`finance.batching`): committed alone
    by `move`, or with others by the API's group committer."""

    deposit: bool
    enterprise_id: str
    amount: int
    currency: str
    request_id: str
    on: date | None
    funder: str

    def _parts(self) -> tuple[AccountSpec, AccountSpec, TransferRequest]:
        tid = (settlement.deposit_id if self.deposit else settlement.withdrawal_id)(self.request_id)
        code = "deposit" if self.deposit else "withdrawal"
        return settlement.movement(self.enterprise_id, self.amount, self.currency, tid, code,
                                   self.deposit, self.on, self.funder)  # fmt: skip

    @property
    def key(self) -> str:
        return self._parts()[2].id

    def prepare(self, tx: ManagedTransaction, now: datetime) -> Prepared:
        cash, settle, req = self._parts()
        # A withdrawal opens no account: from one never credited it is refused (holds 0).
        return Prepared([cash, settle] if self.deposit else [cash], [req])

    def finish(self, results: list[TransferResult], accounts: Mapping[str, fl.Account]) -> Movement:
        _, settle, _ = self._parts()
        a = accounts.get(settle.id)
        held = a.credits_posted - a.debits_posted if a is not None else 0
        refused = {TransferStatus.EXCEEDS_CREDITS, TransferStatus.ACCOUNT_NOT_FOUND}
        if not self.deposit and any(r.status in refused for r in results):
            raise LimitExceeded(
                f"settlement account {settle.id} holds {held}, less than the {self.amount} asked"
            )
        t = fl.require_ok(results)[0]
        return Movement(t.id, self.enterprise_id, settle.id, t.amount, t.currency, held)


def movement_job(
    driver: Driver, database: str, *, deposit: bool, enterprise_id: str, amount: int,
    currency: str, request_id: str, on: date | None = None, funder: str = DEFAULT_FUNDER,
) -> MovementJob:  # fmt: skip
    """A deposit to or withdrawal from an enterprise's settlement account with ``funder``,
    checked (amount, request id, currency, the enterprise) and ready to commit."""
    money(amount, "an amount")
    req = checked_request_id(request_id)
    problem = currency_problem(currency)
    if problem is not None:
        raise FinanceError(problem)
    if not get_enterprises(driver, database, [enterprise_id]):
        raise NotFound(f"enterprise {enterprise_id} does not exist")
    return MovementJob(deposit, enterprise_id, amount, currency, req, on, funder)


def move(
    driver: Driver, database: str, *, deposit: bool, enterprise_id: str, amount: int,
    currency: str, request_id: str, on: date | None = None, funder: str = DEFAULT_FUNDER,
) -> Movement:  # fmt: skip
    """Deposit to or withdraw from an enterprise's settlement account with ``funder``
    (retry-safe by request id); a withdrawal beyond what the account holds is refused with
    the balance (what the account holds as the transaction left it)."""
    job = movement_job(driver, database, deposit=deposit, enterprise_id=enterprise_id,
                       amount=amount, currency=currency, request_id=request_id, on=on,
                       funder=funder)  # fmt: skip
    return run_alone(driver, database, job)
