"""Whose records each root field reads or writes: every query, mutation and subscription
declares a scope here, and `ScopeGuard` enforces it before the resolver runs.

Several funders share the platform (docs/api.md#several-funders). The chain graph, risk
scores, the registry of security interests and the product catalogue are shared; a funder's
book (applications, financings, credit lines, decisions, ledger accounts) is its own. The
caller's funder is `CurrentUser.book`: its funder when bound, the default funder for unbound
staff, every funder for an unbound admin. Enforcement is where the data is read:

- ``FUNDER`` lists filter in their Cypher by the caller's funder (`graph/queries/lists.py`)
  and writes stamp the caller's funder on what they create;
- ``OWNED`` fields name one record of the book by an argument; the guard reads that record's
  funder (`graph.funders.funder_of`) and answers NOT_FOUND, as for an unknown id, when it is
  another funder's;
- ``DEFAULT_BOOK`` fields are not split by funder yet (the portfolio, sensors,
  cases, platform jobs): only callers of the default funder's book or every funder's may
  call them, so another funder's user reads nothing of them;
- ``SHARED`` fields answer everyone alike.

An enterprise's user (bound to a core or a supplier) may call a field only where its entry
says how it is narrowed to that firm (``party``): ``"filtered"`` when the list narrows itself,
or the argument that must name the user's own enterprise. Anything else is refused.

A root field missing here is refused at run time and fails `tests/security/test_scoping.py`,
so a new field cannot ship without a declared scope.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from strawberry.extensions import SchemaExtension

from finance.errors import Forbidden, NotFound
from graph.funders import funder_of
from graph.model import DEFAULT_FUNDER, Label


class Scope(StrEnum):
    SHARED = "shared"
    FUNDER = "funder"
    OWNED = "owned"
    DEFAULT_BOOK = "default_book"


FILTERED = "filtered"  # `party`: the field narrows itself to an enterprise user's own firm


@dataclass(frozen=True)
class Scoping:
    scope: Scope
    label: Label | None = None  # OWNED: the label of the record the argument names
    arg: str | None = None  # OWNED: the argument (dotted for an input's field)
    party: str | None = None  # an enterprise user's narrowing: FILTERED or an argument

    @property
    def describe(self) -> str:
        out = str(self.scope)
        if self.scope is Scope.OWNED:
            out += f" ({self.label} by `{self.arg}`)"
        if self.party is not None:
            out += "; enterprise users: " + ("own records" if self.party == FILTERED
                                              else f"own `{self.party}`")  # fmt: skip
        return out


SHARED = Scoping(Scope.SHARED)
FUNDER = Scoping(Scope.FUNDER)
DEFAULT_BOOK = Scoping(Scope.DEFAULT_BOOK)


def owned(label: Label, arg: str, party: str | None = None) -> Scoping:
    return Scoping(Scope.OWNED, label, arg, party)


def shared(party: str) -> Scoping:
    return Scoping(Scope.SHARED, party=party)


SCOPES: Mapping[str, Scoping] = {
    # ---- the chain graph, risk scores, products: shared by every funder ----------------
    **{f"Query.{name}": SHARED for name in (
        "actualController", "chainView", "circularTrade", "controlledGroup", "enterprise",
        "enterpriseList", "explore", "fourFlowContract", "fourFlowInvoice",
        "guaranteeChains", "guaranteeCircle", "guaranteeCircles", "indicatorCatalogue",
        "matchCandidates", "ownership", "prospects", "relatedParties",
        "riskScore", "searchEnterprises", "shortestTradePath", "stats", "tiers",
        "tradePaths", "ultimateOwners", "whatIf",
        "voucherReach",
        # the registry of security interests is public (as Zhongdeng's search is) and one for
        # the platform: every funder's staff register and discharge in it, for their own
        # funder only (`finance.registry.check_party`)
        "securityInterests",
    )},
    "Mutation.registerSecurityInterest": SHARED,
    "Mutation.dischargeSecurityInterest": SHARED,
    "Mutation.amendSecurityInterest": SHARED,  # its secured party's users (check_party)
    # ---- a funder's book -------------------------------------------------------------
    "Query.applications": Scoping(Scope.FUNDER, party=FILTERED),
    "Query.reviewQueue": FUNDER,
    "Query.financings": Scoping(Scope.FUNDER, party=FILTERED),
    "Query.creditLinesList": FUNDER,
    "Query.application": owned(Label.APPLICATION, "id"),
    "Query.financing": owned(Label.FINANCING, "id"),
    "Query.creditLine": owned(Label.CREDIT_LINE, "id"),
    "Query.loanToValue": owned(Label.FINANCING, "financingId"),
    "Query.financingCollateral": owned(Label.FINANCING, "financingId"),
    "Query.applicationCollateral": owned(Label.APPLICATION, "applicationId"),
    "Mutation.submitApplication": FUNDER,  # written into the caller's funder's book
    "Mutation.grantCreditLine": FUNDER,
    "Mutation.reviewApplication": owned(Label.APPLICATION, "id"),
    "Mutation.cancelFinancing": owned(Label.FINANCING, "financingId"),
    "Mutation.writeOffFinancing": owned(Label.FINANCING, "financingId"),
    "Mutation.signContract": owned(Label.FINANCING, "financingId"),
    "Mutation.disburse": owned(Label.FINANCING, "financingId"),
    "Mutation.repay": owned(Label.FINANCING, "financingId"),
    "Mutation.recordFollowUp": owned(Label.FINANCING, "financingId"),
    "Mutation.drawdown": owned(Label.CREDIT_LINE, "lineId"),
    "Mutation.changeCreditLimit": owned(Label.CREDIT_LINE, "id"),
    "Mutation.freezeCreditLine": owned(Label.CREDIT_LINE, "id"),
    "Mutation.unfreezeCreditLine": owned(Label.CREDIT_LINE, "id"),
    # the ledger: each funder's accounts (its trial balance, the settlement accounts that
    # enterprises keep with it, a voucher it discounts) are in its own book
    "Query.trialBalance": FUNDER,
    # the portfolio report: the caller's funder's financings (an unbound admin names one)
    "Query.portfolioReport": FUNDER,
    # four eyes on credit lines: a proposal is in its funder's book (the proposer's for a
    # grant, the line's for a limit) and decided by that funder's admins
    "Query.creditLineProposals": FUNDER,
    # exposures: the shared chain's firms and guarantees, the caller's funder's financings
    # and vouchers (an unbound admin names a funder, or sums every funder's)
    "Query.groupExposure": FUNDER,
    "Query.chainExposure": FUNDER,
    "Mutation.proposeCreditLine": FUNDER,
    "Mutation.proposeCreditLimit": owned(Label.CREDIT_LINE, "lineId"),
    "Mutation.decideCreditLineProposal": owned(Label.LINE_PROPOSAL, "id"),
    "Query.accountBalance": owned(Label.ACCOUNT, "accountId"),
    "Query.accountStatement": owned(Label.ACCOUNT, "accountId"),
    "Mutation.depositToSettlement": FUNDER,
    "Mutation.withdrawFromSettlement": FUNDER,
    "Mutation.discountVoucher": FUNDER,
    # offers to several funders: each funder decides its own; the borrower's side (the
    # default funder's staff, or the borrower's own user) offers and accepts
    "Mutation.decideOffer": owned(Label.APPLICATION, "id"),
    "Mutation.offerApplication": Scoping(Scope.DEFAULT_BOOK, party="input.enterpriseId"),
    "Mutation.acceptOffer": Scoping(Scope.DEFAULT_BOOK, party=FILTERED),
    # ---- the chain's receivables and vouchers: shared by funders, an enterprise's own --
    "Query.voucherList": shared(FILTERED),
    "Query.payables": shared("coreId"),
    "Mutation.confirmReceivable": shared("coreId"),
    "Mutation.issueVoucher": shared("input.coreId"),
    "Query.receivable": SHARED,
    "Query.voucherTree": SHARED,
    # a voucher's hops and clearing are in the book of the funder whose line it occupies:
    # that funder's staff, or the holder's (the issuing core's) own user, who is checked in
    # the write (`held_by`, `issued_by`)
    "Mutation.splitVoucher": owned(Label.VOUCHER, "id", party=FILTERED),
    "Mutation.transferVoucher": owned(Label.VOUCHER, "id", party=FILTERED),
    "Mutation.clearVoucher": owned(Label.VOUCHER, "rootId", party=FILTERED),
    # ---- not split by funder yet: the default funder's book and platform operations ---
    **{f"Query.{name}": DEFAULT_BOOK for name in (
        "creditLines",  # every line of an enterprise, of any funder (creditLinesList is split)
        "duplicatePledges",
        "assetReadings", "assetState", "cases", "auditEvents",
        "users", "ruleSets", "simulateRuleSet", "simulatePostloanRules",
        "ruleSetsInForce", "validateRuleSet",  # the rule editor (api/web/rules.html)
        "challengerComparison", "decisionRates",  # champion/challenger, rates over time
        "indicators",  # the policy's facts, with the default funder's line headroom
        "admission",  # the admission rules on an enterprise's facts (its arrears at any funder)
    )},
    **{f"Mutation.{name}": DEFAULT_BOOK for name in (
        "draftRuleSet", "publishRuleSet", "retireRuleSet", "expireCreditLines",
        "runEndOfDay", "issueReleaseOrder", "recordDisposition", "recordMatchDecision",
        "registerCollateral", "registerSensor", "revalueCollateral", "setCollateralLimits",
        "startChallenger", "stopChallenger",
    )},
    # alerts: an alert about financings or vouchers is in their funders' books, one about
    # neither is the shared chain's (`graph.funders.ALERT_IN_BOOK`); a funder's users read
    # and acknowledge their funder's (another's is NOT_FOUND) and read the shared chain's,
    # which the platform's staff acknowledge
    "Query.alerts": FUNDER,
    "Query.alertList": FUNDER,
    "Mutation.acknowledgeAlert": FUNDER,
    "Subscription.alertRaised": FUNDER,
    # training jobs on the bank's cases (admins; the cases are the default funder's book)
    "Query.trainingJob": DEFAULT_BOOK,
    "Mutation.startTrainingJob": DEFAULT_BOOK,
    "Subscription.trainingJobProgress": DEFAULT_BOOK,
    # signed contracts (docs/documents.md): a chain Contract's signed PDFs, verified against
    # the platform's trust root; contracts are the shared chain graph, not a funder's book
    "Query.signedContractDocuments": SHARED,
    "Mutation.uploadSignedContract": SHARED,
    # contract review and attachments (docs/documents.md): reviewed against, and attached
    # to, an application or financing of the caller's book; a review made against another
    # funder's reads as none (`documents.service.stored_review` checks the funder it records)
    "Mutation.reviewContract": owned(Label.APPLICATION, "applicationId"),
    "Mutation.reviewFinancingContract": owned(Label.FINANCING, "financingId"),
    "Query.contractReview": FUNDER,
    "Mutation.attachDocument": owned(Label.APPLICATION, "applicationId"),
    # licences and invoices (docs/documents.md, GraphQL): evidence about firms of the shared
    # chain graph, uploaded and read by every funder's staff; a contract reviewed against
    # another funder's record is hidden (`api.graphql.documents.visible`). An enterprise's
    # user lists its own firm's (`enterpriseId`) and reads by id only a document that
    # concerns its firm (checked in the resolver: another's is NOT_FOUND); it uploads
    # nothing here (what it proves is checked by the funder's staff)
    "Mutation.uploadDocument": SHARED,
    "Query.document": shared(FILTERED),
    "Query.documents": shared("enterpriseId"),
    # a financing's contract (docs/documents.md#financing-contracts): the financing's funder's
    # staff; the borrower's own user reads, verifies and signs its side (checked in
    # `api/graphql/financing_contracts.py`: another firm's financing is NOT_FOUND)
    "Query.financingContract": owned(Label.FINANCING, "financingId", party=FILTERED),
    "Mutation.generateFinancingContract": owned(Label.FINANCING, "financingId"),
    "Mutation.signFinancingContract": owned(Label.FINANCING, "financingId", party=FILTERED),
    "Mutation.verifyFinancingContract": owned(Label.FINANCING, "financingId", party=FILTERED),
    # the caller's own watch list of chain firms, with their alerts of the caller's funder's
    # book and the shared chain's (as alerts)
    "Query.watchList": FUNDER,
    "Mutation.watchEnterprise": FUNDER,
    "Mutation.unwatchEnterprise": FUNDER,
    # the product factory (docs/finance.md#the-product-factory): the platform's catalogue is
    # shared, edited by the platform's staff; a funder's own products are its own (drafted,
    # published, retired and read by its staff only; `finance.products.factory.visible`)
    "Query.financeProducts": FUNDER,  # in force: the platform's and the funder's own
    "Query.productMatches": FUNDER,  # the same products, weighed on the funder's lines
    "Query.productVersions": FUNDER,
    "Query.productVersion": FUNDER,
    "Mutation.draftProduct": FUNDER,
    "Mutation.publishProduct": FUNDER,
    "Mutation.retireProduct": FUNDER,
}

ROOTS = frozenset({"Query", "Mutation", "Subscription"})


def book_to_read(user: Any, funder_id: str | None) -> str | None:
    """The funder's book a `FUNDER` read that takes `funderId` covers (portfolio report,
    exposures): the caller's (`funderId`, when given, must be it; unbound staff's is the
    default funder's); an unbound admin names any funder, or reads every funder's (None)."""
    book: str | None = user.book
    if book is not None and funder_id is not None and funder_id != book:
        raise Forbidden("a funder's users read only their own funder's book")
    return funder_id if funder_id is not None else book


def _arg(kwargs: Mapping[str, Any], path: str) -> Any:
    value: Any = kwargs
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
    return value


def check(name: str, user: Any, kwargs: Mapping[str, Any], owner: str | None = None) -> None:
    """Refuse the call of root field ``name`` by ``user`` unless its scope allows it;
    ``owner`` is the funder of the record an OWNED field names (None: no such record)."""
    scoping = SCOPES.get(name)
    if scoping is None:
        raise Forbidden(f"{name} declares no data scope and is refused")
    if user.enterprise_id is not None:
        if scoping.party is None:
            raise Forbidden("an enterprise's user may not call this field")
        if scoping.party != FILTERED and str(_arg(kwargs, scoping.party)) != user.enterprise_id:
            raise Forbidden("an enterprise's user acts only for its own enterprise")
    book = user.book
    if book is None:
        return  # an unbound admin or an enterprise's user: every funder's
    if scoping.scope is Scope.DEFAULT_BOOK and book != DEFAULT_FUNDER:
        raise Forbidden(f"{name.split('.')[1]} is not available to a funder's users yet "
                        "(it is not split by funder)")  # fmt: skip
    if scoping.scope is Scope.OWNED and owner is not None and owner != book:
        # The same answer as for an id that does not exist: nothing leaks.
        assert scoping.label is not None
        key = _arg(kwargs, scoping.arg or "")
        raise NotFound(f"{scoping.label.value.lower()} {key} does not exist")


class ScopeGuard(SchemaExtension):
    """Checks each root field against `SCOPES` before its resolver runs."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        if (info.path.prev is not None or info.parent_type.name not in ROOTS
                or info.field_name.startswith("__")):  # introspection: the schema, not data
            return _next(root, info, *args, **kwargs)
        return self._guarded(_next, root, info, *args, **kwargs)

    async def _guarded(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        context = info.context
        name = f"{info.parent_type.name}.{info.field_name}"
        scoping = SCOPES.get(name)
        owner = None
        if (scoping is not None and scoping.scope is Scope.OWNED
                and context.user.book is not None):  # fmt: skip
            key = _arg(kwargs, scoping.arg or "")
            if key is not None:
                owner = await context.call(funder_of, scoping.label, str(key))
        check(name, context.user, kwargs, owner)
        result = _next(root, info, *args, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result
