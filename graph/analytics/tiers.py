"""Upstream and downstream tiers of an enterprise, the N+1+N view of a core, trade paths.

Tiers are an iterative frontier walk over `SUPPLIES`: one query per tier expands the firms of
the previous tier and skips every firm already placed, so each firm appears once, at its
minimum tier, and the work is linear in the relationships touched. A variable-length Cypher
path (`[:SUPPLIES*1..5]`) would enumerate every path to every firm first, which explodes on a
dense chain (see `bench/analytics.py` for the comparison).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import networkx as nx
from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.analytics._common import check_range, read, read_tx, require_enterprise, tx_rows
from graph.errors import InvalidArgument, NotFound
from graph.queries import analytics as q

MAX_DEPTH = 5
MAX_PATH_LENGTH = 6
MAX_PATHS = 200
# A walk that places more firms than this stops and says so (`truncated`).
DEFAULT_MAX_FIRMS = 50_000
# Nodes a path search may consider before it refuses as too broad.
MAX_PATH_SEARCH_NODES = 20_000


class Direction(StrEnum):
    UPSTREAM = "upstream"  # suppliers, their suppliers, ...
    DOWNSTREAM = "downstream"  # buyers, their buyers, ...


@dataclass(frozen=True, slots=True)
class TierLink:
    """Trade between a firm and one firm of the next tier toward the focal firm."""

    counterparty_id: str
    amount_12m: int
    invoices_12m: int
    first_on: date | None
    last_on: date | None


@dataclass(frozen=True, slots=True)
class TierFirm:
    """A firm at its minimum tier, with its trade toward the focal firm.

    `volume` is the 12-month trade on its links to the next tier (minor units); `share` is
    that volume over all the purchases (upstream) or sales (downstream) of those next-tier
    firms, so 0.4 means it supplies 40% of what its tier-(k-1) customers buy.
    """

    id: str
    name: str | None
    tier: int
    volume: int
    invoices: int
    share: float
    links: tuple[TierLink, ...]

    @property
    def main_link(self) -> TierLink:
        """The heaviest link toward the focal firm (ties broken by id)."""
        return min(self.links, key=lambda link: (-link.amount_12m, link.counterparty_id))


@dataclass(frozen=True, slots=True)
class Tiers:
    focal_id: str
    focal_name: str | None
    direction: Direction
    depth: int
    firms: list[TierFirm]
    truncated: bool = False

    def tier(self, k: int) -> list[TierFirm]:
        return [f for f in self.firms if f.tier == k]

    def path_to_focal(self, firm_id: str) -> list[str]:
        """Firm ids from `firm_id` to the focal firm along the heaviest links."""
        by_id = {f.id: f for f in self.firms}
        path = [firm_id]
        current = by_id.get(firm_id)
        if current is None:
            raise NotFound(f"{firm_id!r} is not in these tiers of {self.focal_id!r}")
        while current is not None:
            nxt = current.main_link.counterparty_id
            path.append(nxt)
            current = by_id.get(nxt)
        return path


@dataclass(frozen=True, slots=True)
class ChainView:
    """The N+1+N view of a core enterprise: N tiers up, the core, N tiers down."""

    core_id: str
    core_name: str | None
    upstream: Tiers
    downstream: Tiers


@dataclass(frozen=True, slots=True)
class TradeHop:
    seller_id: str
    buyer_id: str
    amount_12m: int


@dataclass(frozen=True, slots=True)
class TradePath:
    ids: list[str]
    names: list[str | None]
    hops: list[TradeHop]

    @property
    def length(self) -> int:
        return len(self.hops)


@dataclass(frozen=True, slots=True)
class TradePaths:
    paths: list[TradePath]
    total: int
    truncated: bool = False
    names: dict[str, str | None] = field(default_factory=dict)


def _walk(
    driver: Driver,
    database: str,
    focal_id: str,
    direction: Direction,
    depth: int,
    max_firms: int,
) -> tuple[str | None, list[TierFirm], bool]:
    query = q.TIER_WALK[(direction is Direction.UPSTREAM, depth)]
    records, _, _ = driver.execute_query(
        query, id=focal_id, max_firms=max_firms, database_=database,
        routing_=RoutingControl.READ,
    )  # fmt: skip
    if not records:
        raise NotFound(f"no enterprise with id {focal_id!r}")
    # One row per link: [id, name, via, total, amount, invoices, first_on, last_on, tier]
    # (lists rather than maps: a large walk returns tens of thousands of values). Built in one
    # pass without intermediate groups: at 5k firms this loop is a third of the call.
    first_row: dict[str, list[Any]] = {}
    links_of: dict[str, list[TierLink]] = {}
    denominator: dict[str, int] = {}
    for row in records[0]["found"]:
        firm_id = row[0]
        link = TierLink(row[2], int(row[4]), int(row[5]), _as_date(row[6]), _as_date(row[7]))
        if firm_id in first_row:
            links_of[firm_id].append(link)
            denominator[firm_id] += int(row[3])
        else:
            first_row[firm_id], links_of[firm_id] = row, [link]
            denominator[firm_id] = int(row[3])
    firms: list[TierFirm] = []
    for firm_id, row in first_row.items():
        links = links_of[firm_id]
        if len(links) > 1:
            links.sort(key=lambda link: link.counterparty_id)
        volume = sum(link.amount_12m for link in links)
        total = denominator[firm_id]
        firms.append(
            TierFirm(
                id=firm_id, name=row[1], tier=int(row[8]), volume=volume,
                invoices=sum(link.invoices_12m for link in links),
                share=volume / total if total else 0.0, links=tuple(links),
            )
        )  # fmt: skip
    firms.sort(key=lambda f: (f.tier, -f.volume, f.id))
    truncated = len(firms) > max_firms
    return records[0]["name"], firms[:max_firms], truncated


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if type(value) is str:
        return date.fromisoformat(value)
    return value.to_native() if hasattr(value, "to_native") else value  # type: ignore[no-any-return]


def tiers(
    driver: Driver,
    database: str,
    enterprise_id: str,
    direction: Direction | str = Direction.UPSTREAM,
    depth: int = MAX_DEPTH,
    max_firms: int = DEFAULT_MAX_FIRMS,
) -> Tiers:
    """Tiers 1..depth of `enterprise_id` in one direction, each firm once at its minimum tier."""
    try:
        direction = Direction(direction)
    except ValueError as e:
        raise InvalidArgument(f"direction must be upstream or downstream, got {direction!r}") from e
    check_range("depth", depth, 1, MAX_DEPTH)
    check_range("max_firms", max_firms, 1, DEFAULT_MAX_FIRMS)
    name, firms, truncated = _walk(driver, database, enterprise_id, direction, depth, max_firms)
    return Tiers(enterprise_id, name, direction, depth, firms, truncated)


def chain_view(
    driver: Driver, database: str, core_id: str, up: int = MAX_DEPTH, down: int = MAX_DEPTH
) -> ChainView:
    """The N+1+N view: `up` tiers of suppliers and `down` tiers of buyers around a core."""
    check_range("up", up, 1, MAX_DEPTH)
    check_range("down", down, 1, MAX_DEPTH)
    upstream = tiers(driver, database, core_id, Direction.UPSTREAM, up)
    downstream = tiers(driver, database, core_id, Direction.DOWNSTREAM, down)
    return ChainView(core_id, upstream.focal_name, upstream, downstream)


def shortest_trade_path(
    driver: Driver,
    database: str,
    source_id: str,
    target_id: str,
    max_length: int = q.MAX_SHORTEST_PATH,
    directed: bool = False,
) -> TradePath | None:
    """The shortest chain of `SUPPLIES` links between two enterprises (None when none).

    `directed` follows the flow of goods from `source_id` to `target_id`; otherwise any
    trade link counts whichever way it points.
    """
    check_range("max_length", max_length, 1, q.MAX_SHORTEST_PATH)
    if source_id == target_id:
        raise InvalidArgument("source and target are the same enterprise")
    for firm in (source_id, target_id):
        require_enterprise(driver, database, firm)
    rows = read(
        driver,
        database,
        q.shortest_trade_path(max_length, directed),
        source=source_id,
        target=target_id,
    )
    if not rows:
        return None
    row = rows[0]
    hops = [TradeHop(h["seller"], h["buyer"], int(h["amount"])) for h in row["hops"]]
    return TradePath(list(row["ids"]), list(row["names"]), hops)


def _reach(
    tx: ManagedTransaction, start: str, hop: str, depth: int, limit: int
) -> dict[str, int]:
    """Distance (in hops, up to `depth`) of every firm reachable from `start` by `hop`."""
    dist = {start: 0}
    frontier = [start]
    for d in range(1, depth + 1):
        if not frontier:
            break
        rows = tx_rows(tx, hop, frontier=frontier, visited=list(dist))
        frontier = [r["id"] for r in rows]
        for firm in frontier:
            dist[firm] = d
        if len(dist) > limit:
            raise InvalidArgument(
                f"the trade neighbourhood within {depth} hops exceeds {limit} firms; "
                "lower max_length"
            )
    return dist


def simple_trade_paths(
    driver: Driver,
    database: str,
    source_id: str,
    target_id: str,
    max_length: int = 4,
    directed: bool = True,
    first: int = 50,
    offset: int = 0,
) -> TradePaths:
    """All simple trade paths from `source_id` to `target_id` of at most `max_length` links.

    The search first keeps only firms that can lie on such a path (distance from the source
    plus distance to the target within the bound, found by two frontier walks), then
    enumerates paths on that small subgraph. Paths come shortest first, then by ids, so that
    `offset` pages are stable.
    """
    check_range("max_length", max_length, 1, MAX_PATH_LENGTH)
    check_range("first", first, 1, MAX_PATHS)
    if offset < 0:
        raise InvalidArgument("offset must not be negative")
    if source_id == target_id:
        raise InvalidArgument("source and target are the same enterprise")
    for firm in (source_id, target_id):
        require_enterprise(driver, database, firm)
    fwd = q.REACH_HOP["downstream" if directed else "both"]
    bwd = q.REACH_HOP["upstream" if directed else "both"]

    def work(tx: ManagedTransaction) -> tuple[dict[str, int], dict[str, int]]:
        a = _reach(tx, source_id, fwd, max_length, MAX_PATH_SEARCH_NODES)
        b = _reach(tx, target_id, bwd, max_length, MAX_PATH_SEARCH_NODES)
        return a, b

    from_source, to_target = read_tx(driver, database, work)
    keep = sorted(
        n for n in from_source if n in to_target and from_source[n] + to_target[n] <= max_length
    )
    if target_id not in keep:
        return TradePaths([], 0)
    edges = read(driver, database, q.SUPPLIES_AMONG, ids=keep)
    graph: nx.Graph[str] = nx.DiGraph() if directed else nx.Graph()
    amounts: dict[tuple[str, str], int] = {}
    for e in edges:
        graph.add_edge(e["seller"], e["buyer"])
        amounts[(e["seller"], e["buyer"])] = int(e["amount"])
    found = sorted(
        nx.all_simple_paths(graph, source_id, target_id, cutoff=max_length),
        key=lambda p: (len(p), p),
    )
    names = _names(driver, database, keep)
    page = []
    for ids in found[offset : offset + first]:
        hops = []
        for u, v in itertools.pairwise(ids):
            if (u, v) in amounts:
                hops.append(TradeHop(u, v, amounts[(u, v)]))
            else:
                hops.append(TradeHop(v, u, amounts[(v, u)]))
        page.append(TradePath(list(ids), [names.get(i) for i in ids], hops))
    return TradePaths(page, len(found), names=names)


def _names(driver: Driver, database: str, ids: list[str]) -> dict[str, str | None]:
    rows = read(driver, database, q.ENTERPRISE_NAMES, ids=ids)
    return {r["id"]: r["name"] for r in rows}
