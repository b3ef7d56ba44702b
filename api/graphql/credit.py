"""Credit administration in GraphQL: grant credit lines (an enterprise's own, a core's
supply-chain line with tier sub-limits, a group line, product sub-limits), change a limit,
freeze and unfreeze, expire; deposits to and withdrawals from settlement accounts.

The operations (`grant`, `change_limit`, `set_frozen`, `move`) are plain functions over the
driver, shared with `chainlens finance line` and `chainlens finance deposit|withdraw`: they
check what `finance.credit_lines` and `finance.settlement` leave to their callers (ids,
amounts, the line tree, states), then call them, and those write the line and its ledger
transfers in one transaction. Every refusal is a domain error with a plain message:
BAD_REQUEST for bad input, NOT_FOUND for an unknown id, CONFLICT for a step the line's state
does not allow or a reused request id with other fields. Nothing is written when refused.
Admins grant, change limits and expire; credit officers (and admins) freeze, unfreeze and move
settlement money. Every operation is audited like any other GraphQL operation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

import strawberry
from neo4j import Driver
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.finance import CreditLineUsage, _line
from api.graphql.permissions import requires
from api.graphql.scalars import BigInt, currency_problem
from api.security import Role
from finance import credit_lines as cl
from finance import ledger as fl
from finance import settlement
from finance.accounts import settlement_account
from finance.errors import (
    FinanceError,
    IdempotencyConflict,
    InvalidState,
    LedgerRejected,
    LimitExceeded,
    NotFound,
)
from finance.ledger import TransferResult, TransferStatus
from finance.products import get_product
from graph.enterprises import get_enterprises
from graph.errors import NotFound as EnterpriseNotFound
from graph.model import CreditLineStatus
from graph.queries import finance as qf
from graph.queries import lists as ql

ADMINS: tuple[Role, ...] = ()  # admins pass every check; nobody else does
CREDIT = (Role.CREDIT_OFFICER,)

# The most money one operation may name: 10 trillion yuan in fen. Larger amounts are typing
# errors, and the ledger's running totals must stay far from 64 bits.
MAX_MONEY_MINOR = 10**15
# Ids become parts of ledger account ids (`9101:CNY:<line>`), so ':' and spaces are refused.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_REQUEST_ID = 100
MAX_REASON = 500


def _mutation(description: str, roles: tuple[Role, ...]) -> Any:
    return strawberry.mutation(extensions=requires(*roles), description=description)


def money(amount: int, what: str) -> int:
    """``amount`` when it is a positive amount of minor units within the cap."""
    if amount <= 0:
        raise FinanceError(f"{what} must be positive (minor units), got {amount}")
    if amount > MAX_MONEY_MINOR:
        raise FinanceError(f"{what} is at most {MAX_MONEY_MINOR} minor units, got {amount}")
    return amount


def checked_request_id(value: str) -> str:
    if not value.strip() or len(value) > MAX_REQUEST_ID:
        raise FinanceError(f"a request id is 1 to {MAX_REQUEST_ID} characters")
    return value


def reason_text(value: str) -> str:
    if not value.strip() or len(value) > MAX_REASON:
        raise FinanceError(f"a reason is 1 to {MAX_REASON} characters")
    return value.strip()


@strawberry.type(description="A credit line: where it sits in its tree and how much is used.")
class CreditLine:
    id: strawberry.ID
    kind: str
    tier: int | None = strawberry.field(description="For a tier sub-limit: the tier it serves.")
    status: str
    status_reason: str | None
    currency: str
    enterprise_id: strawberry.ID | None = strawberry.field(description="Granted to.")
    parent_id: strawberry.ID | None = strawberry.field(description="The line it is PART_OF.")
    product_id: strawberry.ID | None
    expires_on: date | None
    limit: BigInt
    used: BigInt = strawberry.field(description="Drawn (posted occupation).")
    held: BigInt = strawberry.field(description="Reserved by approvals not yet drawn.")
    available: BigInt
    usage: CreditLineUsage


def _native(x: Any) -> Any:
    return x.to_native() if hasattr(x, "to_native") else x


def credit_line(row: dict[str, Any], u: cl.LineUsage) -> CreditLine:
    """The GraphQL line from its graph fields (`graph.queries.lists`) and its usage."""

    def opt(key: str) -> strawberry.ID | None:
        return strawberry.ID(row[key]) if row.get(key) else None

    return CreditLine(
        id=strawberry.ID(u.id), kind=u.kind, tier=row.get("tier"), status=u.status,
        status_reason=row.get("status_reason"), currency=u.currency,
        enterprise_id=opt("enterprise_id"), parent_id=opt("parent_id"),
        product_id=opt("product_id"), expires_on=u.expires_on, limit=BigInt(u.limit_minor),
        used=BigInt(u.used_minor), held=BigInt(u.held_minor),
        available=BigInt(u.available_minor), usage=_line(u),
    )  # fmt: skip


def read_lines(driver: Any, database: str, ids: list[str]) -> list[CreditLine]:
    """Lines by id with their usage (one usage read per line: meant for a page), in order."""
    rows = ql.credit_lines_by_id(driver, database, ids)
    return [credit_line(rows[i], cl.usage(driver, database, i)) for i in ids if i in rows]


async def _line_out(info: Info[Context, None], line_id: str) -> CreditLine:
    found = cast(list[CreditLine], await info.context.call(read_lines, [line_id]))
    if not found:
        raise NotFound(f"credit line {line_id} does not exist")
    return found[0]


@strawberry.input(description="A credit line to grant; granting the same id again is a no-op.")
class GrantCreditLineInput:
    id: strawberry.ID = strawberry.field(
        description="The line's id (letters, digits, '.', '_', '-'; at most 64)."
    )
    enterprise_id: strawberry.ID = strawberry.field(
        description="Granted to; for a tier sub-limit, the core (as its supply-chain line)."
    )
    kind: str = strawberry.field(
        description="group, enterprise, supply_chain, tier (a sub-limit of a core's "
        "supply-chain line for one tier) or product (a per-product sub-limit)."
    )
    limit: BigInt
    currency: str = "CNY"
    expires_on: date
    parent_id: strawberry.ID | None = None
    product_id: strawberry.ID | None = None
    tier: int | None = strawberry.field(default=None, description="1 to 5, for kind tier.")


def line_spec(
    *, id: str, enterprise_id: str, kind: str, limit: int, currency: str, expires_on: date,
    parent_id: str | None = None, product_id: str | None = None, tier: int | None = None,
) -> cl.LineSpec:  # fmt: skip
    """A grant checked for what needs no database (also used by `chainlens finance line`)."""
    if not _ID.fullmatch(id):
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
    if product_id is not None:
        get_product(product_id)  # NOT_FOUND for an unknown product
    return cl.LineSpec(
        id=id, enterprise_id=enterprise_id, kind=line_kind, limit_minor=money(limit, "a limit"),
        currency=currency, expires_on=expires_on, parent_id=parent_id, product_id=product_id,
        tier=tier,
    )  # fmt: skip


def _spec(input: GrantCreditLineInput) -> cl.LineSpec:
    def opt(x: strawberry.ID | None) -> str | None:
        return str(x) if x is not None else None

    return line_spec(
        id=str(input.id), enterprise_id=str(input.enterprise_id), kind=input.kind,
        limit=int(input.limit), currency=input.currency, expires_on=input.expires_on,
        parent_id=opt(input.parent_id), product_id=opt(input.product_id), tier=input.tier,
    )  # fmt: skip


def _check_tree(spec: cl.LineSpec, existing: dict[str, Any] | None,
                parent: dict[str, Any] | None) -> None:  # fmt: skip
    """Refuse a grant that contradicts the line already there or its parent."""
    if existing is not None:
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
    if parent is None:
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


def grant(driver: Driver, database: str, spec: cl.LineSpec) -> None:
    """Grant a line after checking it against the line already there and its parent."""
    rows = ql.credit_lines_by_id(driver, database, [spec.id, *filter(None, [spec.parent_id])])
    _check_tree(spec, rows.get(spec.id), rows.get(spec.parent_id or ""))
    cl.grant_line(driver, database, spec)


def change_limit(
    driver: Driver, database: str, line_id: str, new_limit: int, request_id: str
) -> None:
    """Raise or cut a line's limit (retry-safe by request id); an expired line is refused."""
    checked = money(new_limit, "a limit")
    req = checked_request_id(request_id)
    row = ql.credit_lines_by_id(driver, database, [line_id]).get(line_id)
    if row is None:
        raise NotFound(f"credit line {line_id} does not exist")
    if row.get("status") == CreditLineStatus.EXPIRED:
        raise InvalidState(f"credit line {line_id} has expired; grant a new one")
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


