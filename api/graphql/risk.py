"""Risk: stored fraud and default scores with their explanations, and the "what if these
firms default" simulation (gnn.contagion) for the explorer and credit teams."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.permissions import READERS, requires
from api.graphql.scalars import BigInt
from api.security import Role
from gnn.contagion import what_if
from graph.errors import InvalidArgument, NotFound
from graph.queries.risk import read_scores


@strawberry.type(description="A chain of enterprises that explains a score, strongest first.")
class ExplanationPath:
    ids: list[strawberry.ID]
    names: list[str]
    weight: float
    relation: str | None


@strawberry.type(description="A feature that pushed a score up (or down, when negative).")
class FeatureContribution:
    task: str
    feature: str
    value: float
    push: float


@strawberry.type(
    description="A counterparty whose default alone would wipe the enterprise out (a full hit)."
)
class ContagionSource:
    id: strawberry.ID
    name: str
    tier: int | None = strawberry.field(description="Its hops to the nearest core enterprise.")
    exposure_over_equity: float = strawberry.field(
        description="What the enterprise loses if it defaults, over the enterprise's equity."
    )
    standalone_pd: float = strawberry.field(description="Its own observable one-year PD.")


@strawberry.type
class ScoreExplanation:
    tier: int | None = strawberry.field(description="Hops to the nearest core enterprise.")
    paths: list[ExplanationPath]
    contagion: list[ContagionSource] = strawberry.field(
        description="Where the default score's contagion comes from, strongest first."
    )
    features: list[FeatureContribution]


@strawberry.type(description="An enterprise's latest fraud and default scores, in [0, 1].")
class RiskScore:
    enterprise_id: strawberry.ID
    fraud_score: float | None
    default_score: float | None
    model_version: str | None
    scored_at: datetime | None
    explanation: ScoreExplanation | None


async def _explanation(
    info: Info[Context, None], enterprise_id: str, raw: Any
) -> ScoreExplanation | None:
    if not raw:
        return None
    data = json.loads(raw) if isinstance(raw, str) else raw
    chains: list[tuple[list[str], float, str | None]] = [
        ([enterprise_id, n["id"]], float(n["contribution"]), n.get("relation"))
        for n in data.get("neighbours", [])
    ]
    if data.get("path"):
        chains.insert(0, (list(data["path"]), max((w for _, w, _ in chains), default=0.0), None))
    sources = data.get("contagion") or []
    ids = sorted({i for chain, _, _ in chains for i in chain} | {c["id"] for c in sources})
    found = await info.context.enterprise_loader.load_many(ids)
    names = {i: (e.name if e is not None else i) for i, e in zip(ids, found, strict=True)}
    return ScoreExplanation(
        tier=data.get("tier"),
        paths=[
            ExplanationPath(
                ids=[strawberry.ID(i) for i in chain],
                names=[names[i] for i in chain],
                weight=weight,
                relation=relation,
            )
            for chain, weight, relation in chains
        ],
        contagion=[
            ContagionSource(
                id=strawberry.ID(c["id"]),
                name=names[c["id"]],
                tier=c.get("tier"),
                exposure_over_equity=float(c["exposure_over_equity"]),
                standalone_pd=float(c["standalone_pd"]),
            )
            for c in sources
        ],
        features=[
            FeatureContribution(
                task=task, feature=f["feature"], value=float(f["value"]), push=float(f["push"])
            )
            for task, feats in (data.get("features") or {}).items()
            for f in feats
        ],
    )


@strawberry.type(description="A firm hit by a simulated default.")
class ImpactedFirm:
    id: strawberry.ID
    name: str | None
    loss_fraction: float = strawberry.field(description="Share of its equity lost, 0..1.")
    equity_loss: BigInt
    tier: int = strawberry.field(description="Hops from the nearest defaulted firm (0: itself).")
    defaulted: bool


@strawberry.type(description="A lender's live financings to impacted borrowers.")
class LenderHit:
    lender: str
    exposure: BigInt
    loss: BigInt
    borrowers: int


@strawberry.type(description="What happens to the network if the given firms default.")
class WhatIf:
    impacted: list[ImpactedFirm]
    lenders: list[LenderHit]
    total_equity_loss: BigInt
    system_loss_fraction: float
    rounds: int


@strawberry.type
class WhatIfQuery:
    # A thin resolver over the gnn package's simulation, for the explorer's what-if button;
    # it loads the whole exposure network, hence the scanners' roles and the cost weight.
    @strawberry.field(
        extensions=requires(Role.ANALYST, Role.CREDIT_OFFICER),
        description="Simulate the default of the given firms (DebtRank-style cascade over "
        "trade, guarantee, voucher and equity exposures): impacted firms by tier, lenders hit.",
    )
    async def what_if(
        self, info: Info[Context, None], defaulted_ids: list[strawberry.ID]
    ) -> WhatIf:
        if not 1 <= len(defaulted_ids) <= 100:
            raise InvalidArgument("give 1 to 100 defaulted ids")
        r = await info.context.call(what_if, [str(i) for i in defaulted_ids])
        return WhatIf(
            impacted=[
                ImpactedFirm(
                    id=strawberry.ID(f.id),
                    name=f.name,
                    loss_fraction=f.loss_fraction,
                    equity_loss=BigInt(f.equity_loss),
                    tier=f.tier,
                    defaulted=f.defaulted,
                )
                for f in r.impacted
            ],
            lenders=[
                LenderHit(
                    lender=x.lender,
                    exposure=BigInt(x.exposure),
                    loss=BigInt(x.loss),
                    borrowers=x.borrowers,
                )
                for x in r.lenders
            ],
            total_equity_loss=BigInt(r.total_equity_loss),
            system_loss_fraction=r.system_loss_fraction,
            rounds=r.rounds,
        )


@strawberry.type
class RiskQuery:
    @strawberry.field(
        extensions=requires(*READERS),
        description="The latest scores of an enterprise with the neighbours, path and features "
        "that explain them (written by `chainlens score`).",
    )
    async def risk_score(self, info: Info[Context, None], id: strawberry.ID) -> RiskScore:
        rows = cast(list[dict[str, Any]], await info.context.call(read_scores, [str(id)]))
        if not rows:
            raise NotFound(f"no enterprise with id {id!r}")
        row = rows[0]
        scored_at = row["scored_at"]
        return RiskScore(
            enterprise_id=id,
            fraud_score=row["fraud_score"],
            default_score=row["default_score"],
            model_version=row["model_version"],
            scored_at=scored_at.to_native() if hasattr(scored_at, "to_native") else scored_at,
            explanation=await _explanation(info, str(id), row["explanation"]),
        )
