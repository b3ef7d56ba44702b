"""Equity penetration: effective ownership, ultimate beneficial owners, the actual controller
and the group of enterprises under one controller.

Effective ownership is solved as a linear system rather than by enumerating paths. With `A`
the enterprise-to-enterprise holding matrix of the ownership subgraph above the target
(`A[i, j]` = fraction of `j` held by `i`), the effective stake of `i` in target `t` is the sum
over every chain of holdings from `i` to `t` of the product of the fractions, i.e. entry
`(i, t)` of `A + A² + A³ + … = (I − A)⁻¹ − I`. Chains that run round an ownership cycle are
counted as the geometric series they are, once per distinct chain, so a cycle never inflates
a stake: what the cycle holds of itself is shared among the outside holders in proportion to
their stakes, and the effective stakes of the ultimate owners add up to exactly the shares
held from outside (100% when every share is recorded). Enumerating simple paths instead
(dropping chains that revisit a firm) would lose the part of the target that the cycle holds
of itself, so the ultimate owners would add up to less than 100% with no one owning the rest.
The solve is one sparse LU factorisation on the subgraph (a few hundred nodes at most in
practice), not per path.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import numpy as np
import scipy.sparse as sp
from neo4j import Driver, ManagedTransaction
from scipy.sparse.linalg import MatrixRankWarning, spsolve

from graph.analytics._common import check_range, read_tx, tx_rows
from graph.errors import InvalidArgument, NotFound
from graph.queries import analytics as q

MAX_OWNERSHIP_DEPTH = 30
MAX_OWNERSHIP_NODES = 20_000
MAX_GROUP_SIZE = 20_000
_PCT = Decimal("0.0001")
# A stake is a majority when strictly above this percentage.
MAJORITY = 50.0


class HolderKind(StrEnum):
    PERSON = "person"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True, slots=True)
class Holder:
    """A holder above the target: its direct and effective stake in the target.

    `ultimate` holders have no holders of their own (persons, and enterprises whose owners are
    not in the graph): they are the beneficial owners.
    """

    kind: HolderKind
    id: str
    name: str | None
    direct_pct: Decimal
    effective_pct: Decimal
    ultimate: bool
    distance: int


@dataclass(frozen=True, slots=True)
class Ownership:
    enterprise_id: str
    holders: list[Holder]
    """Every holder above the target, largest effective stake first."""

    @property
    def ultimate_owners(self) -> list[Holder]:
        return [h for h in self.holders if h.ultimate]


@dataclass(frozen=True, slots=True)
class ControlStep:
    """One link of the control chain: `holder` controls `held` by `basis`."""

    held_id: str
    holder_kind: HolderKind
    holder_id: str
    holder_name: str | None
    pct: Decimal
    basis: str  # "majority" (> 50%) or "largest" (largest single holder, no majority)


@dataclass(frozen=True, slots=True)
class Controller:
    enterprise_id: str
    chain: list[ControlStep]
    stopped: str
    """Why the chain ended: "top" (no holders above), "tie" (two largest holders equal) or
    "cycle" (the chain came back to a firm already on it)."""

    @property
    def controller(self) -> ControlStep | None:
        return self.chain[-1] if self.chain else None


@dataclass(frozen=True, slots=True)
class GroupMember:
    id: str
    name: str | None
    parent_id: str
    pct: Decimal
    depth: int


@dataclass(frozen=True, slots=True)
class ControlledGroup:
    controller_kind: HolderKind
    controller_id: str
    controller_name: str | None
    members: list[GroupMember]
    truncated: bool = False


Key = tuple[HolderKind, str]


@dataclass(slots=True)
class _Subgraph:
    """The holding structure above one enterprise: held -> [(holder key, fraction)]."""

    holders_of: dict[str, list[tuple[Key, float]]]
    names: dict[Key, str | None]
    distance: dict[Key, int]


def _pct(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(_PCT)


def _fetch_above(tx: ManagedTransaction, enterprise_id: str) -> _Subgraph:
    """The holdings above `enterprise_id`, hop by hop (NotFound when there is no such firm);
    `names` holds the firm's own name too."""
    root: Key = (HolderKind.ENTERPRISE, enterprise_id)
    rows = tx_rows(tx, q.HOLDERS_OF_ROOT, id=enterprise_id)
    if not rows:
        raise NotFound(f"no enterprise with id {enterprise_id!r}")
    holders_of: dict[str, list[tuple[Key, float]]] = {}
    names: dict[Key, str | None] = {root: rows[0]["held_name"]}
    distance: dict[Key, int] = {root: 0}
    rows = [r for r in rows if r["holder"] is not None]  # the root's holders: the first hop
    seen = {enterprise_id}
    for d in range(1, MAX_OWNERSHIP_DEPTH + 1):
        frontier: list[str] = []
        for r in rows:
            kind = HolderKind.PERSON if r["is_person"] else HolderKind.ENTERPRISE
            key = (kind, r["holder"])
            holders_of.setdefault(r["held"], []).append((key, float(r["pct"] or 0) / 100.0))
            names[key] = r["name"]
            distance.setdefault(key, d)
            if kind is HolderKind.ENTERPRISE and r["holder"] not in seen:
                seen.add(r["holder"])
                frontier.append(r["holder"])
        if len(seen) > MAX_OWNERSHIP_NODES:
            raise InvalidArgument(f"the ownership structure above {enterprise_id!r} is too large")
        if not frontier or d == MAX_OWNERSHIP_DEPTH:
            break
        rows = tx_rows(tx, q.HOLDERS_HOP, frontier=frontier)
    return _Subgraph(holders_of, names, distance)


