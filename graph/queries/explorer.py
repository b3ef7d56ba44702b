"""Cypher for the web explorer and the API's DataLoaders: neighbourhoods of many nodes in one
round trip, and a layered subgraph around seed nodes grown one hop per round trip.

Relationship types and labels come from the `Layer` table below (enums), never from the
request; ids, limits and hop counts are parameters or validated integers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from neo4j import Driver, RoutingControl

from graph.enterprises import (
    _ENTERPRISE_FIELDS,
    Enterprise,
    Neighbour,
    _plain,
    _to_enterprise,
)
from graph.errors import InvalidArgument
from graph.model import Label, Rel

MAX_NODES = 20_000
MAX_HOPS = 4
MAX_PER_NODE = 1_000
MAX_NEIGHBOURS = 500


class Layer(StrEnum):
    """What the explorer draws: each layer is a set of relationship types."""

    TRADE = "trade"
    EQUITY = "equity"
    GUARANTEES = "guarantees"
    FINANCING = "financing"


LAYER_RELS: dict[Layer, tuple[Rel, ...]] = {
    Layer.TRADE: (Rel.SUPPLIES,),
    Layer.EQUITY: (Rel.HOLDS, Rel.ROLE),
    Layer.GUARANTEES: (Rel.GUARANTEES,),
    Layer.FINANCING: (Rel.BORROWER, Rel.GRANTED_TO, Rel.HELD_BY, Rel.ISSUED_BY),
}

# Nodes that are expanded further; the others (financings, vouchers, lines) are leaves.
EXPANDABLE = (Label.ENTERPRISE, Label.PERSON)

_NODE_FIELDS = """
  id: n.id, label: labels(n)[0],
  name: coalesce(n.name, n.kind, n.status, n.id),
  is_core: coalesce(n.is_core, false), fraud_score: n.fraud_score,
  default_score: n.default_score, status: n.status, uscc: n.uscc
"""

# The neighbourhood of `e`, heaviest relationships first, capped at $limit.
_NEIGHBOURS_OF_E = """
CALL (e) {
  MATCH (e)-[r]-(other)
  WITH r, other, startNode(r) = e AS outgoing
  ORDER BY coalesce(r.amount_12m, r.amount, r.pct, 0) DESC
  LIMIT $limit
  RETURN collect({type: type(r), outgoing: outgoing, label: labels(other)[0], id: other.id,
                  name: coalesce(other.name, other.text, other.number, other.id),
                  properties: properties(r)}) AS rows
}
"""

# The batched neighbourhood of many enterprises, capped per id.
NEIGHBOURHOODS = f"""
UNWIND $ids AS eid
MATCH (e:{Label.ENTERPRISE.value} {{id: eid}})
{_NEIGHBOURS_OF_E}
RETURN eid, rows
"""

# The enterprise card's firmographics, scores and neighbourhood, of many enterprises in one
# round trip (what `enterprise(id) { ... neighbourhood(limit) }` asks for).
ENTERPRISE_CARDS = f"""
UNWIND $ids AS eid
MATCH (e:{Label.ENTERPRISE.value} {{id: eid}})
{_NEIGHBOURS_OF_E}
RETURN eid, e {{ {_ENTERPRISE_FIELDS} }} AS enterprise, rows
"""


def _types(layers: Iterable[Layer]) -> str:
    rels = sorted({r.value for layer in layers for r in LAYER_RELS[layer]})
    return "|".join(rels)


def _seed_query() -> str:
    unions = " UNION ".join(
        f"MATCH (n:{label.value}) WHERE n.id IN $ids RETURN n" for label in EXPANDABLE
    )
    return f"CALL () {{ {unions} }} RETURN n {{ {_NODE_FIELDS} }} AS node"


def _hop_query(layers: Sequence[Layer]) -> str:
    unions = " UNION ".join(
        f"MATCH (a:{label.value}) WHERE a.id IN $ids RETURN a" for label in EXPANDABLE
    )
    return f"""