def move(
    driver: Driver, database: str, *, deposit: bool, enterprise_id: str, amount: int,
    currency: str, request_id: str, on: date | None = None,
) -> Movement:  # fmt: skip
    """Deposit to or withdraw from an enterprise's settlement account (retry-safe by request
    id); a withdrawal beyond what the account holds is refused with the balance."""
    money(amount, "an amount")
    req = checked_request_id(request_id)
    problem = currency_problem(currency)
    if problem is not None:
        raise FinanceError(problem)
    if not get_enterprises(driver, database, [enterprise_id]):
        raise EnterpriseNotFound(f"enterprise {enterprise_id} does not exist")
    account = settlement_account(enterprise_id, currency).id
    fn = settlement.deposit if deposit else settlement.withdraw
    try:
        t = fn(driver, database, enterprise_id, amount, currency, req, on)
    except LedgerRejected as e:
        if any(isinstance(r, TransferResult) and r.status == TransferStatus.EXCEEDS_CREDITS
               for r in e.results):  # fmt: skip
            held = -fl.balance_as_of(driver, database, account).debit_balance
            raise LimitExceeded(
                f"settlement account {account} holds {held}, less than the {amount} asked"
            ) from e
        raise
    balance = -fl.balance_as_of(driver, database, account).debit_balance
    return Movement(t.id, enterprise_id, account, t.amount, t.currency, balance)