def effective_ownership(driver: Driver, database: str, enterprise_id: str) -> Ownership:
    """Every direct and indirect holder of `enterprise_id` with its effective percentage."""
    sub = read_tx(driver, database, lambda tx: _fetch_above(tx, enterprise_id))
    target: Key = (HolderKind.ENTERPRISE, enterprise_id)
    nodes: list[Key] = sorted(sub.distance)
    index = {k: i for i, k in enumerate(nodes)}
    n = len(nodes)
    rows, cols, vals = [], [], []
    for held, holders in sub.holders_of.items():
        j = index[(HolderKind.ENTERPRISE, held)]
        for key, frac in holders:
            rows.append(index[key])
            cols.append(j)
            vals.append(frac)
    a = sp.csc_matrix((vals, (rows, cols)), shape=(n, n))
    # (I - A) x = e_t gives x = column t of (I - A)^-1: x[i] = sum over chains i -> t.
    rhs = np.zeros(n)
    rhs[index[target]] = 1.0
    system = sp.csc_matrix(sp.identity(n) - a)
    try:
        with np.errstate(all="raise"), warnings.catch_warnings():
            warnings.simplefilter("error", MatrixRankWarning)
            x = np.atleast_1d(spsolve(system, rhs))
    except (MatrixRankWarning, FloatingPointError, RuntimeError) as e:
        raise InvalidArgument(
            f"the holdings above {enterprise_id!r} form a cycle that holds itself entirely "
            "(no outside holder), so no effective ownership exists"
        ) from e
    if not np.all(np.isfinite(x)):
        raise InvalidArgument(f"the holdings above {enterprise_id!r} cannot be solved")
    direct_sum: dict[Key, float] = {}
    for key, frac in sub.holders_of.get(enterprise_id, []):
        direct_sum[key] = direct_sum.get(key, 0.0) + frac
    found: list[Holder] = []
    for key in nodes:
        if key == target:
            continue
        kind, hid = key
        ultimate = kind is HolderKind.PERSON or hid not in sub.holders_of
        found.append(
            Holder(
                kind=kind,
                id=hid,
                name=sub.names.get(key),
                direct_pct=_pct(direct_sum.get(key, 0.0) * 100),
                effective_pct=_pct(x[index[key]] * 100),
                ultimate=ultimate,
                distance=sub.distance[key],
            )
        )
    found.sort(key=lambda h: (-h.effective_pct, h.kind, h.id))
    return Ownership(enterprise_id, found)


def ultimate_owners(
    driver: Driver, database: str, enterprise_id: str, min_pct: float = 0.0
) -> list[Holder]:
    """Ultimate beneficial owners with an effective stake of at least `min_pct` percent."""
    if not 0 <= min_pct <= 100:
        raise InvalidArgument(f"min_pct must be between 0 and 100, got {min_pct}")
    owners = effective_ownership(driver, database, enterprise_id).ultimate_owners
    return [h for h in owners if h.effective_pct >= Decimal(repr(min_pct)) and h.effective_pct > 0]


def _controlling_holder(
    holders: list[tuple[Key, float]],
) -> tuple[Key, float, str] | str | None:
    """The holder that controls a firm: a majority holder, else the unique largest one.

    Returns "tie" when the two largest holders hold the same stake, None without holders.
    """
    merged: dict[Key, float] = {}
    for key, frac in holders:
        merged[key] = merged.get(key, 0.0) + frac
    if not merged:
        return None
    ranked = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))
    top_key, top = ranked[0]
    if top * 100 > MAJORITY:
        return top_key, top, "majority"
    if top <= 0 or (len(ranked) > 1 and abs(ranked[1][1] - top) < 1e-12):
        return "tie"
    return top_key, top, "largest"


def actual_controller(driver: Driver, database: str, enterprise_id: str) -> Controller:
    """The control chain of `enterprise_id`: majority holder, else largest, up to the top."""
    return read_tx(driver, database, lambda tx: _actual_controller(tx, enterprise_id))


def _actual_controller(tx: ManagedTransaction, enterprise_id: str) -> Controller:
    return _control_chain(_fetch_above(tx, enterprise_id), enterprise_id)


def _control_chain(sub: _Subgraph, enterprise_id: str) -> Controller:
    chain: list[ControlStep] = []
    current = enterprise_id
    on_chain = {enterprise_id}
    while True:
        pick = _controlling_holder(sub.holders_of.get(current, []))
        if pick is None:
            stopped = "top"
            break
        if pick == "tie":
            stopped = "tie"
            break
        assert not isinstance(pick, str)
        (kind, hid), frac, basis = pick
        if kind is HolderKind.ENTERPRISE and hid in on_chain:
            stopped = "cycle"
            break
        chain.append(
            ControlStep(
                held_id=current, holder_kind=kind, holder_id=hid,
                holder_name=sub.names.get((kind, hid)), pct=_pct(frac * 100), basis=basis,
            )
        )
        if kind is HolderKind.PERSON:
            stopped = "top"
            break
        on_chain.add(hid)
        current = hid
    return Controller(enterprise_id, chain, stopped)


