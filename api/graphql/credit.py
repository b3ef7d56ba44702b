"""Credit administration in GraphQL: grant credit lines (an enterprise's own, a core's
supply-chain line with tier sub-limits, a group line, product sub-limits), change a limit,
freeze and unfreeze, expire; deposits to and withdrawals from settlement accounts.

The operations (`grant`, `change_limit`, `set_frozen`, `move`) are the domain's
(`finance/administration.py`), shared with `chainlens finance line` and `chainlens finance
deposit|withdraw`; deposits and withdrawals are `movement_job`s, committed in groups with the
other ledger writes waiting (`finance/batching.py`; a full queue answers 503 UNAVAILABLE).
Every refusal is a domain error with a plain message:
BAD_REQUEST for bad input, NOT_FOUND for an unknown id, CONFLICT for a step the line's state
does not allow or a reused request id with other fields. Nothing is written when refused.
Admins grant, change limits and expire; credit officers (and admins) freeze, unfreeze and move
settlement money. Every operation is audited like any other GraphQL operation.

Four eyes: a line above `CHAINLENS_CREDIT_LINE_FOUR_EYES_MINOR`, or a raise to above it, is
refused to one person (FORBIDDEN) and goes through a proposal instead: a credit officer or an
admin proposes (`proposeCreditLine`, `proposeCreditLimit`), another admin decides
(`decideCreditLineProposal`); `creditLineProposals` lists them (`finance/proposals.py`).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, date, datetime
from typing import Any, cast

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.finance import CreditLineUsage, _line
from api.graphql.pagination import After, Connection, First, window
from api.graphql.pagination import connection as _connection
from api.graphql.permissions import requires
from api.graphql.scalars import BigInt
from api.idempotency import idempotent
from api.security import Role
from decisions import admission
from finance import credit_lines as cl
from finance import proposals as fp
from finance.administration import (
    Movement,
    MovementJob,
    change_limit,
    grant,
    line_spec,
    movement_job,
    set_frozen,
)
from finance.errors import NotFound
from graph.errors import InvalidArgument
from graph.model import ProposalStatus
from graph.queries import lists as ql

ADMINS: tuple[Role, ...] = ()  # admins pass every check; nobody else does
CREDIT = (Role.CREDIT_OFFICER,)


def _mutation(description: str, roles: tuple[Role, ...]) -> Any:
    return strawberry.mutation(extensions=requires(*roles), description=description)


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


def _spec(input: GrantCreditLineInput) -> cl.LineSpec:
    def opt(x: strawberry.ID | None) -> str | None:
        return str(x) if x is not None else None

    return line_spec(
        id=str(input.id), enterprise_id=str(input.enterprise_id), kind=input.kind,
        limit=int(input.limit), currency=input.currency, expires_on=input.expires_on,
        parent_id=opt(input.parent_id), product_id=opt(input.product_id), tier=input.tier,
    )  # fmt: skip


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


@strawberry.type(description="A credit line granted, or a limit raised, by two people: one "
                 "proposes, another admin approves or rejects.")  # fmt: skip
class CreditLineProposal:
    id: strawberry.ID
    action: str = strawberry.field(description="grant (a new line) or limit (a new limit).")
    status: str = strawberry.field(description="pending, approved or rejected.")
    line_id: strawberry.ID
    limit: BigInt = strawberry.field(description="The new line's limit or the line's new one.")
    currency: str
    enterprise_id: strawberry.ID | None
    kind: str | None
    tier: int | None
    parent_id: strawberry.ID | None
    expires_on: date | None
    maker: str
    created_at: datetime
    checker: str | None
    note: str | None
    decided_at: datetime | None
    funder_id: strawberry.ID = strawberry.field(
        description="The funder whose book the line is (or goes) in: the proposer's for a "
                    "grant, the line's for a new limit.")  # fmt: skip

    @strawberry.field(description="The line, once the proposal is approved.")
    async def line(self, info: Info[Context, None]) -> CreditLine | None:
        if self.status != ProposalStatus.APPROVED:
            return None
        return await _line_out(info, str(self.line_id))

    @classmethod
    def of(cls, p: fp.Proposal) -> CreditLineProposal:
        def opt(x: str | None) -> strawberry.ID | None:
            return strawberry.ID(x) if x is not None else None

        return cls(
            id=strawberry.ID(p.id), action=p.action.value, status=p.status.value,
            line_id=strawberry.ID(p.line_id), limit=BigInt(p.limit_minor), currency=p.currency,
            enterprise_id=opt(p.enterprise_id), kind=p.kind, tier=p.tier,
            parent_id=opt(p.parent_id), expires_on=p.expires_on, maker=p.maker,
            created_at=p.created_at, checker=p.checker, note=p.note, decided_at=p.decided_at,
            funder_id=strawberry.ID(p.funder_id),
        )  # fmt: skip


@strawberry.type
class CreditQuery:
    @strawberry.field(extensions=requires(*CREDIT),
                      description="Credit-line proposals of the caller's funder's book, "
                                  "oldest first (by status: pending, approved, rejected); an "
                                  "unbound admin reads every funder's.")  # fmt: skip
    async def credit_line_proposals(
        self, info: Info[Context, None], status: str | None = None, first: First = 50,
        after: After = None,
    ) -> Connection[CreditLineProposal]:  # fmt: skip
        if status is not None and status not in {s.value for s in ProposalStatus}:
            raise InvalidArgument(f"status must be one of pending, approved, rejected, "
                                  f"got {status[:40]!r}")  # fmt: skip
        skip, limit = window(first, after)
        found, total = await info.context.call(fp.proposals, status, skip, limit,
                                               info.context.user.book)  # fmt: skip
        return _connection([CreditLineProposal.of(p) for p in found], skip, total)


@strawberry.type
class CreditMutation:
    @_mutation("Grant a credit line and fund its limit in the ledger (admins); above the "
               "four-eyes threshold, propose it instead. The admission rules run first on the "
               "enterprise: a decline refuses it, a referral must be proposed.",
               ADMINS)  # fmt: skip
    async def grant_credit_line(
        self, info: Info[Context, None], input: GrantCreditLineInput
    ) -> CreditLine:
        spec = replace(_spec(input), funder_id=info.context.user.writes_for)
        four_eyes = info.context.settings.credit_line_four_eyes_minor
        await info.context.call(admission.check_grant, spec, four_eyes_minor=four_eyes)
        await info.context.call(grant, spec, four_eyes)
        return await _line_out(info, spec.id)

    @_mutation("Propose a credit line for another admin to approve (credit officers and "
               "admins); the same id and terms again return the first proposal. Refused when "
               "the admission rules decline the enterprise.",
               CREDIT)  # fmt: skip
    async def propose_credit_line(
        self, info: Info[Context, None], id: strawberry.ID, input: GrantCreditLineInput
    ) -> CreditLineProposal:
        spec = replace(_spec(input), funder_id=info.context.user.writes_for)
        await info.context.call(admission.check_grant, spec, proposed=True)
        got = await info.context.call(fp.propose_grant, str(id), spec,
                                      info.context.user.username)  # fmt: skip
        return CreditLineProposal.of(got)

    @_mutation("Propose a line's new limit for another admin to approve (credit officers "
               "and admins).", CREDIT)  # fmt: skip
    async def propose_credit_limit(
        self, info: Info[Context, None], id: strawberry.ID, line_id: strawberry.ID,
        new_limit: BigInt,
    ) -> CreditLineProposal:  # fmt: skip
        got = await info.context.call(fp.propose_limit, str(id), str(line_id), int(new_limit),
                                      info.context.user.username)  # fmt: skip
        return CreditLineProposal.of(got)

    @_mutation("Approve (and apply) or reject a pending proposal, with a note (admins; never "
               "the proposal's maker).", ADMINS)  # fmt: skip
    async def decide_credit_line_proposal(
        self, info: Info[Context, None], id: strawberry.ID, approve: bool, note: str
    ) -> CreditLineProposal:
        got = await info.context.call(fp.decide, str(id), info.context.user.username, approve,
                                      note)  # fmt: skip
        return CreditLineProposal.of(got)

    @_mutation("Raise or cut a line's limit; a cut below what is used or held is refused. "
               "Retry-safe by request id, which is the caller's own: the same id with another "
               "limit is refused (CONFLICT) (admins).", ADMINS)  # fmt: skip
    async def change_credit_limit(
        self, info: Info[Context, None], id: strawberry.ID, new_limit: BigInt,
        request_id: strawberry.ID,
    ) -> CreditLine:  # fmt: skip
        # Not named `limit`: the cost estimate reads `first` and `limit` as page sizes.
        async def run(req: str) -> dict[str, Any]:
            await info.context.call(change_limit, str(id), int(new_limit), req,
                                    info.context.settings.credit_line_four_eyes_minor)  # fmt: skip
            return {}

        await idempotent(info.context.call, info.context.user.username, "changeCreditLimit",
                         str(request_id), {"id": str(id), "new_limit": int(new_limit)},
                         run)  # fmt: skip
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

    @_mutation("Money received for an enterprise: cash in, its settlement account with the "
               "caller's funder credited. "
               "Retry-safe by request id, which is the caller's own: the same id again "
               "answers the first transfer, with other arguments it is refused (CONFLICT).",
               CREDIT)  # fmt: skip
    async def deposit_to_settlement(
        self, info: Info[Context, None], enterprise_id: strawberry.ID, amount: BigInt,
        request_id: strawberry.ID, currency: str = "CNY", on: date | None = None,
    ) -> SettlementTransfer:  # fmt: skip
        return await _settle(info, "depositToSettlement", True, enterprise_id, amount,
                             request_id, currency, on)  # fmt: skip

    @_mutation("Money paid out of an enterprise's settlement account with the caller's "
               "funder; refused beyond what it "
               "holds. Retry-safe by request id, which is the caller's own: the same id again "
               "answers the first transfer, with other arguments it is refused (CONFLICT).",
               CREDIT)  # fmt: skip
    async def withdraw_from_settlement(
        self, info: Info[Context, None], enterprise_id: strawberry.ID, amount: BigInt,
        request_id: strawberry.ID, currency: str = "CNY", on: date | None = None,
    ) -> SettlementTransfer:  # fmt: skip
        return await _settle(info, "withdrawFromSettlement", False, enterprise_id, amount,
                             request_id, currency, on)  # fmt: skip


async def _settle(
    info: Info[Context, None], mutation: str, deposit: bool, enterprise_id: strawberry.ID,
    amount: BigInt, request_id: strawberry.ID, currency: str, on: date | None,
) -> SettlementTransfer:  # fmt: skip
    """A deposit or withdrawal at most once per caller and request id (`api/idempotency`)."""

    async def run(req: str) -> dict[str, Any]:
        # Checked here, committed with the other ledger writes waiting (finance/batching.py).
        job = cast(MovementJob, await info.context.call(
            movement_job, deposit=deposit, enterprise_id=str(enterprise_id),
            amount=int(amount), currency=currency, request_id=req, on=on,
            funder=info.context.user.writes_for))  # fmt: skip
        return asdict(await info.context.commit(job))

    payload = {"enterprise_id": str(enterprise_id), "amount": int(amount),
               "currency": currency, "on": on}  # fmt: skip
    done = await idempotent(info.context.call, info.context.user.username, mutation,
                            str(request_id), payload, run)  # fmt: skip
    return SettlementTransfer.of(Movement(**done))
