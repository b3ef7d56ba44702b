"""Chain analytics in GraphQL: tiers, trade paths, ownership, related parties, guarantees,
trade authenticity, exposure and prospects.

Resolvers call the domain functions of `graph.analytics` and translate their dataclasses.
Lists that can be long are cursor-paginated connections (`first` at most 200, `after` an
opaque cursor); depth and path length are bounded by the domain functions, which answer
unknown ids with NOT_FOUND and bad arguments with BAD_REQUEST.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.pagination import Connection, First, check_first, connection, page
from api.graphql.permissions import READERS, requires
from api.graphql.scalars import BigInt
from api.graphql.scoping import book_to_read
from api.security import Role
from graph.analytics import exposure as ex
from graph.analytics import guarantees as gu
from graph.analytics import ownership as ow
from graph.analytics import prospects as pr
from graph.analytics import related as rp
from graph.analytics import tiers as ti
from graph.analytics import trade as tr
from graph.enterprises import decode_cursor

# Full-graph scans are for the risk and credit teams, not for every reader.
SCANNERS = (Role.ANALYST, Role.CREDIT_OFFICER)
PROSPECTORS = (Role.RELATIONSHIP_MANAGER, Role.ANALYST, Role.CREDIT_OFFICER, Role.SERVICE)

def _field(description: str, roles: tuple[Role, ...] = READERS) -> Any:
    """A root field that only `roles` may read (admins always may)."""
    return strawberry.field(extensions=requires(*roles), description=description)


# ---- tiers ---------------------------------------------------------------------------------
@strawberry.enum
class TierDirection(Enum):
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"


@strawberry.type(description="12-month trade between a firm and a firm of the next tier.")
class TierLink:
    counterparty_id: strawberry.ID
    amount_12m: BigInt
    invoices_12m: int
    first_on: date | None
    last_on: date | None


@strawberry.type(description="A firm at its minimum tier from the focal enterprise.")
class TierFirm:
    id: strawberry.ID
    name: str | None
    tier: int
    volume: BigInt = strawberry.field(
        description="12-month trade with the next tier (minor units)."
    )
    invoices: int
    share: float = strawberry.field(
        description="Volume over all purchases (upstream) or sales (downstream) of the next tier."
    )
    links: list[TierLink]


def _tier_firm(f: ti.TierFirm) -> TierFirm:
    links = [
        TierLink(
            counterparty_id=strawberry.ID(x.counterparty_id),
            amount_12m=BigInt(x.amount_12m),
            invoices_12m=x.invoices_12m,
            first_on=x.first_on,
            last_on=x.last_on,
        )
        for x in f.links
    ]
    return TierFirm(
        id=strawberry.ID(f.id), name=f.name, tier=f.tier, volume=BigInt(f.volume),
        invoices=f.invoices, share=f.share, links=links,
    )  # fmt: skip


@strawberry.type
class Tiers:
    focal_id: strawberry.ID
    focal_name: str | None
    direction: TierDirection
    depth: int
    truncated: bool
    per_tier: list[int] = strawberry.field(description="How many firms at tiers 1..depth.")
    firms: Connection[TierFirm]


def _tiers(t: ti.Tiers, first: int, after: str | None) -> Tiers:
    return Tiers(
        focal_id=strawberry.ID(t.focal_id), focal_name=t.focal_name,
        direction=TierDirection(t.direction.value), depth=t.depth, truncated=t.truncated,
        per_tier=[len(t.tier(k)) for k in range(1, t.depth + 1)],
        firms=page(t.firms, first, after, _tier_firm),
    )  # fmt: skip


@strawberry.type(description="The N+1+N view of a core enterprise.")
class ChainView:
    core_id: strawberry.ID
    core_name: str | None
    upstream: Tiers
    downstream: Tiers


@strawberry.type
class TradeHop:
    seller_id: strawberry.ID
    buyer_id: strawberry.ID
    amount_12m: BigInt


@strawberry.type
class TradePath:
    ids: list[strawberry.ID]
    names: list[str | None]
    hops: list[TradeHop]
    length: int


def _path(p: ti.TradePath) -> TradePath:
    return TradePath(
        ids=[strawberry.ID(i) for i in p.ids], names=p.names, length=p.length,
        hops=[TradeHop(seller_id=strawberry.ID(h.seller_id), buyer_id=strawberry.ID(h.buyer_id),
                       amount_12m=BigInt(h.amount_12m)) for h in p.hops],
    )  # fmt: skip


# ---- ownership -----------------------------------------------------------------------------
@strawberry.enum
class HolderKind(Enum):
    PERSON = "person"
    ENTERPRISE = "enterprise"


@strawberry.type(description="A direct or indirect holder, with its effective stake (percent).")
class Holder:
    kind: HolderKind
    id: strawberry.ID
    name: str | None
    direct_pct: Decimal
    effective_pct: Decimal
    ultimate: bool
    distance: int


def _holder(h: ow.Holder) -> Holder:
    return Holder(kind=HolderKind(h.kind.value), id=strawberry.ID(h.id), name=h.name,
                  direct_pct=h.direct_pct, effective_pct=h.effective_pct, ultimate=h.ultimate,
                  distance=h.distance)  # fmt: skip


@strawberry.type
class ControlStep:
    held_id: strawberry.ID
    holder_kind: HolderKind
    holder_id: strawberry.ID
    holder_name: str | None
    pct: Decimal
    basis: str = strawberry.field(description="majority (> 50%) or largest (no majority).")


@strawberry.type
class Controller:
    enterprise_id: strawberry.ID
    chain: list[ControlStep]
    controller: ControlStep | None
    stopped: str = strawberry.field(description="top, tie or cycle: why the chain ended.")


def _step(s: ow.ControlStep) -> ControlStep:
    return ControlStep(
        held_id=strawberry.ID(s.held_id), holder_kind=HolderKind(s.holder_kind.value),
        holder_id=strawberry.ID(s.holder_id), holder_name=s.holder_name, pct=s.pct,
        basis=s.basis,
    )  # fmt: skip


@strawberry.type
class GroupMember:
    id: strawberry.ID
    name: str | None
    parent_id: strawberry.ID
    pct: Decimal
    depth: int


@strawberry.type
class ControlledGroup:
    controller_kind: HolderKind
    controller_id: strawberry.ID
    controller_name: str | None
    truncated: bool
    members: Connection[GroupMember]


def _group(g: ow.ControlledGroup, first: int, after: str | None) -> ControlledGroup:
    return ControlledGroup(
        controller_kind=HolderKind(g.controller_kind.value),
        controller_id=strawberry.ID(g.controller_id), controller_name=g.controller_name,
        truncated=g.truncated,
        members=page(g.members, first, after, lambda m: GroupMember(
            id=strawberry.ID(m.id), name=m.name, parent_id=strawberry.ID(m.parent_id), pct=m.pct,
            depth=m.depth)),
    )  # fmt: skip


# ---- related parties -----------------------------------------------------------------------
@strawberry.type(description="Why two firms are related.")
class RelatedLink:
    kind: str
    via_id: strawberry.ID
    via_name: str | None
    explanation: str


@strawberry.type
class RelatedParty:
    id: strawberry.ID
    name: str | None
    links: list[RelatedLink]


def _related(p: rp.RelatedParty) -> RelatedParty:
    return RelatedParty(id=strawberry.ID(p.id), name=p.name, links=[
        RelatedLink(kind=x.kind.value, via_id=strawberry.ID(x.via_id), via_name=x.via_name,
                    explanation=x.explanation) for x in p.links])  # fmt: skip


# ---- guarantees ----------------------------------------------------------------------------
@strawberry.type
class GuaranteeLink:
    guarantee_id: str | None
    guarantor_id: strawberry.ID
    beneficiary_id: strawberry.ID
    amount: BigInt


@strawberry.type
class GuaranteeCycle:
    members: list[strawberry.ID]
    links: list[GuaranteeLink]
    total_amount: BigInt


@strawberry.type(description="Firms guaranteeing each other, directly or round cycles.")
class GuaranteeCircle:
    id: strawberry.ID
    members: list[strawberry.ID]
    size: int
    links: list[GuaranteeLink]
    total_amount: BigInt
    cycles: list[GuaranteeCycle]
    cycles_truncated: bool


def _glink(x: gu.GuaranteeLink) -> GuaranteeLink:
    return GuaranteeLink(
        guarantee_id=x.guarantee_id, guarantor_id=strawberry.ID(x.guarantor_id),
        beneficiary_id=strawberry.ID(x.beneficiary_id), amount=BigInt(x.amount),
    )  # fmt: skip


def _circle(c: gu.GuaranteeCircle) -> GuaranteeCircle:
    return GuaranteeCircle(
        id=strawberry.ID(c.id), members=[strawberry.ID(m) for m in c.members], size=c.size,
        links=[_glink(x) for x in c.links], total_amount=BigInt(c.total_amount),
        cycles=[
            GuaranteeCycle(
                members=[strawberry.ID(m) for m in y.members],
                links=[_glink(x) for x in y.links],
                total_amount=BigInt(y.total_amount),
            )
            for y in c.cycles
        ],
        cycles_truncated=c.cycles_truncated,
    )  # fmt: skip


@strawberry.type
class GuaranteeChain:
    ids: list[strawberry.ID]
    names: list[str | None]
    links: list[GuaranteeLink]


# ---- trade authenticity --------------------------------------------------------------------
@strawberry.type
class RingInvoice:
    id: strawberry.ID
    seller_id: strawberry.ID
    buyer_id: strawberry.ID
    amount: BigInt
    issued_on: date


@strawberry.type(description="Invoices going round a cycle of firms within a short window.")
class TradeRing:
    id: strawberry.ID
    members: list[strawberry.ID]
    rounds: list[list[RingInvoice]]
    invoice_count: int
    total_amount: BigInt
    invoices_without_goods: int


def _ring(r: tr.TradeRing) -> TradeRing:
    return TradeRing(
        id=strawberry.ID(r.id), members=[strawberry.ID(m) for m in r.members],
        rounds=[[RingInvoice(id=strawberry.ID(i.id), seller_id=strawberry.ID(i.seller_id),
                             buyer_id=strawberry.ID(i.buyer_id), amount=BigInt(i.amount),
                             issued_on=i.issued_on) for i in rnd] for rnd in r.rounds],
        invoice_count=r.invoice_count, total_amount=BigInt(r.total_amount),
        invoices_without_goods=r.invoices_without_goods,
    )  # fmt: skip


@strawberry.type
class FlowCheck:
    flow: str
    present: bool
    consistent: bool
    detail: str


@strawberry.type(description="Contract, goods, invoice and payment flows of one trade.")
class FourFlow:
    subject_id: strawberry.ID
    score: float
    missing: list[str]
    inconsistent: list[str]
    checks: list[FlowCheck]


def _four(f: tr.FourFlow) -> FourFlow:
    return FourFlow(
        subject_id=strawberry.ID(f.subject_id), score=f.score,
        missing=[x.value for x in f.missing], inconsistent=[x.value for x in f.inconsistent],
        checks=[FlowCheck(flow=c.flow.value, present=c.present, consistent=c.consistent,
                          detail=c.detail) for c in f.checks],
    )  # fmt: skip


@strawberry.type
class PledgedFinancing:
    id: strawberry.ID
    status: str
    amount: BigInt
    outstanding: BigInt
    product_kind: str | None
    lender: str | None
    origin: str


@strawberry.type(description="One invoice or asset in more than one financing.")
class DuplicatePledge:
    collateral_id: strawberry.ID
    collateral_kind: str
    live_count: int
    conflicting: bool
    financings: list[PledgedFinancing]


def _pledge(d: tr.DuplicatePledge) -> DuplicatePledge:
    return DuplicatePledge(
        collateral_id=strawberry.ID(d.collateral_id), collateral_kind=d.collateral_kind,
        live_count=d.live_count, conflicting=d.conflicting,
        financings=[
            PledgedFinancing(
                id=strawberry.ID(f.id), status=f.status, amount=BigInt(f.amount_minor),
                outstanding=BigInt(f.outstanding_minor), product_kind=f.product_kind,
                lender=f.lender, origin=f.origin,
            )
            for f in d.financings
        ],
    )  # fmt: skip


# ---- exposure and prospects ----------------------------------------------------------------
@strawberry.type
class MemberExposure:
    id: strawberry.ID
    name: str | None
    financings: int
    financed: BigInt
    guarantees_given: BigInt
    guarantees_received: BigInt
    vouchers_issued: BigInt
    vouchers_held: BigInt
    total: BigInt


@strawberry.type(description="Exposure of a group or chain; guarantees count when they leave it.")
class Exposure:
    scope: str
    anchor_id: strawberry.ID
    financings: int
    financed: BigInt
    guarantees_given: BigInt
    vouchers_issued: BigInt
    vouchers_held: BigInt
    total: BigInt
    members: Connection[MemberExposure]


def _exposure(e: ex.Exposure, first: int, after: str | None) -> Exposure:
    def member(m: ex.MemberExposure) -> MemberExposure:
        return MemberExposure(
            id=strawberry.ID(m.id),
            name=m.name,
            financings=m.financings,
            financed=BigInt(m.financed),
            guarantees_given=BigInt(m.guarantees_given),
            guarantees_received=BigInt(m.guarantees_received),
            vouchers_issued=BigInt(m.vouchers_issued),
            vouchers_held=BigInt(m.vouchers_held),
            total=BigInt(m.total),
        )

    return Exposure(
        scope=e.scope, anchor_id=strawberry.ID(e.anchor_id), financings=e.financings,
        financed=BigInt(e.financed), guarantees_given=BigInt(e.guarantees_given),
        vouchers_issued=BigInt(e.vouchers_issued), vouchers_held=BigInt(e.vouchers_held),
        total=BigInt(e.total), members=page(e.members, first, after, member),
    )  # fmt: skip


@strawberry.type(description="A firm worth offering financing to, and why.")
class Prospect:
    id: strawberry.ID
    name: str | None
    tier: int
    path: list[strawberry.ID]
    path_volumes: list[BigInt]
    volume_12m: BigInt
    invoices_12m: int
    months_of_history: int
    fraud_score: float | None
    default_score: float | None
    rank_score: float
    reason: str


def _prospect(p: pr.Prospect) -> Prospect:
    return Prospect(
        id=strawberry.ID(p.id), name=p.name, tier=p.tier, path=[strawberry.ID(i) for i in p.path],
        path_volumes=[BigInt(v) for v in p.path_volumes], volume_12m=BigInt(p.volume_12m),
        invoices_12m=p.invoices_12m,
        months_of_history=p.months_of_history, fraud_score=p.fraud_score,
        default_score=p.default_score, rank_score=p.rank_score, reason=p.reason,
    )  # fmt: skip


# ---- the query type ------------------------------------------------------------------------
@strawberry.type
class AnalyticsQuery:
    @_field("Tiers 1..depth (at most 5) up or down the chain of an enterprise.")
    async def tiers(
        self, info: Info[Context, None], id: strawberry.ID,
        direction: TierDirection = TierDirection.UPSTREAM, depth: int = 5,
        first: First = 50, after: str | None = None,
    ) -> Tiers:  # fmt: skip
        check_first(first)
        t = cast(ti.Tiers, await info.context.call(ti.tiers, str(id), direction.value, depth))
        return _tiers(t, first, after)

    @_field("The N+1+N view of a core enterprise (first page of each side).")
    async def chain_view(
        self, info: Info[Context, None], id: strawberry.ID, up: int = 5, down: int = 3,
        first: First = 50,
    ) -> ChainView:  # fmt: skip
        check_first(first)
        v = cast(ti.ChainView, await info.context.call(ti.chain_view, str(id), up, down))
        return ChainView(core_id=strawberry.ID(v.core_id), core_name=v.core_name,
                         upstream=_tiers(v.upstream, first, None),
                         downstream=_tiers(v.downstream, first, None))  # fmt: skip

    @_field("The shortest chain of trade links between two enterprises.")
    async def shortest_trade_path(
        self, info: Info[Context, None], from_id: strawberry.ID, to_id: strawberry.ID,
        max_length: int = 8, directed: bool = False,
    ) -> TradePath | None:  # fmt: skip
        p = await info.context.call(ti.shortest_trade_path, str(from_id), str(to_id), max_length,
                                    directed)  # fmt: skip
        return _path(p) if p is not None else None

    @_field("All simple trade paths of at most maxLength (<= 6) links.")
    async def trade_paths(
        self, info: Info[Context, None], from_id: strawberry.ID, to_id: strawberry.ID,
        max_length: int = 4, directed: bool = True, first: First = 50, after: str | None = None,
    ) -> Connection[TradePath]:  # fmt: skip
        check_first(first)
        offset = decode_cursor(after)
        found = cast(ti.TradePaths, await info.context.call(
            ti.simple_trade_paths, str(from_id), str(to_id), max_length, directed, first, offset))
        return connection([_path(p) for p in found.paths], offset, found.total)

    @_field("Every direct and indirect holder with effective percentages.")
    async def ownership(
        self, info: Info[Context, None], id: strawberry.ID, first: First = 50,
        after: str | None = None,
    ) -> Connection[Holder]:  # fmt: skip
        o = cast(ow.Ownership, await info.context.call(ow.effective_ownership, str(id)))
        return page(o.holders, first, after, _holder)

    @_field("Ultimate beneficial owners with at least minPct percent.")
    async def ultimate_owners(
        self, info: Info[Context, None], id: strawberry.ID, min_pct: float = 0.0,
        first: First = 50, after: str | None = None,
    ) -> Connection[Holder]:  # fmt: skip
        owners = cast(list[ow.Holder],
                      await info.context.call(ow.ultimate_owners, str(id), min_pct))  # fmt: skip
        return page(owners, first, after, _holder)

    @_field("The control chain (majority, else largest stake) to the top.")
    async def actual_controller(self, info: Info[Context, None], id: strawberry.ID) -> Controller:
        c = cast(ow.Controller, await info.context.call(ow.actual_controller, str(id)))
        return Controller(enterprise_id=strawberry.ID(c.enterprise_id),
                          chain=[_step(s) for s in c.chain],
                          controller=_step(c.controller) if c.controller else None,
                          stopped=c.stopped)  # fmt: skip

    @_field("Every enterprise under one controller.")
    async def controlled_group(
        self, info: Info[Context, None], controller_id: strawberry.ID,
        controller_kind: HolderKind = HolderKind.PERSON, first: First = 50,
        after: str | None = None,
    ) -> ControlledGroup:  # fmt: skip
        g = cast(ow.ControlledGroup, await info.context.call(
            ow.controlled_group, str(controller_id), controller_kind.value))  # fmt: skip
        return _group(g, first, after)

    @_field("Related firms (controller, people, address, phone), explained.")
    async def related_parties(
        self, info: Info[Context, None], id: strawberry.ID, first: First = 50,
        after: str | None = None,
    ) -> Connection[RelatedParty]:  # fmt: skip
        r = cast(rp.RelatedParties, await info.context.call(rp.related_parties, str(id)))
        return page(r.parties, first, after, _related)

    @_field("Every guarantee circle of the graph, largest first (full scan).", SCANNERS)
    async def guarantee_circles(
        self, info: Info[Context, None], max_cycle_length: int = 6, first: First = 50,
        after: str | None = None,
    ) -> Connection[GuaranteeCircle]:  # fmt: skip
        check_first(first)
        circles = cast(list[gu.GuaranteeCircle],
                       await info.context.call(gu.guarantee_circles, max_cycle_length))  # fmt: skip
        return page(circles, first, after, _circle)

    @_field("The guarantee circle an enterprise belongs to, if any.")
    async def guarantee_circle(
        self, info: Info[Context, None], id: strawberry.ID, max_cycle_length: int = 6,
    ) -> GuaranteeCircle | None:  # fmt: skip
        c = await info.context.call(gu.circle_of, str(id), max_cycle_length)
        return _circle(c) if c is not None else None

    @_field("Guarantee chains ending at (incoming) or starting from it.")
    async def guarantee_chains(
        self, info: Info[Context, None], id: strawberry.ID, depth: int = 3, incoming: bool = True,
        first: First = 50,
    ) -> list[GuaranteeChain]:  # fmt: skip
        check_first(first)
        chains = cast(list[gu.GuaranteeChain], await info.context.call(
            gu.guarantee_chains, str(id), depth, incoming, first))  # fmt: skip
        return [GuaranteeChain(ids=[strawberry.ID(i) for i in c.ids], names=c.names,
                               links=[_glink(x) for x in c.links]) for c in chains]  # fmt: skip

    @_field("Rings of invoices round a cycle of firms (full scan).", SCANNERS)
    async def circular_trade(
        self, info: Info[Context, None], window_days: int = 90, amount_tolerance: float = 0.25,
        min_length: int = 3, max_length: int = 6, first: First = 50, after: str | None = None,
    ) -> Connection[TradeRing]:  # fmt: skip
        check_first(first)
        scan = cast(tr.RingScan, await info.context.call(
            tr.circular_trade, window_days, amount_tolerance, min_length, max_length))  # fmt: skip
        return page(scan.rings, first, after, _ring)

    @_field("Four-flow check of one invoice, with the missing flows named.")
    async def four_flow_invoice(self, info: Info[Context, None], id: strawberry.ID) -> FourFlow:
        return _four(cast(tr.FourFlow, await info.context.call(tr.four_flow_invoice, str(id))))

    @_field("Four-flow check of one contract and its invoices.")
    async def four_flow_contract(self, info: Info[Context, None], id: strawberry.ID) -> FourFlow:
        return _four(cast(tr.FourFlow, await info.context.call(tr.four_flow_contract, str(id))))

    @_field("Invoices or assets pledged to more than one financing.", SCANNERS)
    async def duplicate_pledges(
        self, info: Info[Context, None], conflicting_only: bool = True, first: First = 50,
        after: str | None = None,
    ) -> Connection[DuplicatePledge]:  # fmt: skip
        check_first(first)
        found = cast(list[tr.DuplicatePledge],
                     await info.context.call(tr.duplicate_pledges, conflicting_only))  # fmt: skip
        return page(found, first, after, _pledge)

    @_field("Exposure of the group an enterprise belongs to: the caller's funder's "
            "financings and vouchers (funderId, when given, must be it; an unbound admin "
            "names one, or sums every funder's without one), guarantees of the chain graph.")
    async def group_exposure(
        self, info: Info[Context, None], id: strawberry.ID, first: First = 50,
        after: str | None = None, funder_id: strawberry.ID | None = None,
    ) -> Exposure:  # fmt: skip
        check_first(first)
        funder = book_to_read(info.context.user, str(funder_id) if funder_id else None)
        # The enterprise card's; cached per enterprise and book until this process writes.
        e = cast(ex.Exposure, await info.context.cached(
            ("group_exposure", str(id), funder),
            lambda: info.context.call(ex.group_exposure, str(id), funder)))  # fmt: skip
        return _exposure(e, first, after)

    @_field("Exposure of a core enterprise's chain (up and down tiers), of the caller's "
            "funder's book as groupExposure.")
    async def chain_exposure(
        self, info: Info[Context, None], id: strawberry.ID, up: int = 5, down: int = 3,
        first: First = 50, after: str | None = None, funder_id: strawberry.ID | None = None,
    ) -> Exposure:  # fmt: skip
        check_first(first)
        funder = book_to_read(info.context.user, str(funder_id) if funder_id else None)
        e = cast(ex.Exposure, await info.context.call(ex.chain_exposure, str(id), up, down,
                                                      funder))  # fmt: skip
        return _exposure(e, first, after)

    @_field("Ranked tier-2..5 prospects around a core, each with its reason.", PROSPECTORS)
    async def prospects(
        self, info: Info[Context, None], core_id: strawberry.ID,
        direction: TierDirection = TierDirection.UPSTREAM, min_tier: int = 2, max_tier: int = 5,
        min_invoices: int = 3, min_months: int = 6, max_fraud: float = 0.5,
        max_default: float = 0.5, first: First = 50,
    ) -> list[Prospect]:  # fmt: skip
        check_first(first)
        found = cast(list[pr.Prospect], await info.context.call(
            pr.prospects, str(core_id), direction.value, min_tier, max_tier, min_invoices,
            min_months, max_fraud, max_default, first))  # fmt: skip
        return [_prospect(p) for p in found]
