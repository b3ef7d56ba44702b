"""Chain finance in GraphQL: the confirmation of receivables (确权), issuing, discounting and
clearing e-credit vouchers, and the registry of security interests.

Who may do what. Confirmations and voucher issues, splits, transfers and clearing are
platform operations: the service account (the core's and suppliers' portal posts them) and
credit officers; a discount spends the funder's money, so only credit officers discount;
credit officers register and discharge security interests; every reader role reads. The
caller's username is recorded on each confirmation and registration.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any, cast

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.finance import Voucher, _voucher
from api.graphql.pagination import After, Connection, First, connection, window
from api.graphql.permissions import READERS, requires
from api.graphql.scalars import BigInt
from api.idempotency import idempotent
from api.security import Role
from decisions import postloan as postloan_rules
from finance import receivables as fr
from finance import registry as reg
from finance import vouchers as fv
from finance.errors import FinanceError, Forbidden
from finance.lifecycle.states import lender_of
from finance.products import Product, in_force
from graph.model import ConfirmationOutcome, InterestKind

OPERATORS = (Role.CREDIT_OFFICER, Role.SERVICE)
CREDIT = (Role.CREDIT_OFFICER,)
DISCOUNT_PRODUCT = "voucher_discounting"


def _field(description: str, roles: tuple[Role, ...]) -> Any:
    return strawberry.field(extensions=requires(*roles), description=description)


def _mutation(description: str, roles: tuple[Role, ...]) -> Any:
    return strawberry.mutation(extensions=requires(*roles), description=description)


def _now() -> datetime:
    return datetime.now(UTC)


@strawberry.type(description="One answer of the core on a receivable; never changed.")
class Confirmation:
    seq: int
    outcome: str
    amount: BigInt
    due_on: date | None
    note: str
    by: str
    at: datetime


@strawberry.type(description="An invoice seen as the seller's receivable and the buyer's "
                             "payable, with the buyer's confirmation (确权).")  # fmt: skip
class Receivable:
    invoice_id: strawberry.ID
    seller_id: strawberry.ID | None
    buyer_id: strawberry.ID | None
    amount: BigInt
    currency: str
    status: str
    issued_on: date | None
    due_on: date | None
    confirmation: str | None = strawberry.field(
        description="The latest answer: confirmed, partly_confirmed or disputed; null before.")
    confirmed_amount: BigInt = strawberry.field(
        description="What the core owes by its latest answer (0 when disputed or unanswered).")
    confirmed_due_on: date | None
    financing_id: strawberry.ID | None = strawberry.field(
        description="The live financing the receivable is assigned to, if any.")
    history: list[Confirmation]


def _receivable(r: fr.Receivable) -> Receivable:
    return Receivable(
        invoice_id=strawberry.ID(r.invoice_id),
        seller_id=strawberry.ID(r.seller_id) if r.seller_id else None,
        buyer_id=strawberry.ID(r.buyer_id) if r.buyer_id else None,
        amount=BigInt(r.amount_minor), currency=r.currency, status=r.status,
        issued_on=r.issued_on, due_on=r.due_on,
        confirmation=r.confirmation.value if r.confirmation else None,
        confirmed_amount=BigInt(r.confirmed_minor), confirmed_due_on=r.confirmed_due_on,
        financing_id=strawberry.ID(r.financing_id) if r.financing_id else None,
        history=[Confirmation(seq=h.seq, outcome=h.outcome.value, amount=BigInt(h.amount_minor),
                              due_on=h.due_on, note=h.note, by=h.by, at=h.at)
                 for h in r.history],
    )  # fmt: skip


@strawberry.type(description="A registration in the registry of security interests.")
class SecurityInterest:
    id: strawberry.ID = strawberry.field(description="The registration number.")
    kind: str
    status: str
    collateral_kind: str
    collateral_id: strawberry.ID
    debtor_id: strawberry.ID
    secured_party: str
    financing_id: strawberry.ID | None
    description: str
    registered_on: date
    expires_on: date
    registered_by: str
    discharged_on: date | None
    amendments: list[RegistryAmendment] = strawberry.field(
        description="Its amendments (变更登记), oldest first.")  # fmt: skip


@strawberry.type(description="One amendment of a registration: what changed, from what to what.")
class RegistryAmendment:
    on: date
    by: str
    at: datetime
    previous_expires_on: date | None = strawberry.field(
        description="The period's end before this amendment; null: unchanged.")  # fmt: skip
    expires_on: date | None = strawberry.field(
        description="The period's end it set; null: unchanged.")  # fmt: skip
    previous_description: str | None
    description: str | None = strawberry.field(
        description="The description it set; null: unchanged.")  # fmt: skip


@strawberry.input(description="What an amendment changes: the period's end, the description, "
                  "or both.")  # fmt: skip
class AmendmentInput:
    expires_on: date | None = None
    description: str | None = None


def _amendment(a: reg.Amendment) -> RegistryAmendment:
    return RegistryAmendment(
        on=a.on, by=a.by, at=a.at,
        previous_expires_on=a.expires_on[0] if a.expires_on else None,
        expires_on=a.expires_on[1] if a.expires_on else None,
        previous_description=a.description[0] if a.description else None,
        description=a.description[1] if a.description else None,
    )  # fmt: skip


def _interest(x: reg.SecurityInterest) -> SecurityInterest:
    return SecurityInterest(
        id=strawberry.ID(x.id), kind=x.kind.value, status=x.status.value,
        collateral_kind=x.collateral_kind, collateral_id=strawberry.ID(x.collateral_id),
        debtor_id=strawberry.ID(x.debtor_id), secured_party=x.secured_party,
        financing_id=strawberry.ID(x.financing_id) if x.financing_id else None,
        description=x.description, registered_on=x.registered_on, expires_on=x.expires_on,
        registered_by=x.registered_by, discharged_on=x.discharged_on,
        amendments=[_amendment(a) for a in x.amendments],
    )  # fmt: skip


@strawberry.input
class IssueVoucherInput:
    id: strawberry.ID = strawberry.field(description="The voucher's id: the same id again "
                                                     "answers the voucher it issued.")  # fmt: skip
    core_id: strawberry.ID
    holder_id: strawberry.ID = strawberry.field(description="The tier-1 supplier it goes to.")
    face: BigInt
    invoice_ids: list[strawberry.ID] = strawberry.field(
        description="The core's confirmed payables to the holder that back it.")
    issued_on: date
    due_on: date
    currency: str = "CNY"
    funder_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The funder whose supply-chain line of the core it occupies and in whose "
                    "book it is posted; the caller's funder when omitted. A funder's users "
                    "(and unbound staff, whose book is the default funder's) issue only on "
                    "their own funder's lines.")  # fmt: skip


@strawberry.input
class RegistrationInput:
    kind: str = strawberry.field(description="pledge or transfer (of a receivable).")
    collateral_id: strawberry.ID = strawberry.field(description="An invoice or an asset.")
    secured_party: str | None = strawberry.field(
        default=None,
        description="Who holds the interest; the caller's funder when omitted (a funder's own "
                    "users register only for their funder).")  # fmt: skip
    registered_on: date
    expires_on: date
    description: str = ""
    financing_id: strawberry.ID | None = None


@strawberry.type
class Discount:
    voucher: Voucher
    proceeds: BigInt = strawberry.field(description="What the holder received: face less "
                                                    "discount interest.")  # fmt: skip
    discount: BigInt
    rate_bps: int
    day_count: str


def _outcome(value: str) -> ConfirmationOutcome:
    try:
        return ConfirmationOutcome(value)
    except ValueError:
        allowed = ", ".join(o.value for o in ConfirmationOutcome)
        raise FinanceError(f"outcome must be one of {allowed}") from None


@strawberry.type
class ChainFinanceQuery:
    @_field("An invoice as a receivable, with every answer its buyer gave on it.", READERS)
    async def receivable(self, info: Info[Context, None], invoice_id: strawberry.ID) -> Receivable:
        return _receivable(await info.context.call(fr.get, str(invoice_id)))

    @_field("A core's payables (invoices it is the buyer of), oldest first, by the latest "
            "answer: confirmed, partly_confirmed, disputed or unanswered.", READERS)  # fmt: skip
    async def payables(
        self, info: Info[Context, None], core_id: strawberry.ID, outcome: str | None = None,
        first: First = 50, after: After = None,
    ) -> Connection[Receivable]:  # fmt: skip
        skip, limit = window(first, after)
        rows, total = await info.context.call(fr.payables, str(core_id), outcome, skip, limit)
        return connection([_receivable(r) for r in rows], skip, total)

    @_field("The registry of security interests, by debtor and/or collateral, newest first.",
            READERS)  # fmt: skip
    async def security_interests(
        self, info: Info[Context, None], debtor_id: strawberry.ID | None = None,
        collateral_id: strawberry.ID | None = None, status: str | None = None,
        first: First = 50, after: After = None,
    ) -> Connection[SecurityInterest]:  # fmt: skip
        skip, limit = window(first, after)
        rows, total = await info.context.call(
            reg.search, str(debtor_id) if debtor_id else None,
            str(collateral_id) if collateral_id else None, status, skip, limit)  # fmt: skip
        return connection([_interest(r) for r in rows], skip, total)


@strawberry.type
class ChainFinanceMutation:
    @_mutation("The buyer's answer on a receivable it owes (确权): confirmed (the whole amount), "
               "partly_confirmed (amount) or disputed (a note says why), with the due date. "
               "The same answer again records nothing new; once a voucher draws on the "
               "invoice the answer stands.", OPERATORS)  # fmt: skip
    async def confirm_receivable(
        self, info: Info[Context, None], invoice_id: strawberry.ID, core_id: strawberry.ID,
        outcome: str, due_on: date | None = None, amount: BigInt | None = None,
        note: str = "",
    ) -> Receivable:  # fmt: skip
        req = fr.ConfirmationRequest(
            invoice_id=str(invoice_id), core_id=str(core_id), outcome=_outcome(outcome),
            amount_minor=int(amount) if amount is not None else None, due_on=due_on,
            note=note, by=info.context.user.username, at=_now(),
        )  # fmt: skip
        return _receivable(await info.context.call(fr.confirm, req))

    @_mutation("Issue an e-credit voucher against the core's confirmed payables to a tier-1 "
               "supplier, occupying the core's supply-chain line of a funder (funderId; the "
               "caller's own by default) and posting in that funder's book. The same id "
               "again answers the voucher; with other terms it is refused (CONFLICT).",
               OPERATORS)  # fmt: skip
    async def issue_voucher(self, info: Info[Context, None], input: IssueVoucherInput) -> Voucher:
        user = info.context.user
        funder = str(input.funder_id) if input.funder_id is not None else user.writes_for
        if user.book is not None and funder != user.book:
            raise Forbidden("a funder's users issue vouchers only on their own funder's lines")
        v = await info.context.call(
            fv.issue, str(input.id), str(input.core_id), str(input.holder_id), int(input.face),
            input.currency, [str(i) for i in input.invoice_ids], input.issued_on, input.due_on,
            funder,
        )  # fmt: skip
        return _voucher(v)

    @_mutation("Discount a live voucher with the caller's funder, in its book: the holder is "
               "paid the face less discount interest into its settlement account with the "
               "funder (the voucher_discounting product's day count; its base rate unless "
               "rateBps is given). Retry-safe by request id (CONFLICT with other arguments).",
               CREDIT)  # fmt: skip
    async def discount_voucher(
        self, info: Info[Context, None], id: strawberry.ID, on: date, request_id: strawberry.ID,
        rate_bps: int | None = None,
    ) -> Discount:  # fmt: skip
        # The discounting product in force prices it (its rate and day count).
        product = cast(Product, await info.context.call(in_force, DISCOUNT_PRODUCT))
        rate = product.pricing.base_rate_bps if rate_bps is None else rate_bps
        if not 0 < rate <= 10_000:
            raise FinanceError("rateBps must be between 1 and 10000")
        payload = {"id": str(id), "on": on, "rate_bps": rate}

        async def run(req: str) -> dict[str, Any]:
            v, proceeds = cast(tuple[fv.Voucher, int], await info.context.call(
                fv.finance_voucher, str(id), rate, on, product.day_count,
                info.context.user.writes_for))  # fmt: skip
            return {"proceeds": proceeds, "discount": v.face_minor - proceeds}

        got = await idempotent(info.context.call, info.context.user.username, "discountVoucher",
                               str(request_id), payload, run)  # fmt: skip
        v = await info.context.call(fv.get, str(id))
        return Discount(voucher=_voucher(v), proceeds=BigInt(got["proceeds"]),
                        discount=BigInt(got["discount"]), rate_bps=rate,
                        day_count=product.day_count.value)  # fmt: skip

    @_mutation("Clear a voucher tree at maturity: the core pays each live piece's face from "
               "its settlement account (to the holder, or to the funder for a discounted "
               "piece) and its line is released: by the staff of the funder whose line it "
               "occupies, or the core's own user. Clearing again changes nothing.",
               OPERATORS)  # fmt: skip
    async def clear_voucher(
        self, info: Info[Context, None], root_id: strawberry.ID, on: date
    ) -> list[Voucher]:
        return [_voucher(v) for v in await info.context.call(
            fv.clear, str(root_id), on, info.context.user.enterprise_id)]  # fmt: skip

    @_mutation("Register a pledge or a receivable transfer in the registry of security "
               "interests, shared by every funder on the platform (a funder's users for their "
               "own funder). Refused (CONFLICT), naming the registration that holds it, when the "
               "collateral is covered by a live one. The post-loan rules then run on the "
               "financings the collateral secures. Retry-safe by request id.",
               CREDIT)  # fmt: skip
    async def register_security_interest(
        self, info: Info[Context, None], input: RegistrationInput, request_id: strawberry.ID,
    ) -> SecurityInterest:  # fmt: skip
        try:
            kind = InterestKind(input.kind)
        except ValueError:
            raise FinanceError(
                f"kind must be one of {', '.join(k.value for k in InterestKind)}"
            ) from None
        me = info.context.user
        user = me.username
        party = (input.secured_party if input.secured_party is not None
                 else lender_of(me.writes_for))  # fmt: skip
        await info.context.call(reg.check_party, party.strip(), me.funder_id, me.book)
        number = "RSI-" + hashlib.sha256(f"{user}\n{request_id}".encode()).hexdigest()[:16].upper()
        req = reg.RegistrationRequest(
            id=number, kind=kind, collateral_id=str(input.collateral_id),
            secured_party=party, registered_on=input.registered_on,
            expires_on=input.expires_on, description=input.description, by=user, at=_now(),
            financing_id=str(input.financing_id) if input.financing_id else None,
        )  # fmt: skip
        payload = {"kind": kind.value, "collateral_id": req.collateral_id,
                   "secured_party": req.secured_party, "registered_on": req.registered_on,
                   "expires_on": req.expires_on, "description": req.description,
                   "financing_id": req.financing_id}  # fmt: skip

        async def run(_: str) -> dict[str, Any]:
            x = cast(reg.SecurityInterest, await info.context.call(reg.register, req))
            # A registration is an event about the collateral: the post-loan rules run now on
            # the financings it secures, as of the day it takes effect (a registration that
            # takes effect later is left to that day's end-of-day run).
            await info.context.call(postloan_rules.on_collateral_event, [req.collateral_id],
                                    min(req.registered_on, _now().date()))  # fmt: skip
            return {"id": x.id}

        got = await idempotent(info.context.call, user, "registerSecurityInterest",
                               str(request_id), payload, run)  # fmt: skip
        return _interest(await info.context.call(reg.get, got["id"]))

    @_mutation("Amend a live registration on a date (变更登记; by its secured party's users): "
               "a new end of its period, extended or shortened, and/or a new description. "
               "Extending it over the start of another live registration of the same "
               "collateral is refused (CONFLICT), naming that one; a discharged or lapsed one "
               "is not amended. Each amendment is kept, oldest first; asking again for what "
               "the registration already says changes nothing.", CREDIT)  # fmt: skip
    async def amend_security_interest(
        self, info: Info[Context, None], id: strawberry.ID, input: AmendmentInput, on: date
    ) -> SecurityInterest:
        me = info.context.user
        held = cast(reg.SecurityInterest, await info.context.call(reg.get, str(id)))
        await info.context.call(reg.check_party, held.secured_party, me.funder_id, me.book)
        return _interest(await info.context.call(
            reg.amend, str(id), on, me.username, _now(), expires_on=input.expires_on,
            description=input.description))  # fmt: skip

    @_mutation("Discharge a live registration on a date (by its secured party's users); the "
               "collateral may then be registered again. Discharging again changes nothing.",
               CREDIT)  # fmt: skip
    async def discharge_security_interest(
        self, info: Info[Context, None], id: strawberry.ID, on: date
    ) -> SecurityInterest:
        me = info.context.user
        held = cast(reg.SecurityInterest, await info.context.call(reg.get, str(id)))
        await info.context.call(reg.check_party, held.secured_party, me.funder_id, me.book)
        return _interest(await info.context.call(
            reg.discharge, str(id), on, info.context.user.username, _now()))  # fmt: skip