CALL () {{ {unions} }}
CALL (a) {{
  MATCH (a)-[r:{_types(layers)}]-(n)
  RETURN r, n ORDER BY coalesce(r.amount_12m, r.amount, r.pct, 0) DESC LIMIT $per_node
}}
RETURN startNode(r).id AS source, endNode(r).id AS target, type(r) AS type,
       coalesce(r.amount_12m, r.amount, 0) AS amount, r.pct AS pct,
       n {{ {_NODE_FIELDS} }} AS node
"""


def _closing_query(layers: Sequence[Layer]) -> str:
    unions = " UNION ".join(
        f"MATCH (a:{label.value}) WHERE a.id IN $ids RETURN a" for label in EXPANDABLE
    )
    return f"""
CALL () {{ {unions} }}
CALL (a) {{
  MATCH (a)-[r:{_types(layers)}]-(n) WHERE n.id IN $inside
  RETURN r LIMIT $per_node
}}
RETURN startNode(r).id AS source, endNode(r).id AS target, type(r) AS type,
       coalesce(r.amount_12m, r.amount, 0) AS amount, r.pct AS pct
"""


@dataclass(frozen=True, slots=True)
class GraphNode:
    id: str
    label: str
    name: str
    is_core: bool = False
    fraud_score: float | None = None
    default_score: float | None = None
    status: str | None = None
    uscc: str | None = None
    hop: int = 0


@dataclass(frozen=True, slots=True)
class GraphEdge:
    source: str
    target: str
    type: str
    amount: int = 0
    pct: float | None = None


@dataclass(slots=True)
class Subgraph:
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)
    truncated: bool = False
    round_trips: int = 0


def _node(row: dict[str, Any], hop: int) -> GraphNode:
    scores = {k: row.get(k) for k in ("fraud_score", "default_score")}
    return GraphNode(
        id=str(row["id"]),
        label=str(row["label"]),
        name=str(row["name"]),
        is_core=bool(row.get("is_core")),
        status=row.get("status") if isinstance(row.get("status"), str) else None,
        uscc=row.get("uscc"),
        hop=hop,
        **scores,
    )


def _edge(key: tuple[str, str, str], amount: Any, pct: Any) -> GraphEdge:
    return GraphEdge(
        source=key[0],
        target=key[1],
        type=key[2],
        amount=int(amount) if isinstance(amount, int | float) else 0,
        pct=float(pct) if isinstance(pct, int | float) else None,
    )


def explore(
    driver: Driver,
    database: str,
    seed_ids: Sequence[str],
    layers: Sequence[Layer] = (Layer.TRADE,),
    hops: int = 1,
    max_nodes: int = 500,
    per_node: int = 200,
) -> Subgraph:
    """The subgraph within ``hops`` of the seeds over the relationships of ``layers``.

    One round trip for the seeds, one per hop, and one for the links among the nodes of the
    last hop (a guarantee between two suppliers of the seed); growth stops at ``max_nodes``
    nodes (``truncated`` then says so) and each node contributes at most ``per_node`` links,
    heaviest first, so that a hub cannot flood the view.
    """
    if not seed_ids:
        raise InvalidArgument("give at least one seed id")
    if len(seed_ids) > MAX_NODES:
        raise InvalidArgument(f"at most {MAX_NODES} seed ids")
    if not layers:
        raise InvalidArgument("give at least one layer")
    if not 0 <= hops <= MAX_HOPS:
        raise InvalidArgument(f"hops must be between 0 and {MAX_HOPS}")
    if not 1 <= max_nodes <= MAX_NODES:
        raise InvalidArgument(f"maxNodes must be between 1 and {MAX_NODES}")
    if not 1 <= per_node <= MAX_PER_NODE:
        raise InvalidArgument(f"perNode must be between 1 and {MAX_PER_NODE}")
    out = Subgraph()
    records, _, _ = driver.execute_query(
        _seed_query(), ids=list(seed_ids), database_=database, routing_=RoutingControl.READ
    )
    out.round_trips += 1
    nodes: dict[str, GraphNode] = {}
    for r in records:
        n = _node(r["node"], 0)
        nodes[n.id] = n
    edges: dict[tuple[str, str, str], GraphEdge] = {}
    frontier = [i for i, n in nodes.items() if n.label in {x.value for x in EXPANDABLE}]
    hop_query = _hop_query(layers)
    expandable = {x.value for x in EXPANDABLE}
    for hop in range(1, hops + 1):
        if not frontier:
            break
        records, _, _ = driver.execute_query(
            hop_query,
            ids=frontier,
            per_node=per_node,
            database_=database,
            routing_=RoutingControl.READ,
        )
        out.round_trips += 1
        nxt: list[str] = []
        for r in records:
            row = r["node"]
            other = str(row["id"])
            if other not in nodes:
                if len(nodes) >= max_nodes:
                    out.truncated = True
                    continue
                nodes[other] = _node(row, hop)
                if nodes[other].label in expandable:
                    nxt.append(other)
            key = (str(r["source"]), str(r["target"]), str(r["type"]))
            if key not in edges:
                edges[key] = _edge(key, r["amount"], r["pct"])
        frontier = nxt
    if frontier:
        records, _, _ = driver.execute_query(
            _closing_query(layers),
            ids=frontier,
            inside=list(nodes),
            per_node=per_node,
            database_=database,
            routing_=RoutingControl.READ,
        )
        out.round_trips += 1
        for r in records:
            key = (str(r["source"]), str(r["target"]), str(r["type"]))
            if key not in edges:
                edges[key] = _edge(key, r["amount"], r["pct"])
    out.nodes = list(nodes.values())
    out.edges = [e for e in edges.values() if e.source in nodes and e.target in nodes]
    return out


def _neighbours(rows: list[dict[str, Any]]) -> list[Neighbour]:
    return [
        Neighbour(
            relationship=str(x["type"]),
            outgoing=bool(x["outgoing"]),
            label=str(x["label"]),
            id=str(x["id"]),
            name=str(x["name"]),
            properties=_plain(x["properties"]),
        )
        for x in rows
    ]


def neighbourhoods(
    driver: Driver, database: str, ids: Sequence[str], limit: int = 100
) -> dict[str, list[Neighbour]]:
    """The direct neighbourhood of many enterprises in one round trip (for a DataLoader);
    unknown ids map to an empty list."""
    if not 1 <= limit <= MAX_NEIGHBOURS:
        raise InvalidArgument(f"limit must be between 1 and {MAX_NEIGHBOURS}")
    records, _, _ = driver.execute_query(
        NEIGHBOURHOODS,
        ids=list(dict.fromkeys(ids)),
        limit=limit,
        database_=database,
        routing_=RoutingControl.READ,
    )
    found: dict[str, list[Neighbour]] = {i: [] for i in ids}
    for r in records:
        found[str(r["eid"])] = _neighbours(r["rows"])
    return found


def enterprise_cards(
    driver: Driver, database: str, ids: Sequence[str], limit: int = 100
) -> dict[str, tuple[Enterprise, list[Neighbour]]]:
    """Enterprises with their neighbourhoods (`limit` each) in one round trip, for the
    enterprise card; unknown ids are left out."""
    if not 1 <= limit <= MAX_NEIGHBOURS:
        raise InvalidArgument(f"limit must be between 1 and {MAX_NEIGHBOURS}")
    records, _, _ = driver.execute_query(
        ENTERPRISE_CARDS,
        ids=list(dict.fromkeys(ids)),
        limit=limit,
        database_=database,
        routing_=RoutingControl.READ,
    )
    return {
        str(r["eid"]): (_to_enterprise(r["enterprise"]), _neighbours(r["rows"])) for r in records
    }
