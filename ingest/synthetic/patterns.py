"""Choice of the firms that carry planted patterns (the ground truth of fraud and risk models).

Members of different planted structures are disjoint and kept out of the background structure
of the same kind (corporate groups, background guarantees), so every cycle found in the data is
one that was planted on purpose.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from ingest.synthetic.plan import HISTORY_MONTHS, BoolArray, IntArray, Plan


@dataclass(slots=True)
class EquityCycle:
    id: str
    kind: str  # "cross_holding" (two firms) or "cycle" (three or four)
    members: list[int]  # members[k] holds a stake in members[k + 1] (cyclically)
    pct_bp: list[int]  # the stake of members[k] in members[k + 1], basis points


@dataclass(slots=True)
class Ring:
    id: str
    members: list[int]  # members[k] invoices members[k + 1] (cyclically)
    controller: int  # person who holds every member
    stake_bp: list[int]
    invoice_ids: list[str] = field(default_factory=list)
    payment_ids: list[str] = field(default_factory=list)
    contract_ids: list[str] = field(default_factory=list)
    windows: list[tuple[str, str]] = field(default_factory=list)
    shipped: bool = False  # fakes a shipment per leg (trade noise)


@dataclass(slots=True)
class ShellCluster:
    id: str
    members: list[int]
    shared: list[str]  # subset of address, phone, legal_representative
    buyers: list[int]
    legal_rep: int = -1
    invoice_ids: list[str] = field(default_factory=list)
    shipped: bool = False  # fakes a shipment per invoice (trade noise)


@dataclass(slots=True)
class Twin:
    a: int
    b: int
    kind: str  # "look_alike_trade_name" or "same_trade_name_other_region"


def shell_cluster_sizes(n: int, r: random.Random) -> list[int]:
    return [r.randint(3, 8) for _ in range(max(2, n // 400))]


def _take(r: random.Random, pool: list[int], used: BoolArray, k: int) -> list[int] | None:
    """k distinct unused firms from pool (marked used), or None when the pool runs dry."""
    out: list[int] = []
    tries = 0
    while len(out) < k and tries < 50 * k:
        tries += 1
        i = pool[int(r.random() * len(pool))]
        if not used[i] and i not in out:
            out.append(i)
    if len(out) < k:
        return None
    used[out] = True
    return out


def regular_pool(plan: Plan) -> list[int]:
    """Non-core, non-shell firms: the population patterns are planted in."""
    return np.flatnonzero(~plan.is_core & ~plan.is_shell).tolist()


def choose_equity_cycles(plan: Plan, r: random.Random, used: BoolArray) -> list[EquityCycle]:
    out: list[EquityCycle] = []
    pool = regular_pool(plan)
    for k in range(max(2, plan.n // 1000)):
        m = _take(r, pool, used, 2)
        if m:
            out.append(EquityCycle(f"EQX-{k + 1:04d}", "cross_holding", m,
                                   [r.randint(5, 20) * 100 for _ in m]))
    for k in range(max(2, plan.n // 1500)):
        m = _take(r, pool, used, r.randint(3, 4))
        if m:
            out.append(EquityCycle(f"EQC-{k + 1:04d}", "cycle", m,
                                   [r.randint(5, 25) * 100 for _ in m]))
    return out


def choose_guarantee_circles(plan: Plan, r: random.Random, used: BoolArray) -> list[list[int]]:
    pool = regular_pool(plan)
    circles: list[list[int]] = []
    for _ in range(max(3, plan.n // 400)):
        m = _take(r, pool, used, r.choice((2, 2, 3, 3, 4, 5, 6)))
        if m:
            circles.append(m)
    return circles


def choose_rings(
    plan: Plan, r: random.Random, used: BoolArray, default_month: IntArray, persons: int
) -> list[Ring]:
    """Circular-trade rings among related parties that were alive at the as-of date."""
    alive = (default_month < 0) | (default_month >= HISTORY_MONTHS)
    pool = [i for i in regular_pool(plan) if alive[i] and plan.parent[i] < 0]
    rings: list[Ring] = []
    for k in range(max(3, plan.n // 500)):
        m = _take(r, pool, used, r.randint(3, 6))
        if m:
            rings.append(Ring(f"RING-{k + 1:04d}", m, r.randrange(persons),
                              [r.randint(30, 60) * 100 for _ in m]))
    return rings


def choose_twins(plan: Plan, r: random.Random) -> list[Twin]:
    """Pairs of different real firms with near-identical names (hard negatives for ER)."""
    twins: list[Twin] = []
    taken: set[int] = set()
    for _ in range(max(3, plan.n // 200)):
        c = r.randrange(len(plan.members))
        f = r.randrange(len(plan.members[c]))
        group = plan.members[c][f]
        if len(group) < 2:
            continue
        a = int(group[int(r.random() * len(group))])
        b = int(group[int(r.random() * len(group))])
        a, b = min(a, b), max(a, b)
        if a == b or a in taken or b in taken:
            continue
        taken.update((a, b))
        kind = "look_alike_trade_name" if r.random() < 0.5 else "same_trade_name_other_region"
        twins.append(Twin(a, b, kind))
    return twins