@strawberry.type(description="A deposit or withdrawal and the settlement account after it.")
class SettlementTransfer:
    transfer_id: strawberry.ID
    enterprise_id: strawberry.ID
    account_id: strawberry.ID
    amount: BigInt
    currency: str
    balance: BigInt = strawberry.field(description="What the account holds after all posted "
                                       "transfers (credits less debits).")  # fmt: skip

    @classmethod
    def of(cls, m: Movement) -> SettlementTransfer:
        return cls(
            transfer_id=strawberry.ID(m.transfer_id), enterprise_id=strawberry.ID(m.enterprise_id),
            account_id=strawberry.ID(m.account_id), amount=BigInt(m.amount_minor),
            currency=m.currency, balance=BigInt(m.balance_minor),
        )  # fmt: skip


@strawberry.type
class CreditMutation:
    @_mutation("Grant a credit line and fund its limit in the ledger (admins).", ADMINS)
    async def grant_credit_line(
        self, info: Info[Context, None], input: GrantCreditLineInput
    ) -> CreditLine:
        spec = _spec(input)
        await info.context.call(grant, spec)
        return await _line_out(info, spec.id)

    @_mutation("Raise or cut a line's limit; a cut below what is used or held is refused. "
               "Retry-safe by request id (admins).", ADMINS)  # fmt: skip
    async def change_credit_limit(
        self, info: Info[Context, None], id: strawberry.ID, new_limit: BigInt,
        request_id: strawberry.ID,
    ) -> CreditLine:  # fmt: skip
        # Not named `limit`: the cost estimate reads `first` and `limit` as page sizes.
        await info.context.call(change_limit, str(id), int(new_limit), str(request_id))
        return await _line_out(info, str(id))

    @_mutation("Freeze a line: nothing new may occupy it or any line below it.",
               CREDIT)  # fmt: skip
    async def freeze_credit_line(
        self, info: Info[Context, None], id: strawberry.ID, reason: str
    ) -> CreditLine:
        await info.context.call(set_frozen, str(id), True, reason)
        return await _line_out(info, str(id))

    @_mutation("Unfreeze a frozen line.", CREDIT)
    async def unfreeze_credit_line(
        self, info: Info[Context, None], id: strawberry.ID, reason: str
    ) -> CreditLine:
        await info.context.call(set_frozen, str(id), False, reason)
        return await _line_out(info, str(id))

    @_mutation("Mark the lines whose expiry date is before `asOf` (default today, UTC) "
               "expired; returns their ids (admins).", ADMINS)  # fmt: skip
    async def expire_credit_lines(
        self, info: Info[Context, None], as_of: date | None = None
    ) -> list[strawberry.ID]:
        day = as_of or datetime.now(UTC).date()
        ids = cast(list[str], await info.context.call(cl.expire_lines, day))
        return [strawberry.ID(i) for i in ids]

    @_mutation("Money received for an enterprise: cash in, its settlement account credited. "
               "Retry-safe by request id.", CREDIT)  # fmt: skip
    async def deposit_to_settlement(
        self, info: Info[Context, None], enterprise_id: strawberry.ID, amount: BigInt,
        request_id: strawberry.ID, currency: str = "CNY", on: date | None = None,
    ) -> SettlementTransfer:  # fmt: skip
        return SettlementTransfer.of(await info.context.call(
            move, deposit=True, enterprise_id=str(enterprise_id), amount=int(amount),
            currency=currency, request_id=str(request_id), on=on))  # fmt: skip

    @_mutation("Money paid out of an enterprise's settlement account; refused beyond what it "
               "holds. Retry-safe by request id.", CREDIT)  # fmt: skip
    async def withdraw_from_settlement(
        self, info: Info[Context, None], enterprise_id: strawberry.ID, amount: BigInt,
        request_id: strawberry.ID, currency: str = "CNY", on: date | None = None,
    ) -> SettlementTransfer:  # fmt: skip
        return SettlementTransfer.of(await info.context.call(
            move, deposit=False, enterprise_id=str(enterprise_id), amount=int(amount),
            currency=currency, request_id=str(request_id), on=on))  # fmt: skip
