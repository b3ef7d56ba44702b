"""Finance in GraphQL: products and matching, credit lines, applications and their decisions,
financings, the ledger's reports, e-credit vouchers and collateral.

Resolvers call the domain functions of `finance` off the event loop and translate their
dataclasses; money is BigInt minor units. Who may do what: relationship managers and the
matching service apply; credit officers review (never their own application), run the
financing steps and read the ledger; the service account runs voucher and drawdown
operations for the platform.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any, cast

import strawberry
from strawberry.types import Info

from api.errors import http_status_of
from api.graphql.context import Context
from api.graphql.documents import AttachedDocument, application_documents
from api.graphql.permissions import READERS, requires
from api.graphql.scalars import BigInt
from api.idempotency import idempotent
from api.security import Role
from decisions import disbursement as dd
from decisions import lifecycle as dl
from decisions import postloan as dp
from documents.financing_contracts import ContractNotSigned, require_signed
from documents.service import check_attachable
from finance import collateral as fc
from finance import credit_lines as cl
from finance import ledger as fl
from finance import lifecycle as lc
from finance import matching as fm
from finance import postloan as pl
from finance import vouchers as fv
from finance.errors import FinanceError, Forbidden
from finance.products import Product, catalogue
from graph.queries.documents import attach_documents

MATCHERS = (Role.SERVICE, Role.RELATIONSHIP_MANAGER, Role.CREDIT_OFFICER, Role.ANALYST)
CREDIT = (Role.CREDIT_OFFICER,)
CREDIT_READERS = (Role.CREDIT_OFFICER, Role.ANALYST, Role.RELATIONSHIP_MANAGER)
APPLICANTS = (Role.RELATIONSHIP_MANAGER, Role.SERVICE)
OPERATORS = (Role.CREDIT_OFFICER, Role.SERVICE)


def _field(description: str, roles: tuple[Role, ...]) -> Any:
    return strawberry.field(extensions=requires(*roles), description=description)


def _mutation(description: str, roles: tuple[Role, ...]) -> Any:
    return strawberry.mutation(extensions=requires(*roles), description=description)


@strawberry.type(description="A product from the declarative catalogue (finance/products).")
class FinanceProduct:
    id: strawberry.ID
    name: str
    kind: str
    description: str
    recourse: bool
    collateral: str
    advance_rate_bps: int
    tenor_days: int
    day_count: str
    base_rate_bps: int
    version: str = strawberry.field(
        description="The version in force (product:<id>@<n>, or @shipped for the "
        "definition shipped with ChainLens): productVersions lists them.")


@strawberry.type(description="A product an enterprise fits, with indicative terms and why.")
class ProductMatch:
    product_id: strawberry.ID
    product_name: str
    kind: str
    eligible: bool
    verdict: str
    amount: BigInt
    rate_bps: int
    tenor_days: int
    currency: str
    reasons: list[str]
    collateral_ids: list[strawberry.ID] = strawberry.field(
        description="What the offer was sized on (open receivables, orders, warehouse "
        "receipts, assets or vouchers, by the product's collateral): name them in "
        "submitApplication's collateralIds. Empty for an ineligible product.")
    product_version: str = strawberry.field(
        description="The version of the product in force, whose terms these are.")


@strawberry.type
class CreditLineUsage:
    id: strawberry.ID
    kind: str
    status: str
    currency: str
    limit: BigInt
    used: BigInt
    held: BigInt
    available: BigInt
    expires_on: date | None


def _line(u: cl.LineUsage) -> CreditLineUsage:
    return CreditLineUsage(
        id=strawberry.ID(u.id), kind=u.kind, status=u.status, currency=u.currency,
        limit=BigInt(u.limit_minor), used=BigInt(u.used_minor), held=BigInt(u.held_minor),
        available=BigInt(u.available_minor), expires_on=u.expires_on,
    )  # fmt: skip


@strawberry.type(description="A decision on an application: automatic (policy) or a review.")
class Decision:
    id: strawberry.ID
    kind: str
    actor: str
    verdict: str
    reasons: list[str]
    amount: BigInt
    rate_bps: int
    policy_version: str
    decided_at: datetime
    inputs: strawberry.scalars.JSON
    rules: list[str] | None = strawberry.field(
        default=None, description="The rule set's rows that fired (automatic decisions by a "
        "rule set).")  # fmt: skip
    arm: str | None = strawberry.field(
        default=None, description="champion or challenger: the application's arm while a "
        "challenger ran (null when none did).")  # fmt: skip
    challenger_version: str | None = None
    challenger_verdict: str | None = strawberry.field(
        default=None, description="The challenger's verdict (its arm only); the champion's "
        "decided.")  # fmt: skip
    challenger_amount: BigInt | None = None
    challenger_reasons: list[str] | None = None
    challenger_rules: list[str] | None = None
    product_version: str | None = strawberry.field(
        default=None, description="The product version it applied (product:<id>@<n>, or "
        "@shipped); null for decisions made before products were versioned.")  # fmt: skip
    conditions: list[str] | None = strawberry.field(
        default=None, description="The conditions the rule set's condition rows attached "
        "(automatic decisions; the application and its financing carry them).")  # fmt: skip


def _decision(d: dict[str, Any]) -> Decision:
    at = d["decided_at"]
    ca = d.get("challenger_amount_minor")
    return Decision(
        id=strawberry.ID(d["id"]), kind=d["kind"], actor=d["actor"], verdict=d["verdict"],
        reasons=list(d["reasons"]), amount=BigInt(d["amount_minor"]), rate_bps=d["rate_bps"],
        policy_version=d["policy_version"],
        decided_at=at.to_native() if hasattr(at, "to_native") else at,
        inputs=json.loads(d.get("inputs") or "{}"),
        rules=d.get("rules"), arm=d.get("arm"), challenger_version=d.get("challenger_version"),
        challenger_verdict=d.get("challenger_verdict"),
        challenger_amount=None if ca is None else BigInt(ca),
        challenger_reasons=d.get("challenger_reasons"),
        challenger_rules=d.get("challenger_rules"),
        product_version=d.get("product_version"), conditions=d.get("conditions"),
    )  # fmt: skip


@strawberry.type
class Application:
    id: strawberry.ID
    enterprise_id: strawberry.ID
    product_id: strawberry.ID
    amount: BigInt
    currency: str
    status: str
    maker: str
    collateral_ids: list[str]
    financing_id: strawberry.ID | None
    reasons: list[str]
    decided_amount: BigInt
    rate_bps: int
    policy_version: str
    checker: str | None
    conditions: list[str]
    created_at: datetime | None
    funder_id: strawberry.ID = strawberry.field(
        description="The funder whose book it is in (`default`: the platform's first).")
    product_version: str | None = strawberry.field(
        default=None, description="The product version in force when it was decided "
        "(product:<id>@<n>, or @shipped): its review and financing keep these terms.")

    @strawberry.field(description="Every decision on this application, oldest first.")
    async def decisions(self, info: Info[Context, None]) -> list[Decision]:
        rows = await info.context.call(lc.decisions, str(self.id))
        return [_decision(d) for d in rows]

    @strawberry.field(description="The documents attached to it (given at submission or by "
                      "attachDocument), oldest first, each with its verification.")  # fmt: skip
    async def documents(self, info: Info[Context, None]) -> list[AttachedDocument]:
        return await application_documents(info, str(self.id))


def _app(a: lc.Application) -> Application:
    return Application(
        id=strawberry.ID(a.id), enterprise_id=strawberry.ID(a.enterprise_id),
        product_id=strawberry.ID(a.product_id), amount=BigInt(a.amount_minor),
        currency=a.currency, status=a.status.value, maker=a.maker,
        collateral_ids=a.collateral_ids,
        financing_id=strawberry.ID(a.financing_id) if a.financing_id else None,
        reasons=a.reasons, decided_amount=BigInt(a.decided_amount_minor), rate_bps=a.rate_bps,
        policy_version=a.policy_version, checker=a.checker, conditions=a.conditions,
        created_at=a.created_at, funder_id=strawberry.ID(a.funder_id),
        product_version=a.product_version,
    )  # fmt: skip


@strawberry.type(
    description="A financing: loaded from a lender's book (origin `loaded`: no "
    "application, product or servicing here) or originated through ChainLens."
)
class Financing:
    id: strawberry.ID
    origin: str
    lender: str
    product_kind: str | None
    application_id: strawberry.ID | None
    borrower_id: strawberry.ID
    product_id: strawberry.ID | None
    status: str
    currency: str
    amount: BigInt
    rate_bps: int
    day_count: str | None
    line_id: strawberry.ID | None
    outstanding: BigInt
    interest_due: BigInt
    start_on: date | None
    maturity_on: date | None
    accrued_through: date | None
    days_past_due: int
    risk_class: str
    provision: BigInt
    tenor_days: int | None
    conditions: list[str]
    funder_id: strawberry.ID = strawberry.field(
        description="The funder whose book it is in (the loaded book's is `default`).")
    ledger_accounts: list[strawberry.ID] = strawberry.field(
        description="Its principal and interest receivable accounts (accountStatement "
        "reads their postings); none for a financing loaded from a lender's book.")
    product_version: str | None = strawberry.field(
        default=None, description="The product version that priced it; its servicing "
        "(fees, accrual) keeps that version whatever is published later.")
    contract_document_id: strawberry.ID | None = strawberry.field(
        default=None, description="The signed contract (a Document, financingContract) "
        "signContract verified; null before signContract.")
    contract_sha256: str | None = strawberry.field(
        default=None, description="SHA-256 of that contract PDF, signed by both parties, as "
        "signContract verified it.")

    @strawberry.field(description="Collections contacts and inspections, oldest first.")
    async def follow_ups(self, info: Info[Context, None]) -> list[FollowUp]:
        return [_follow_up(u) for u in await info.context.call(pl.follow_ups, str(self.id))]


@strawberry.type(description="A collections contact or a post-loan inspection of a financing.")
class FollowUp:
    id: strawberry.ID
    financing_id: strawberry.ID
    kind: str
    on: date
    note: str
    outcome: str
    promised: BigInt | None
    promised_on: date | None
    recorded_by: str
    recorded_at: datetime


def _follow_up(u: pl.FollowUp) -> FollowUp:
    return FollowUp(
        id=strawberry.ID(u.id), financing_id=strawberry.ID(u.financing_id), kind=u.kind,
        on=u.on, note=u.note, outcome=u.outcome,
        promised=BigInt(u.promised_minor) if u.promised_minor is not None else None,
        promised_on=u.promised_on, recorded_by=u.recorded_by, recorded_at=u.recorded_at,
    )  # fmt: skip


@strawberry.type(description="What one end-of-day run did.")
class EndOfDayRun:
    as_of: date
    expired: int
    accrued: int
    reviewed: int
    maturity_warnings: int
    overdue_alerts: int
    early_warnings: int = strawberry.field(
        description="new early-warning alerts raised by the post-loan rule set in force"
    )
    overdue_vouchers: int = strawberry.field(
        description="e-credit voucher pieces unpaid at maturity, marked overdue by this run"
    )
    voucher_alerts: int = strawberry.field(
        description="new voucher_overdue alerts (one per voucher tree and maturity)"
    )


def _fin(f: lc.Financing) -> Financing:
    return Financing(
        id=strawberry.ID(f.id), origin=f.origin.value, lender=f.lender,
        product_kind=f.product_kind,
        application_id=strawberry.ID(f.application_id) if f.application_id else None,
        borrower_id=strawberry.ID(f.borrower_id),
        product_id=strawberry.ID(f.product_id) if f.product_id else None,
        status=f.status.value, currency=f.currency, amount=BigInt(f.amount_minor),
        rate_bps=f.rate_bps, day_count=f.day_count.value if f.day_count else None,
        line_id=strawberry.ID(f.line_id) if f.line_id else None,
        outstanding=BigInt(f.outstanding_minor), interest_due=BigInt(f.interest_due_minor),
        start_on=f.start_on, maturity_on=f.maturity_on, accrued_through=f.accrued_through,
        days_past_due=f.dpd, risk_class=f.risk_class.value, provision=BigInt(f.provision_minor),
        tenor_days=f.tenor_days, conditions=f.conditions, funder_id=strawberry.ID(f.funder_id),
        ledger_accounts=[strawberry.ID(a) for a in lc.ledger_accounts(f)],
        product_version=f.product_version,
        contract_document_id=(strawberry.ID(f.contract_document_id)
                              if f.contract_document_id else None),
        contract_sha256=f.contract_sha256,
    )  # fmt: skip


@strawberry.type
class Repayment:
    financing: Financing
    interest_paid: BigInt
    principal_paid: BigInt
    fee: BigInt


@strawberry.type
class TrialBalanceLine:
    code: str
    kind: str
    debits: BigInt
    credits: BigInt
    balance: BigInt


@strawberry.type
class TrialBalance:
    currency: str | None
    funder_id: strawberry.ID | None = strawberry.field(
        description="The funder whose book this is; null: every account on the platform.")
    lines: list[TrialBalanceLine]
    total_debits: BigInt
    total_credits: BigInt
    balanced: bool


@strawberry.type(description="An account's totals from its transfers up to a time.")
class AccountBalance:
    account_id: strawberry.ID
    debits_posted: BigInt
    credits_posted: BigInt
    debits_pending: BigInt
    credits_pending: BigInt
    debit_balance: BigInt


@strawberry.type
class StatementLine:
    transfer_id: strawberry.ID
    value_at: datetime
    kind: str
    code: str
    ref: str
    debit: BigInt
    credit: BigInt
    balance: BigInt


@strawberry.type
class Voucher:
    id: strawberry.ID
    root_id: strawberry.ID
    parent_id: strawberry.ID | None
    core_id: strawberry.ID
    face: BigInt
    currency: str
    issued_on: date
    due_on: date
    status: str
    holder_id: strawberry.ID | None
    holders: list[str]
    line_funder_id: strawberry.ID = strawberry.field(
        description="The funder whose supply-chain line it occupies: its hops, the core's "
                    "payment and the holders' at maturity are in that funder's book.")  # fmt: skip


def _voucher(v: fv.Voucher) -> Voucher:
    return Voucher(
        id=strawberry.ID(v.id), root_id=strawberry.ID(v.root_id),
        parent_id=strawberry.ID(v.parent_id) if v.parent_id else None,
        core_id=strawberry.ID(v.core_id), face=BigInt(v.face_minor), currency=v.currency,
        issued_on=v.issued_on, due_on=v.due_on, status=v.status,
        holder_id=strawberry.ID(v.holder_id) if v.holder_id else None, holders=v.holders,
        line_funder_id=strawberry.ID(v.line_funder_id),
    )  # fmt: skip


@strawberry.type
class TierHolders:
    tier: int
    enterprise_ids: list[str]


@strawberry.type(description="How far down the chain a core's credit reached via vouchers.")
class VoucherReach:
    core_id: strawberry.ID
    max_tier: int
    tiers: list[TierHolders]


@strawberry.type
class LoanToValue:
    financing_id: strawberry.ID
    exposure: BigInt
    collateral_value: BigInt
    ltv_bps: int | None
    max_ltv_bps: int | None


@strawberry.type
class Drawdown:
    request_id: strawberry.ID
    line_id: strawberry.ID
    amount: BigInt
    transfer_id: strawberry.ID


@strawberry.input
class ApplicationInput:
    id: strawberry.ID = strawberry.field(description="Idempotency key chosen by the caller.")
    enterprise_id: strawberry.ID
    product_id: strawberry.ID
    amount: BigInt
    currency: str = "CNY"
    collateral_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    document_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Uploaded documents (licences, invoices, contracts) that concern the "
        "applicant, attached to the application; the decision reads their verification.",
    )


@strawberry.type
class FinanceQuery:
    @_field("The product catalogue: every product at its version in force now (the "
            "platform's and the caller's funder's own).", READERS)  # fmt: skip
    async def finance_products(self, info: Info[Context, None]) -> list[FinanceProduct]:
        products = cast(dict[str, Product], await info.context.call(
            catalogue, None, info.context.user.book))  # fmt: skip
        return [
            FinanceProduct(
                id=strawberry.ID(p.id), name=p.name, kind=p.kind.value,
                description=p.description, recourse=p.recourse, collateral=p.collateral.value,
                advance_rate_bps=p.advance_rate_bps, tenor_days=p.tenor_days,
                day_count=p.day_count.value, base_rate_bps=p.pricing.base_rate_bps,
                version=p.version,
            )
            for p in products.values()
        ]

    @_field("Products an enterprise is eligible for, best first, with terms and reasons.",
            MATCHERS)  # fmt: skip
    async def product_matches(
        self, info: Info[Context, None], enterprise_id: strawberry.ID, currency: str = "CNY",
        include_ineligible: bool = False,
    ) -> list[ProductMatch]:  # fmt: skip
        # The approval rule set in force sizes the offers (its hits are not counted: a
        # match is not a decision).
        evaluator = await info.context.call(dl.evaluator, dl.APPROVAL, False)
        found = cast(list[fm.ProductMatch], await info.context.call(
            fm.match_products, str(enterprise_id), currency, include_ineligible,
            evaluator=evaluator, funder=info.context.user.writes_for))
        return [
            ProductMatch(
                product_id=strawberry.ID(m.product_id), product_name=m.product_name,
                kind=m.kind, eligible=m.eligible, verdict=m.verdict,
                amount=BigInt(m.amount_minor), rate_bps=m.rate_bps, tenor_days=m.tenor_days,
                currency=m.currency, reasons=m.reasons,
                collateral_ids=[strawberry.ID(c) for c in m.collateral_ids],
                product_version=m.product_version,
            )
            for m in found
        ]

    @_field("A credit line's limit, use, holds and status.", CREDIT_READERS)
    async def credit_line(self, info: Info[Context, None], id: strawberry.ID) -> CreditLineUsage:
        return _line(await info.context.call(cl.usage, str(id)))

    @_field("Every credit line granted to an enterprise.", CREDIT_READERS)
    async def credit_lines(
        self, info: Info[Context, None], enterprise_id: strawberry.ID
    ) -> list[CreditLineUsage]:
        return [_line(u) for u in await info.context.call(cl.lines_of, str(enterprise_id))]

    @_field("An application with its decisions; the service account reads only those it "
            "submitted.", (*CREDIT_READERS, Role.SERVICE))  # fmt: skip
    async def application(self, info: Info[Context, None], id: strawberry.ID) -> Application:
        app = cast(lc.Application, await info.context.call(lc.get_application, str(id)))
        _originated_by_caller(info, app.maker)
        return _app(app)

    @_field("A financing of either origin and where it stands; the service account reads "
            "only those it originated.", (*CREDIT_READERS, Role.SERVICE))  # fmt: skip
    async def financing(self, info: Info[Context, None], id: strawberry.ID) -> Financing:
        fin = cast(lc.Financing, await info.context.call(lc.get_financing, str(id)))
        if not info.context.user.has_any(frozenset(CREDIT_READERS)):
            maker = None
            if fin.application_id:
                app = await info.context.call(lc.get_application, fin.application_id)
                maker = cast(lc.Application, app).maker
            _originated_by_caller(info, maker)
        return _fin(fin)

    @_field("Posted debits and credits per chart code of one funder's book; balanced when "
            "they agree. A funder's users read their own funder's (funderId, when given, must "
            "be it; unbound staff's is the default funder's); an unbound caller of every "
            "funder's book names one, or reads the whole platform without.",
            (Role.CREDIT_OFFICER, Role.ANALYST))  # fmt: skip
    async def trial_balance(
        self, info: Info[Context, None], currency: str | None = "CNY",
        funder_id: strawberry.ID | None = None,
    ) -> TrialBalance:  # fmt: skip
        book = info.context.user.book
        if book is not None and funder_id is not None and str(funder_id) != book:
            raise Forbidden("a funder's users read only their own funder's trial balance")
        funder = str(funder_id) if funder_id is not None else book
        tb = cast(fl.TrialBalance,
                  await info.context.call(fl.trial_balance, currency, funder))  # fmt: skip
        return TrialBalance(
            currency=tb.currency,
            funder_id=strawberry.ID(tb.funder_id) if tb.funder_id is not None else None,
            lines=[TrialBalanceLine(code=x.code, kind=x.kind, debits=BigInt(x.debits),
                                    credits=BigInt(x.credits), balance=BigInt(x.balance))
                   for x in tb.lines],
            total_debits=BigInt(tb.total_debits), total_credits=BigInt(tb.total_credits),
            balanced=tb.balanced,
        )  # fmt: skip

    @_field("Posted movements of a ledger account with the running balance.",
            (Role.CREDIT_OFFICER, Role.ANALYST))  # fmt: skip
    async def account_statement(
        self, info: Info[Context, None], account_id: strawberry.ID,
        since: datetime | None = None, until: datetime | None = None,
    ) -> list[StatementLine]:  # fmt: skip
        lines = cast(list[fl.StatementLine],
                     await info.context.call(fl.statement, str(account_id), since, until))
        return [
            StatementLine(
                transfer_id=strawberry.ID(x.transfer_id), value_at=x.value_at,
                kind=x.kind.value, code=x.code, ref=x.ref, debit=BigInt(x.debit),
                credit=BigInt(x.credit), balance=BigInt(x.balance),
            )
            for x in lines
        ]

    @_field("An account's balances as of a time (all transfers when omitted).",
            (Role.CREDIT_OFFICER, Role.ANALYST))  # fmt: skip
    async def account_balance(
        self, info: Info[Context, None], account_id: strawberry.ID, at: datetime | None = None
    ) -> AccountBalance:
        b = cast(fl.Balance, await info.context.call(fl.balance_as_of, str(account_id), at))
        return AccountBalance(
            account_id=strawberry.ID(b.account_id), debits_posted=BigInt(b.debits_posted),
            credits_posted=BigInt(b.credits_posted), debits_pending=BigInt(b.debits_pending),
            credits_pending=BigInt(b.credits_pending), debit_balance=BigInt(b.debit_balance),
        )  # fmt: skip

    @_field("A voucher tree: the root and every piece, with holders.", READERS)
    async def voucher_tree(
        self, info: Info[Context, None], root_id: strawberry.ID
    ) -> list[Voucher]:
        return [_voucher(v) for v in await info.context.call(fv.tree, str(root_id))]

    @_field("How far down its chain a core's credit reached through vouchers.", READERS)
    async def voucher_reach(
        self, info: Info[Context, None], core_id: strawberry.ID
    ) -> VoucherReach:
        r = cast(fv.Reach, await info.context.call(fv.reach, str(core_id)))
        return VoucherReach(
            core_id=strawberry.ID(r.core_id), max_tier=r.max_tier,
            tiers=[TierHolders(tier=t, enterprise_ids=ids)
                   for t, ids in sorted(r.holders_by_tier.items())],
        )  # fmt: skip

    @_field("Loan-to-value of a financing from its collateral's latest values.", CREDIT_READERS)
    async def loan_to_value(
        self, info: Info[Context, None], financing_id: strawberry.ID
    ) -> LoanToValue:
        x = cast(fc.LoanToValue, await info.context.call(fc.loan_to_value, str(financing_id)))
        return LoanToValue(
            financing_id=strawberry.ID(x.financing_id), exposure=BigInt(x.exposure_minor),
            collateral_value=BigInt(x.collateral_value_minor), ltv_bps=x.ltv_bps,
            max_ltv_bps=x.max_ltv_bps,
        )  # fmt: skip


def _originated_by_caller(info: Info[Context, None], maker: str | None) -> None:
    """The service account (the matching engine) reads only what it submitted itself."""
    user = info.context.user
    if user.has_any(frozenset(CREDIT_READERS)):
        return
    if maker is None or maker != user.username:
        raise Forbidden("the service account reads only the applications and financings it "
                        "originated")  # fmt: skip


def _maker_role(info: Info[Context, None]) -> str:
    roles = info.context.user.roles
    if Role.SERVICE in roles:
        return "service"
    if Role.RELATIONSHIP_MANAGER in roles:
        return "relationship_manager"
    return "admin"


def _checker_role(info: Info[Context, None]) -> str:
    return "credit_officer" if Role.CREDIT_OFFICER in info.context.user.roles else "admin"


@strawberry.type
class FinanceMutation:
    @_mutation("Apply for financing; decided automatically at once (retry-safe by id).",
               APPLICANTS)  # fmt: skip
    async def submit_application(
        self, info: Info[Context, None], input: ApplicationInput
    ) -> Application:
        req = lc.ApplicationCreate(
            id=str(input.id), enterprise_id=str(input.enterprise_id),
            product_id=str(input.product_id), amount_minor=int(input.amount),
            currency=input.currency, collateral_ids=[str(c) for c in input.collateral_ids],
            maker=info.context.user.username, maker_role=_maker_role(info),
            funder_id=info.context.user.writes_for,
        )  # fmt: skip
        # Documents given with it must concern the applicant; they are attached once it is
        # recorded, and the decision reads their verification (`documents_cited`, ...).
        document_ids = sorted({str(d) for d in input.document_ids})
        if document_ids:
            await info.context.call(check_attachable, req.enterprise_id, document_ids)
        # Decided by the approval rule set in force now (package decisions), with its
        # challenger, if one runs, beside it on the application's arm.
        evaluator = await info.context.call(
            dl.evaluator, dl.APPROVAL, True, str(input.id), req.collateral_ids, req.funder_id,
            document_ids,
        )  # fmt: skip
        app = await info.context.call(lc.submit_application, req, evaluator=evaluator)
        if document_ids:
            await info.context.call(
                attach_documents, app.id, document_ids, info.context.user.username,
                datetime.now(UTC).isoformat(timespec="milliseconds"),
            )  # fmt: skip
        return _app(app)

    @_mutation("Approve or reject a referred application (not your own); an approval may "
               "change the amount (up to what was asked), the rate or the tenor and attach "
               "conditions. The same decision sent again returns the application.",
               CREDIT)  # fmt: skip
    async def review_application(
        self, info: Info[Context, None], id: strawberry.ID, approve: bool, note: str = "",
        amount: BigInt | None = None, rate_bps: int | None = None,
        tenor_days: int | None = None, conditions: list[str] | None = None,
    ) -> Application:  # fmt: skip
        terms = lc.ReviewTerms(
            amount_minor=int(amount) if amount is not None else None, rate_bps=rate_bps,
            tenor_days=tenor_days, conditions=tuple(conditions or ()),
        )  # fmt: skip
        return _app(await info.context.call(
            lc.review_application, str(id), info.context.user.username, _checker_role(info),
            approve, note, None, terms))  # fmt: skip

    @_mutation("Cancel an approved or contracted financing before disbursement: the line "
               "hold is voided and the collateral freed.", CREDIT)  # fmt: skip
    async def cancel_financing(
        self, info: Info[Context, None], financing_id: strawberry.ID, reason: str
    ) -> Financing:
        return _fin(await info.context.call(lc.cancel, str(financing_id), reason))

    @_mutation("Write off a doubtful or loss financing against its provision.", CREDIT)
    async def write_off_financing(
        self, info: Info[Context, None], financing_id: strawberry.ID, on: date
    ) -> Financing:
        return _fin(await info.context.call(
            lc.write_off, str(financing_id), info.context.user.username, _checker_role(info),
            on))  # fmt: skip

    @_mutation("Record a collections contact or a post-loan inspection (retry-safe by id).",
               (Role.CREDIT_OFFICER, Role.RELATIONSHIP_MANAGER))  # fmt: skip
    async def record_follow_up(
        self, info: Info[Context, None], id: strawberry.ID, financing_id: strawberry.ID,
        kind: str, on: date, note: str, outcome: str = "", promised: BigInt | None = None,
        promised_on: date | None = None,
    ) -> FollowUp:  # fmt: skip
        try:
            follow_kind = pl.FollowUpKind(kind)
        except ValueError:
            raise FinanceError(
                f"kind must be one of {', '.join(k.value for k in pl.FollowUpKind)}"
            ) from None
        req = pl.FollowUpCreate(
            id=str(id), financing_id=str(financing_id), kind=follow_kind, on=on, note=note,
            recorded_by=info.context.user.username, outcome=outcome,
            promised_minor=int(promised) if promised is not None else None,
            promised_on=promised_on,
        )  # fmt: skip
        return _follow_up(await info.context.call(pl.record_follow_up, req))

    @_mutation("The end-of-day job as of a date: undrawn approvals expired, accrual, days past "
               "due, five-tier class, provisions, alerts before maturity and on overdue, "
               "e-credit vouchers unpaid at maturity marked overdue (with an alert), then "
               "the post-loan rule set's early warnings (idempotent for a day).",
               CREDIT)  # fmt: skip
    async def run_end_of_day(self, info: Info[Context, None], as_of: date) -> EndOfDayRun:
        r = cast(pl.EndOfDay, await info.context.call(
            pl.end_of_day, as_of, dp.end_of_day_rules))  # fmt: skip
        return EndOfDayRun(
            as_of=as_of, expired=r.expired, accrued=r.accrued, reviewed=r.reviewed,
            maturity_warnings=r.maturity_warnings, overdue_alerts=r.overdue_alerts,
            early_warnings=r.early_warnings, overdue_vouchers=r.overdue_vouchers,
            voucher_alerts=r.voucher_alerts,
        )  # fmt: skip

    @_mutation("Make an approved financing contracted. Its newest contract "
               "(generateFinancingContract) must carry valid, timestamped signatures of the "
               "borrower and of the funder (signFinancingContract); otherwise "
               "CONTRACT_NOT_SIGNED (HTTP 409) naming the party missing, and nothing changes. "
               "The financing records the contract's document id and SHA-256.",
               CREDIT)  # fmt: skip
    async def sign_contract(
        self, info: Info[Context, None], financing_id: strawberry.ID, contract_no: str
    ) -> Financing:
        context, fid = info.context, str(financing_id)
        try:
            contract = None
            if (await context.call(lc.get_financing, fid)).status is lc.FinStatus.APPROVED:
                contract = await context.call(require_signed, context.settings, fid)
            # (any other state: the step itself refuses it, INVALID_STATE)
            fin = await context.call(lc.sign_contract, fid, contract_no, contract=contract)
        except ContractNotSigned as e:
            if context.response is not None:
                context.response.status_code = http_status_of(e)
            raise
        return _fin(fin)

    @_mutation("Disburse a contracted financing on a date, once the disbursement rule set in "
               "force (the borrower's status and scores now) does not decline it.",
               CREDIT)  # fmt: skip
    async def disburse(
        self, info: Info[Context, None], financing_id: strawberry.ID, on: date
    ) -> Financing:
        return _fin(await info.context.call(dd.disburse, str(financing_id), on))

    @_mutation("Apply a repayment (interest first, then principal). Retry-safe by request id, "
               "which is the caller's own: the same id again answers the first repayment, "
               "with other arguments it is refused (CONFLICT).", OPERATORS)  # fmt: skip
    async def repay(
        self, info: Info[Context, None], financing_id: strawberry.ID, amount: BigInt, on: date,
        request_id: strawberry.ID, payer_id: strawberry.ID | None = None,
    ) -> Repayment:  # fmt: skip
        payload = {"financing_id": str(financing_id), "amount": int(amount), "on": on,
                   "payer_id": str(payer_id) if payer_id else None}  # fmt: skip

        async def run(req: str) -> dict[str, Any]:
            r = cast(lc.Repayment, await info.context.call(
                lc.repay, str(financing_id), int(amount), on, req,
                str(payer_id) if payer_id else None))  # fmt: skip
            return {"interest": r.interest_paid_minor, "principal": r.principal_paid_minor,
                    "fee": r.fee_minor}  # fmt: skip

        paid = await idempotent(info.context.call, info.context.user.username, "repay",
                                str(request_id), payload, run)  # fmt: skip
        fin = cast(lc.Financing, await info.context.call(lc.get_financing, str(financing_id)))
        return Repayment(
            financing=_fin(fin),
            interest_paid=BigInt(paid["interest"]),
            principal_paid=BigInt(paid["principal"]),
            fee=BigInt(paid["fee"]),
        )

    @_mutation("Occupy a credit line and pay out, all or nothing. Retry-safe by request id, "
               "which is the caller's own: the same id again answers the first drawdown, "
               "with other arguments it is refused (CONFLICT).", OPERATORS)  # fmt: skip
    async def drawdown(
        self, info: Info[Context, None], line_id: strawberry.ID, amount: BigInt,
        request_id: strawberry.ID,
    ) -> Drawdown:  # fmt: skip
        async def run(req: str) -> dict[str, Any]:
            # Committed with the other ledger writes waiting (finance/batching.py).
            d = await info.context.commit(cl.DrawdownJob(str(line_id), int(amount), req))
            return {"line_id": d.line_id, "amount": d.amount_minor, "transfer_id": d.transfer_id}

        d = await idempotent(info.context.call, info.context.user.username, "drawdown",
                             str(request_id), {"line_id": str(line_id), "amount": int(amount)},
                             run)  # fmt: skip
        return Drawdown(
            request_id=request_id,
            line_id=strawberry.ID(d["line_id"]),
            amount=BigInt(d["amount"]),
            transfer_id=strawberry.ID(d["transfer_id"]),
        )

    @_mutation("Split a live voucher into pieces (`<id>.1`, `<id>.2`, ...) that sum to it: "
               "by the staff of the funder whose line it occupies, or the holder's own user. "
               "Retry-safe by request id: the same id again answers the pieces, with other "
               "arguments it is refused (CONFLICT).", OPERATORS)  # fmt: skip
    async def split_voucher(
        self, info: Info[Context, None], id: strawberry.ID, amounts: list[BigInt], on: date,
        request_id: strawberry.ID,
    ) -> list[Voucher]:  # fmt: skip
        parts = [int(a) for a in amounts]

        async def run(req: str) -> dict[str, Any]:
            got = cast(list[fv.Voucher], await info.context.call(
                fv.split, str(id), parts, on, req, info.context.user.enterprise_id))
            return {"ids": [v.id for v in got]}

        done = await idempotent(info.context.call, info.context.user.username, "splitVoucher",
                                str(request_id), {"id": str(id), "amounts": parts, "on": on},
                                run)  # fmt: skip
        return [_voucher(await info.context.call(fv.get, v)) for v in done["ids"]]

    @_mutation("Pass a live voucher to a supplier of its holder (up the chain, tier by tier): "
               "by the staff of the funder whose line it occupies, or the holder's own user. "
               "Retry-safe by request id: the same id again answers the voucher, with other "
               "arguments it is refused (CONFLICT).", OPERATORS)  # fmt: skip
    async def transfer_voucher(
        self, info: Info[Context, None], id: strawberry.ID, to_enterprise_id: strawberry.ID,
        on: date, request_id: strawberry.ID,
    ) -> Voucher:  # fmt: skip
        payload = {"id": str(id), "to": str(to_enterprise_id), "on": on}

        async def run(req: str) -> dict[str, Any]:
            await info.context.call(fv.transfer, str(id), str(to_enterprise_id), on, req,
                                    info.context.user.enterprise_id)  # fmt: skip
            return {"id": str(id)}

        await idempotent(info.context.call, info.context.user.username, "transferVoucher",
                         str(request_id), payload, run)  # fmt: skip
        return _voucher(await info.context.call(fv.get, str(id)))
