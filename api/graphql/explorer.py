"""What the web explorer draws: a layered subgraph around seed nodes, and the batched
neighbourhood loader that keeps list queries at a bounded number of round trips."""

from __future__ import annotations

from enum import Enum
from typing import cast

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.permissions import READERS, requires
from api.graphql.scalars import BigInt
from finance.errors import Forbidden
from graph.enterprises import Enterprise, Neighbour
from graph.model import DEFAULT_FUNDER
from graph.queries import explorer as domain


@strawberry.enum(description="Which relationships the explorer draws.")
class Layer(Enum):
    TRADE = "trade"
    EQUITY = "equity"
    GUARANTEES = "guarantees"
    FINANCING = "financing"


@strawberry.type(name="GraphNode", description="A node of an explored subgraph.")
class GraphNodeType:
    id: strawberry.ID
    label: str
    name: str
    is_core: bool
    fraud_score: float | None
    default_score: float | None
    status: str | None
    uscc: str | None
    hop: int = strawberry.field(description="Hops from the nearest seed.")


@strawberry.type(name="GraphEdge", description="A relationship of an explored subgraph.")
class GraphEdgeType:
    source: strawberry.ID
    target: strawberry.ID
    type: str
    amount: BigInt = strawberry.field(
        description="12-month trade, guarantee or financing amount (minor units); 0 if none."
    )
    pct: float | None


@strawberry.type(name="Subgraph")
class SubgraphType:
    nodes: list[GraphNodeType]
    edges: list[GraphEdgeType]
    truncated: bool = strawberry.field(description="True when maxNodes stopped the growth.")


@strawberry.type
class ExplorerQuery:
    @strawberry.field(
        extensions=requires(*READERS),
        description="The subgraph within `hops` (<= 4) of the seeds over the chosen layers; "
        "at most maxNodes (<= 20000) nodes and perNode (<= 1000) links a node.",
    )
    async def explore(
        self,
        info: Info[Context, None],
        ids: list[strawberry.ID],
        layers: list[Layer] | None = None,
        hops: int = 1,
        max_nodes: int = 500,
        per_node: int = 200,
    ) -> SubgraphType:
        chosen = [domain.Layer(x.value) for x in (layers or [Layer.TRADE])]
        user = info.context.user
        if domain.Layer.FINANCING in chosen and (
            (user.book is not None and user.book != DEFAULT_FUNDER) or user.enterprise_id
        ):
            # Its leaves are every funder's financings and lines: the shared chain graph
            # stops at the book (docs/api.md#several-funders).
            raise Forbidden("the financing layer is not available to a funder's or an "
                            "enterprise's users yet")  # fmt: skip
        g = cast(
            domain.Subgraph,
            await info.context.call(
                domain.explore, [str(i) for i in ids], chosen, hops, max_nodes, per_node
            ),
        )
        return SubgraphType(
            nodes=[
                GraphNodeType(
                    id=strawberry.ID(n.id),
                    label=n.label,
                    name=n.name,
                    is_core=n.is_core,
                    fraud_score=n.fraud_score,
                    default_score=n.default_score,
                    status=n.status,
                    uscc=n.uscc,
                    hop=n.hop,
                )
                for n in g.nodes
            ],
            edges=[
                GraphEdgeType(
                    source=strawberry.ID(e.source),
                    target=strawberry.ID(e.target),
                    type=e.type,
                    amount=BigInt(e.amount),
                    pct=e.pct,
                )
                for e in g.edges
            ],
            truncated=g.truncated,
        )


def neighbourhood_loader(context: Context, limit: int) -> DataLoader[str, list[Neighbour]]:
    """The neighbourhoods of every enterprise of a list query in one round trip."""
    return context.batch_loader(
        f"neighbourhood:{limit}", domain.neighbourhoods, list, limit, max_batch_size=200
    )


def enterprise_card_loader(
    context: Context, limit: int
) -> DataLoader[str, tuple[Enterprise, list[Neighbour]] | None]:
    """Enterprises with their neighbourhoods in one round trip (the enterprise card)."""
    return context.batch_loader(
        f"enterprise_card:{limit}", domain.enterprise_cards, lambda: None, limit,
        max_batch_size=200,
    )  # fmt: skip
