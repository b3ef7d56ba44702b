"""Guarantee risk: guarantee circles (担保圈) and the guarantee chains reaching an enterprise.

A circle is a strongly connected component of the enterprise-to-enterprise `GUARANTEES`
graph with two or more firms: within it every firm stands, directly or through others, behind
every other, so one default can come back round to the firm that started it. The full scan
projects the guarantee edges once and runs networkx's linear-time SCC; the circle of one
enterprise is the intersection of what it reaches and what reaches it (two frontier walks),
with no full scan. The elementary cycles inside a circle are listed up to a length bound.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import networkx as nx
from neo4j import Driver, ManagedTransaction

from graph.analytics._common import check_range, read, read_tx, require_enterprise, tx_rows
from graph.queries import analytics as q

MAX_CYCLE_LENGTH = 8
MAX_CYCLES_PER_CIRCLE = 200
MAX_CHAINS = 200
# A single-enterprise circle search refuses to walk more firms than this.
MAX_CIRCLE_WALK = 50_000


@dataclass(frozen=True, slots=True)
class GuaranteeLink:
    guarantee_id: str | None
    guarantor_id: str
    beneficiary_id: str
    amount: int


@dataclass(frozen=True, slots=True)
class GuaranteeCycle:
    """Firms guaranteeing each other round a cycle: members[i] guarantees members[i+1]."""

    members: list[str]
    links: list[GuaranteeLink]

    @property
    def total_amount(self) -> int:
        return sum(link.amount for link in self.links)


@dataclass(frozen=True, slots=True)
class GuaranteeCircle:
    id: str
    members: list[str]
    links: list[GuaranteeLink]
    cycles: list[GuaranteeCycle]
    cycles_truncated: bool

    @property
    def total_amount(self) -> int:
        return sum(link.amount for link in self.links)

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass(frozen=True, slots=True)
class GuaranteeChain:
    """A chain of guarantees: ids[i] guarantees ids[i+1]."""

    ids: list[str]
    names: list[str | None]
    links: list[GuaranteeLink]


def _graph(rows: Iterable[dict[str, Any]]) -> nx.DiGraph[str]:
    graph: nx.DiGraph[str] = nx.DiGraph()
    for r in rows:
        link = GuaranteeLink(r["id"], r["guarantor"], r["beneficiary"], int(r["amount"]))
        if graph.has_edge(link.guarantor_id, link.beneficiary_id):
            graph[link.guarantor_id][link.beneficiary_id]["links"].append(link)
        else:
            graph.add_edge(link.guarantor_id, link.beneficiary_id, links=[link])
    return graph


def _circle(
    graph: nx.DiGraph[str], members: set[str], max_cycle_length: int, max_cycles: int
) -> GuaranteeCircle:
    sub = graph.subgraph(members)
    links = sorted(
        (link for _, _, data in sub.edges(data=True) for link in data["links"]),
        key=lambda link: (link.guarantor_id, link.beneficiary_id, link.guarantee_id or ""),
    )
    raw = list(itertools.islice(
        nx.simple_cycles(sub, length_bound=max_cycle_length), max_cycles + 1
    ))  # fmt: skip
    cycles = []
    for cycle in raw[:max_cycles]:
        start = cycle.index(min(cycle))
        ordered = cycle[start:] + cycle[:start]
        hops = itertools.pairwise([*ordered, ordered[0]])
        cycle_links = [link for u, v in hops for link in sub[u][v]["links"]]
        cycles.append(GuaranteeCycle(ordered, cycle_links))
    cycles.sort(key=lambda c: (len(c.members), c.members))
    ordered_members = sorted(members)
    return GuaranteeCircle(
        id=f"GC-{ordered_members[0]}",
        members=ordered_members,
        links=links,
        cycles=cycles,
        cycles_truncated=len(raw) > max_cycles,
    )


def guarantee_circles(
    driver: Driver,
    database: str,
    max_cycle_length: int = 6,
    max_cycles_per_circle: int = 50,
) -> list[GuaranteeCircle]:
    """Every guarantee circle of the graph, largest first (a full scan)."""
    check_range("max_cycle_length", max_cycle_length, 2, MAX_CYCLE_LENGTH)
    check_range("max_cycles_per_circle", max_cycles_per_circle, 1, MAX_CYCLES_PER_CIRCLE)
    rows = read(driver, database, q.ALL_ENTERPRISE_GUARANTEES)[0]["rows"]
    fields = ("guarantor", "beneficiary", "id", "amount")
    graph = _graph(dict(zip(fields, row, strict=True)) for row in rows)
    circles = [
        _circle(graph, set(component), max_cycle_length, max_cycles_per_circle)
        for component in nx.strongly_connected_components(graph)
        if len(component) > 1
    ]
    circles.sort(key=lambda c: (-c.size, c.id))
    return circles


def _walk(tx: ManagedTransaction, start: str, hop: str) -> set[str]:
    seen, frontier = {start}, [start]
    while frontier:
        frontier = [r["id"] for r in tx_rows(tx, hop, frontier=frontier, visited=list(seen))]
        seen.update(frontier)
        if len(seen) > MAX_CIRCLE_WALK:
            break
    return seen


def circle_of(
    driver: Driver,
    database: str,
    enterprise_id: str,
    max_cycle_length: int = 6,
    max_cycles: int = 50,
) -> GuaranteeCircle | None:
    """The guarantee circle containing `enterprise_id`, or None when it is in none."""
    check_range("max_cycle_length", max_cycle_length, 2, MAX_CYCLE_LENGTH)
    check_range("max_cycles", max_cycles, 1, MAX_CYCLES_PER_CIRCLE)
    require_enterprise(driver, database, enterprise_id)

    def work(tx: ManagedTransaction) -> set[str]:
        forward = _walk(tx, enterprise_id, q.GUARANTEE_HOP_OUT)
        backward = _walk(tx, enterprise_id, q.GUARANTEE_HOP_IN)
        return forward & backward

    members = read_tx(driver, database, work)
    if len(members) < 2:
        return None
    graph = _graph(read(driver, database, q.GUARANTEES_AMONG, ids=sorted(members)))
    return _circle(graph, members, max_cycle_length, max_cycles)


def guarantee_chains(
    driver: Driver,
    database: str,
    enterprise_id: str,
    depth: int = 3,
    incoming: bool = True,
    limit: int = 100,
) -> list[GuaranteeChain]:
    """Guarantee chains ending at the enterprise (who stands behind it, and behind them) or,
    with `incoming=False`, starting from it (whose debts could fall on it), shortest first."""
    check_range("depth", depth, 1, q.MAX_GUARANTEE_CHAIN)
    check_range("limit", limit, 1, MAX_CHAINS)
    require_enterprise(driver, database, enterprise_id)
    rows = read(
        driver, database, q.guarantee_chains(depth, incoming), id=enterprise_id, limit=limit
    )
    chains = []
    for r in rows:
        ids = list(r["ids"])
        links = [
            GuaranteeLink(link["id"], u, v, int(link["amount"]))
            for (u, v), link in zip(itertools.pairwise(ids), r["links"], strict=True)
        ]
        chains.append(GuaranteeChain(ids, list(r["names"]), links))
    return chains