def controlled_group(
    driver: Driver,
    database: str,
    controller_id: str,
    controller_kind: HolderKind | str = HolderKind.PERSON,
    max_members: int = MAX_GROUP_SIZE,
) -> ControlledGroup:
    """Every enterprise whose control chain runs through `controller_id`.

    Walks down the holdings from the controller; a held firm joins the group when its
    controlling holder (majority, else unique largest) is the controller or a member already.
    A firm reached before its controlling parent joined is reconsidered on later rounds.
    """
    try:
        kind = HolderKind(controller_kind)
    except ValueError as e:
        raise InvalidArgument(
            f"controller_kind must be person or enterprise, got {controller_kind!r}"
        ) from e
    check_range("max_members", max_members, 1, MAX_GROUP_SIZE)

    def work(tx: ManagedTransaction) -> ControlledGroup:
        name_query = q.PERSON_NAMES if kind is HolderKind.PERSON else q.ENTERPRISE_NAMES
        names = tx_rows(tx, name_query, ids=[controller_id])
        if not names:
            raise NotFound(f"no {kind.value} with id {controller_id!r}")
        return _walk_group(tx, controller_id, kind, names[0]["name"], max_members)

    return read_tx(driver, database, work)


def _walk_group(
    tx: ManagedTransaction,
    controller_id: str,
    kind: HolderKind,
    controller_name: str | None,
    max_members: int,
) -> ControlledGroup:
    """The group under a controller known to exist (its name already read by the caller)."""
    root: Key = (kind, controller_id)

    def work() -> tuple[list[GroupMember], bool]:
        members: dict[str, GroupMember] = {}
        pending: dict[str, tuple[str | None, list[tuple[Key, float]], int]] = {}
        holding: set[str] = set()  # reached firms that hold other firms
        first_hop = q.HOLDINGS_HOP_FROM_ENTERPRISE
        if kind is HolderKind.PERSON:
            first_hop = q.HOLDINGS_HOP_FROM_PERSON
        frontier, hop, depth = [controller_id], first_hop, 0
        visited = {controller_id} if kind is HolderKind.ENTERPRISE else set()
        while frontier:
            depth += 1
            rows = tx_rows(tx, hop, frontier=frontier, visited=list(visited))
            for r in rows:
                holders = [
                    (
                        (HolderKind.PERSON if h["is_person"] else HolderKind.ENTERPRISE, h["id"]),
                        float(h["pct"] or 0) / 100.0,
                    )
                    for h in r["holders"]
                ]
                pending[r["id"]] = (r["name"], holders, depth)
                if r["holds"]:
                    holding.add(r["id"])
                visited.add(r["id"])
            frontier = []
            changed = True
            while changed:  # admit every pending firm whose controlling parent is in
                changed = False
                for firm_id, (name, holders, d) in sorted(pending.items()):
                    pick = _controlling_holder(holders)
                    if pick is None or isinstance(pick, str):
                        continue
                    parent, frac, _ = pick
                    if parent == root or (
                        parent[0] is HolderKind.ENTERPRISE and parent[1] in members
                    ):
                        members[firm_id] = GroupMember(
                            firm_id, name, parent[1], _pct(frac * 100), d
                        )
                        del pending[firm_id]
                        if firm_id in holding:
                            frontier.append(firm_id)
                        changed = True
                if len(members) >= max_members:
                    ranked = sorted(members.values(), key=lambda m: (m.depth, m.id))
                    return ranked[:max_members], True
            hop = q.HOLDINGS_HOP_FROM_ENTERPRISE
        return sorted(members.values(), key=lambda m: (m.depth, m.id)), False

    members, truncated = work()
    return ControlledGroup(kind, controller_id, controller_name, members, truncated)


def group_of(driver: Driver, database: str, enterprise_id: str) -> ControlledGroup:
    """The group `enterprise_id` belongs to: everything under its actual controller (or under
    itself when nothing controls it)."""
    return read_tx(driver, database, lambda tx: group_of_in(tx, enterprise_id))


def group_of_in(tx: ManagedTransaction, enterprise_id: str) -> ControlledGroup:
    """`group_of` inside a transaction the caller holds (one snapshot, one round of retries)."""
    sub = _fetch_above(tx, enterprise_id)
    ctrl = _control_chain(sub, enterprise_id).controller
    if ctrl is None:
        own_name = sub.names[(HolderKind.ENTERPRISE, enterprise_id)]
        return _walk_group(tx, enterprise_id, HolderKind.ENTERPRISE, own_name, MAX_GROUP_SIZE)
    return _walk_group(tx, ctrl.holder_id, ctrl.holder_kind, ctrl.holder_name, MAX_GROUP_SIZE)
