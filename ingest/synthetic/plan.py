"""The structure of a synthetic economy, planned in per-enterprise numpy arrays.

Nothing here writes files: the plan fixes who is in which chain and tier, who trades with whom
(preferential attachment, so degrees are heavy-tailed), who owns whom and who guarantees whom.
Arrays of a few numbers per enterprise and per trade relationship are all that is held, so a
million enterprises fit in memory; invoices are produced later, one relationship at a time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt

from ingest.synthetic.chains import CHAINS, CORE_FLOW, FLOW_POSITIONS
from ingest.synthetic.regions import REGION_INDEX

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

HISTORY_MONTHS = 24  # trade history written to the data files
FUTURE_MONTHS = 12  # simulated beyond the as-of date for the default labels only

# Share of the non-core firms of a chain at each flow position (cores excluded).
_FLOW_SHARE = {0: 0.19, 1: 0.16, 2: 0.15, 3: 0.13, 4: 0.11, 6: 0.08, 7: 0.08, 8: 0.10}


def add_months(d: date, months: int) -> date:
    """The first day of the month ``months`` after the month of ``d``."""
    total = d.year * 12 + (d.month - 1) + months
    return date(total // 12, total % 12 + 1, 1)


def as_of_for_seed(seed: int) -> date:
    """The fixed as-of date of a seed: the last day of a month in 2025 (never today)."""
    next_first = add_months(date(2025, 1 + seed % 12, 1), 1)
    return date.fromordinal(next_first.toordinal() - 1)


@dataclass(slots=True)
class Calendar:
    """Month boundaries (as date ordinals) of the history and the simulated future."""

    as_of: date
    month_start: list[int]  # HISTORY_MONTHS + FUTURE_MONTHS + 1 boundaries

    @classmethod
    def for_as_of(cls, as_of: date) -> Calendar:
        first = add_months(as_of, -(HISTORY_MONTHS - 1))
        starts = [add_months(first, t).toordinal()
                  for t in range(HISTORY_MONTHS + FUTURE_MONTHS + 1)]
        return cls(as_of, starts)

    @property
    def start(self) -> int:
        return self.month_start[0]

    @property
    def as_of_ord(self) -> int:
        return self.as_of.toordinal()


@dataclass(slots=True)
class Plan:
    """Per-enterprise and per-relationship arrays; index i is enterprise ``E{i+1:07d}``."""

    n: int
    chain: IntArray  # primary chain index, -1 for shell companies
    flow: IntArray  # flow position 0..8 (CORE_FLOW is the core), -1 for shells
    is_core: BoolArray
    is_shell: BoolArray
    second_chain: IntArray  # a second chain the firm also trades in, -1 if none
    size: FloatArray  # relative business size
    region: IntArray  # index into REGIONS
    founded: IntArray  # date ordinal
    capital: IntArray  # registered capital, fen
    rank: IntArray  # 0 = largest; ownership and guarantees point from lower to higher rank
    parent: IntArray  # corporate parent (majority holder), -1 if none
    members: list[list[IntArray]]  # members[chain][flow] -> enterprise indexes
    # trade relationships (seller -> buyer), one contract each
    e_seller: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    e_buyer: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    e_chain: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    e_start: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # month index
    e_rate: FloatArray = field(default_factory=lambda: np.zeros(0))  # invoices per month
    e_value: FloatArray = field(default_factory=lambda: np.zeros(0))  # median invoice, fen
    # guarantees (guarantor enterprise -> beneficiary); person guarantees are added on writing
    g_from: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    g_to: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    g_amount: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    g_circle: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # -1 = none


def plan_enterprises(n: int, n_shells: int, rng: np.random.Generator, cal: Calendar) -> Plan:
    """Assign chains, flow positions, sizes, regions, founding dates and capital."""
    regular = n - n_shells
    weights = np.array([c.weight for c in CHAINS])
    per_chain = np.floor(weights / weights.sum() * regular).astype(np.int64)
    per_chain[0] += regular - int(per_chain.sum())

    chain_s: list[int] = []
    flow_s: list[int] = []
    for c, m in enumerate(per_chain.tolist()):
        cores = max(2, round(m * 0.004))
        rest = m - cores
        counts = {f: max(1, int(rest * s)) for f, s in _FLOW_SHARE.items()}
        counts[0] += rest - sum(counts.values())
        counts[CORE_FLOW] = cores
        for f in range(FLOW_POSITIONS):
            chain_s += [c] * counts[f]
            flow_s += [f] * counts[f]
    chain_s += [-1] * n_shells
    flow_s += [-1] * n_shells

    # Enterprise ids are a random permutation of the structural order, so an id says nothing.
    perm = rng.permutation(n)
    chain = np.empty(n, np.int64)
    flow = np.empty(n, np.int64)
    chain[perm] = np.array(chain_s, np.int64)
    flow[perm] = np.array(flow_s, np.int64)
    is_core = flow == CORE_FLOW
    is_shell = flow < 0

    size = rng.lognormal(0.0, 0.8, n)
    size[is_core] *= 25.0
    size[is_shell] = 0.05

    region = np.empty(n, np.int64)
    for c, ch in enumerate(CHAINS):
        for f, role in enumerate(ch.roles):
            idx = np.flatnonzero((chain == c) & (flow == f))
            codes = np.array([REGION_INDEX[r] for r in role.regions], np.int64)
            region[idx] = codes[rng.integers(0, len(codes), len(idx))]
    shells = np.flatnonzero(is_shell)
    region[shells] = rng.integers(0, len(REGION_INDEX), len(shells))

    as_of = cal.as_of_ord
    founded = as_of - rng.integers(3 * 365, 28 * 365, n)
    founded[is_core] = as_of - rng.integers(18 * 365, 35 * 365, int(is_core.sum()))
    # Shells are founded 3 to 9 months before the as-of date.
    founded[is_shell] = as_of - rng.integers(90, 270, len(shells))

    capital_yuan = np.round(np.exp(rng.normal(np.log(3e6), 1.0, n)) * np.sqrt(size), -4)
    capital_yuan = np.maximum(capital_yuan, 100_000)
    capital_yuan[is_core] = np.round(rng.uniform(5e8, 5e9, int(is_core.sum())), -6)
    capital_yuan[is_shell] = rng.choice([10_000, 30_000, 50_000, 100_000], len(shells))
    capital = (capital_yuan * 100).astype(np.int64)

    # Rank by size (cores first, shells last); ties broken by the random permutation.
    order = np.lexsort((perm, -np.where(is_shell, -1.0, size)))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)

    members = [
        [np.flatnonzero((chain == c) & (flow == f)) for f in range(FLOW_POSITIONS)]
        for c in range(len(CHAINS))
    ]
    return Plan(
        n=n, chain=chain, flow=flow, is_core=is_core, is_shell=is_shell,
        second_chain=np.full(n, -1, np.int64), size=size, region=region, founded=founded,
        capital=capital, rank=rank, parent=np.full(n, -1, np.int64), members=members,
    )


def _partner_count(r: random.Random, limit: int) -> int:
    u = r.random()
    k = 1 if u < 0.5 else 2 if u < 0.8 else 3 if u < 0.95 else 4
    return min(k, limit)


def _attach(
    r: random.Random, choosers: IntArray, targets: IntArray,
    out_a: list[int], out_b: list[int], choosers_sell: bool,
) -> None:
    """Preferential attachment: each chooser links to k targets with P ~ (links so far + 1)."""
    if len(targets) == 0:
        return
    urn = targets.tolist()
    for a in r.sample(choosers.tolist(), len(choosers)):
        picked: set[int] = set()
        for _ in range(_partner_count(r, len(targets))):
            b = urn[int(r.random() * len(urn))]
            tries = 0
            while b in picked and tries < 8:
                b = urn[int(r.random() * len(urn))]
                tries += 1
            if b in picked:
                continue
            picked.add(b)
            urn.append(b)
            if choosers_sell:
                out_a.append(a)
                out_b.append(b)
            else:
                out_a.append(b)
                out_b.append(a)


def plan_trade(plan: Plan, r: random.Random, rng: np.random.Generator) -> None:
    """Trade relationships between adjacent flow positions, plus some cross-chain firms.

    Upstream firms choose their buyers and downstream firms their sellers, so every firm has a
    path of exactly its tier to a core enterprise.
    """
    sellers: list[int] = []
    buyers: list[int] = []
    chains: list[int] = []
    for c in range(len(CHAINS)):
        for f in range(FLOW_POSITIONS - 1):
            before = len(sellers)
            lower, upper = plan.members[c][f], plan.members[c][f + 1]
            if f + 1 <= CORE_FLOW:
                _attach(r, lower, upper, sellers, buyers, choosers_sell=True)
            else:
                _attach(r, upper, lower, sellers, buyers, choosers_sell=False)
            chains += [c] * (len(sellers) - before)

    # About 3% of the non-core firms also trade in a second chain at the same position.
    candidates = np.flatnonzero(~plan.is_core & ~plan.is_shell & (plan.flow > 0)
                                & (plan.flow < FLOW_POSITIONS - 1))
    cross = rng.choice(candidates, size=min(len(candidates), max(2, plan.n // 33)), replace=False)
    for i in sorted(cross.tolist()):
        f = int(plan.flow[i])
        c2 = (int(plan.chain[i]) + 1 + r.randrange(len(CHAINS) - 1)) % len(CHAINS)
        plan.second_chain[i] = c2
        partners = plan.members[c2][f + 1] if f < CORE_FLOW else plan.members[c2][f - 1]
        for _ in range(1 + (r.random() < 0.3)):
            p = int(partners[int(r.random() * len(partners))])
            if f < CORE_FLOW:
                sellers.append(i)
                buyers.append(p)
            else:
                sellers.append(p)
                buyers.append(i)
            chains.append(c2)

    plan.e_seller = np.array(sellers, np.int64)
    plan.e_buyer = np.array(buyers, np.int64)
    plan.e_chain = np.array(chains, np.int64)
    m = len(sellers)
    start = np.where(rng.random(m) < 0.75, 0, rng.integers(1, HISTORY_MONTHS - 4, m))
    plan.e_start = start.astype(np.int64)
    core_edge = plan.is_core[plan.e_seller] | plan.is_core[plan.e_buyer]
    plan.e_rate = 0.24 * rng.lognormal(0.0, 0.5, m) * np.where(core_edge, 1.5, 1.0)
    base = np.array([CHAINS[c].roles[f].invoice_value
                     for c, f in zip(plan.e_chain.tolist(), plan.flow[plan.e_seller].tolist(),
                                     strict=True)], np.float64)
    scale = (plan.size[plan.e_seller] * plan.size[plan.e_buyer]) ** 0.25
    plan.e_value = base * scale * rng.lognormal(0.0, 0.3, m)


def plan_parents(plan: Plan, r: random.Random, exclude: BoolArray) -> None:
    """Corporate groups: some firms are majority-owned by a larger firm (multi-level chains)."""
    by_rank = np.argsort(plan.rank)
    for i in by_rank.tolist():
        if plan.is_core[i] or plan.is_shell[i] or exclude[i] or r.random() >= 0.15:
            continue
        rank_i = int(plan.rank[i])
        if rank_i < 2:
            continue
        j = int(by_rank[int(rank_i * r.random() ** 2)])
        if exclude[j] or plan.is_shell[j]:
            continue
        plan.parent[i] = j


def plan_guarantees(plan: Plan, r: random.Random, circles: list[list[int]]) -> None:
    """Background guarantees from larger to smaller firms (acyclic) plus the planted circles."""
    in_circle = np.zeros(plan.n, np.bool_)
    for members in circles:
        in_circle[members] = True
    g_from: list[int] = []
    g_to: list[int] = []
    g_amount: list[int] = []
    g_circle: list[int] = []
    eligible = np.flatnonzero(~plan.is_shell & ~in_circle)
    by_rank = eligible[np.argsort(plan.rank[eligible])]
    count = int(len(eligible) * 0.2)
    for _ in range(count):
        b_pos = 1 + int(r.random() * (len(by_rank) - 1))
        b = int(by_rank[b_pos])
        if plan.parent[b] >= 0 and not in_circle[plan.parent[b]] and r.random() < 0.5:
            g = int(plan.parent[b])
        else:
            g = int(by_rank[int(b_pos * r.random() ** 1.5)])
        if g == b:
            continue
        g_from.append(g)
        g_to.append(b)
        g_amount.append(int(plan.capital[b] * r.uniform(0.3, 2.0)) // 100_000 * 100_000)
        g_circle.append(-1)
    for k, members in enumerate(circles):
        for j, g in enumerate(members):
            b = members[(j + 1) % len(members)]
            g_from.append(g)
            g_to.append(b)
            amount = int(min(plan.capital[g], plan.capital[b]) * r.uniform(1.0, 3.0))
            g_amount.append(max(amount // 1_000_000 * 1_000_000, 100_000_000))
            g_circle.append(k)
    plan.g_from = np.array(g_from, np.int64)
    plan.g_to = np.array(g_to, np.int64)
    plan.g_amount = np.array(g_amount, np.int64)
    plan.g_circle = np.array(g_circle, np.int64)
