"""The exposure network of enterprises, read from the graph, and "what if" simulations on it.

Kinds of exposure (``creditor`` loses if ``debtor`` defaults), each a sparse n × n matrix in
minor units:

- ``trade``: receivables — invoices not yet paid (amount plus tax minus payments);
- ``guarantee``: a guarantor owes its beneficiary's debt if the beneficiary defaults;
- ``voucher``: e-credit vouchers held, owed by their issuer;
- ``equity``: an enterprise shareholder's share of the held firm's equity.

Lenders' live financings are kept apart (lenders are outside the enterprise network): a
"what if" reports their exposure hit, ``amount × distress`` of each borrower, which is how
DebtRank values a claim on a distressed debtor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import scipy.sparse as sp
from neo4j import Driver
from numpy.typing import NDArray

from chainlens.logs import get_logger
from gnn.contagion import debtrank, leverage_matrix
from gnn.errors import InvalidInput
from graph.queries import risk as q

log = get_logger(__name__)

EXPOSURE_KINDS: tuple[str, ...] = ("trade", "guarantee", "voucher", "equity")

# Equity of a firm with no registered capital or equity figure: the median of the others.
_FALLBACK_EQUITY = 1_000_000_00  # ¥1m in fen, used only when no firm has a figure


@dataclass
class _Accumulator:
    """Collects (row, col, amount) triples and compacts them into a CSR matrix as it goes."""

    n: int
    rows: list[NDArray[np.int64]] = field(default_factory=list)
    cols: list[NDArray[np.int64]] = field(default_factory=list)
    vals: list[NDArray[np.float64]] = field(default_factory=list)
    buffered: int = 0
    matrix: sp.csr_matrix | None = None

    def add(self, r: NDArray[np.int64], c: NDArray[np.int64], v: NDArray[np.float64]) -> None:
        self.rows.append(r)
        self.cols.append(c)
        self.vals.append(v)
        self.buffered += r.size
        if self.buffered > 2_000_000:
            self._compact()

    def _compact(self) -> None:
        if self.rows:
            part = sp.coo_matrix(
                (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
                shape=(self.n, self.n),
            ).tocsr()
            self.matrix = part if self.matrix is None else sp.csr_matrix(self.matrix + part)
        self.rows, self.cols, self.vals, self.buffered = [], [], [], 0

    def result(self) -> sp.csr_matrix:
        self._compact()
        out = self.matrix if self.matrix is not None else sp.csr_matrix((self.n, self.n))
        out.sum_duplicates()
        return out


@dataclass(frozen=True)
class LenderExposure:
    lender: str
    borrower: int
    amount: int


@dataclass(frozen=True)
class ExposureNetwork:
    """Enterprises (by position), their equity and the exposure matrices between them."""

    ids: list[str]
    names: list[str | None]
    equity: NDArray[np.float64]
    is_core: NDArray[np.bool_]
    exposures: dict[str, sp.csr_matrix]
    lenders: list[LenderExposure]
    as_of: date | None = None

    @property
    def size(self) -> int:
        return len(self.ids)

    def index(self) -> dict[str, int]:
        return {eid: i for i, eid in enumerate(self.ids)}

    def total(self, kinds: Sequence[str] | None = None) -> sp.csr_matrix:
        """The sum of the chosen exposure kinds (all by default)."""
        chosen = EXPOSURE_KINDS if kinds is None else tuple(kinds)
        unknown = set(chosen) - set(self.exposures)
        if unknown:
            raise InvalidInput(f"unknown exposure kinds: {sorted(unknown)}")
        out = sp.csr_matrix((self.size, self.size))
        for kind in chosen:
            out = out + self.exposures[kind]
        return sp.csr_matrix(out)

    def leverage(self, kinds: Sequence[str] | None = None) -> sp.csr_matrix:
        return leverage_matrix(self.total(kinds), self.equity)


def build_network(
    ids: Sequence[str],
    equity: Sequence[float] | NDArray[np.float64],
    edges: dict[str, Sequence[tuple[str, str, int]]],
    *,
    names: Sequence[str | None] | None = None,
    is_core: Sequence[bool] | None = None,
    lenders: Sequence[tuple[str, str, int]] = (),
) -> ExposureNetwork:
    """A network from plain lists: ``edges[kind]`` holds (creditor, debtor, amount) triples."""
    index = {eid: i for i, eid in enumerate(ids)}
    n = len(ids)
    mats: dict[str, sp.csr_matrix] = {}
    for kind in EXPOSURE_KINDS:
        triples = edges.get(kind, ())
        acc = _Accumulator(n)
        if triples:
            acc.add(
                np.array([index[c] for c, _, _ in triples], dtype=np.int64),
                np.array([index[d] for _, d, _ in triples], dtype=np.int64),
                np.array([a for _, _, a in triples], dtype=np.float64),
            )
        mats[kind] = acc.result()
    return ExposureNetwork(
        ids=list(ids),
        names=list(names) if names is not None else [None] * n,
        equity=np.asarray(equity, dtype=np.float64),
        is_core=np.asarray(is_core if is_core is not None else [False] * n, dtype=bool),
        exposures=mats,
        lenders=[LenderExposure(lender, index[b], amount) for b, lender, amount in lenders],
    )


def load_network(
    driver: Driver,
    database: str,
    *,
    as_of: date | datetime | None = None,
    page_size: int = 5000,
    kinds: Sequence[str] = EXPOSURE_KINDS,
) -> ExposureNetwork:
    """Read every enterprise and its exposures from the graph, one page of ids at a time.

    Memory is the network itself plus one page of rows: exposures are compacted into sparse
    matrices as they stream in.
    """
    ids: list[str] = []
    names: list[str | None] = []
    equity: list[float] = []
    core: list[bool] = []
    pages: list[list[str]] = []
    for page in q.iter_enterprise_pages(driver, database, page_size):
        pages.append([r.id for r in page])
        for r in page:
            ids.append(r.id)
            names.append(r.name)
            eq = r.registered_capital
            equity.append(float(eq) if eq is not None else np.nan)
            core.append(r.is_core)
    eq_arr = np.asarray(equity, dtype=np.float64)
    known = eq_arr[np.isfinite(eq_arr)]
    fill = float(np.median(known)) if known.size else float(_FALLBACK_EQUITY)
    eq_arr[~np.isfinite(eq_arr)] = fill

    index = {eid: i for i, eid in enumerate(ids)}
    n = len(ids)
    accs = {kind: _Accumulator(n) for kind in kinds}
    lenders: list[LenderExposure] = []
    for page_ids in pages:
        for kind in kinds:
            rows = q.exposures_for(driver, database, kind, page_ids, as_of)
            if rows:
                accs[kind].add(
                    np.fromiter((index[r.creditor] for r in rows), np.int64, len(rows)),
                    np.fromiter((index[r.debtor] for r in rows), np.int64, len(rows)),
                    np.fromiter((r.amount for r in rows), np.float64, len(rows)),
                )
        for f in q.financings_for(driver, database, page_ids):
            lenders.append(LenderExposure(f.lender, index[f.borrower], f.amount))
    mats = {
        kind: accs[kind].result() if kind in accs else sp.csr_matrix((n, n))
        for kind in EXPOSURE_KINDS
    }
    log.info(
        "exposure network loaded",
        enterprises=n,
        edges={k: int(m.nnz) for k, m in mats.items()},
        lenders=len(lenders),
    )
    at = as_of.date() if isinstance(as_of, datetime) else as_of
    return ExposureNetwork(ids, names, eq_arr, np.asarray(core, dtype=bool), mats, lenders, at)


@dataclass(frozen=True)
class ImpactedFirm:
    id: str
    name: str | None
    loss_fraction: float
    """Share of the firm's equity lost, in [0, 1]."""
    equity_loss: int
    """Minor units."""
    tier: int
    """Hops from the nearest shocked firm along exposures (0 = shocked itself)."""
    defaulted: bool


@dataclass(frozen=True)
class LenderHit:
    lender: str
    exposure: int
    """Live financings to impacted borrowers, minor units."""
    loss: int
    """Σ amount × distress of the borrower, minor units."""
    borrowers: int


@dataclass(frozen=True)
class WhatIfResult:
    impacted: list[ImpactedFirm]
    """Firms with a positive loss, by tier then by loss fraction (descending)."""
    lenders: list[LenderHit]
    total_equity_loss: int
    system_loss_fraction: float
    """Equity lost over all equity in the network, shock included."""
    rounds: int

    def by_tier(self) -> dict[int, list[ImpactedFirm]]:
        out: dict[int, list[ImpactedFirm]] = {}
        for firm in self.impacted:
            out.setdefault(firm.tier, []).append(firm)
        return out


def contagion_tiers(exposure: sp.csr_matrix, sources: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Hops from ``sources`` to each firm following creditors (−1 where unreachable)."""
    creditors_of = sp.csr_matrix(exposure > 0, dtype=np.float64)  # row i: i is owed by col j
    tier = np.full(exposure.shape[0], -1, dtype=np.int64)
    frontier = sources.astype(bool).copy()
    tier[frontier] = 0
    hop = 0
    while frontier.any():
        hop += 1
        reached = (creditors_of @ frontier.astype(np.float64)) > 0
        frontier = reached & (tier < 0)
        tier[frontier] = hop
    return tier


def simulate_defaults(
    network: ExposureNetwork,
    defaulted_ids: Sequence[str] | None = None,
    shock: dict[str, float] | None = None,
    *,
    kinds: Sequence[str] | None = None,
) -> WhatIfResult:
    """Who loses what if ``defaulted_ids`` default and ``shock`` firms lose part of their equity.

    Differential DebtRank on the chosen exposure kinds (all by default); the firm is
    counted as defaulted when its distress reaches 1.
    """
    index = network.index()
    h0 = np.zeros(network.size)
    unknown = [i for i in [*(defaulted_ids or ()), *(shock or {})] if i not in index]
    if unknown:
        raise InvalidInput(f"unknown enterprise ids: {unknown[:10]}")
    for eid, loss in (shock or {}).items():
        if not 0 < loss <= 1:
            raise InvalidInput(f"shock of {eid} must be in (0, 1], got {loss}")
        h0[index[eid]] = loss
    for eid in defaulted_ids or ():
        h0[index[eid]] = 1.0
    if not h0.any():
        raise InvalidInput("give at least one defaulted id or a positive shock")
    total = network.total(kinds)
    res = debtrank(leverage_matrix(total, network.equity), h0, value=network.equity)
    tiers = contagion_tiers(total, h0 > 0)
    lost = res.h * network.equity
    impacted = [
        ImpactedFirm(
            id=network.ids[i],
            name=network.names[i],
            loss_fraction=float(res.h[i]),
            equity_loss=round(float(lost[i])),
            tier=int(tiers[i]),
            defaulted=bool(res.h[i] >= 1.0 - 1e-12),
        )
        for i in np.flatnonzero(res.h > 1e-12)
    ]
    impacted.sort(key=lambda f: (f.tier, -f.loss_fraction, f.id))
    hits: dict[str, list[int]] = {}
    for lx in network.lenders:
        h = float(res.h[lx.borrower])
        if h <= 1e-12:
            continue
        acc = hits.setdefault(lx.lender, [0, 0, 0])
        acc[0] += lx.amount
        acc[1] += round(lx.amount * h)
        acc[2] += 1
    lenders = sorted(
        (LenderHit(name, e, loss, b) for name, (e, loss, b) in hits.items()),
        key=lambda x: -x.loss,
    )
    return WhatIfResult(
        impacted=impacted,
        lenders=lenders,
        total_equity_loss=round(float(lost.sum())),
        system_loss_fraction=float(res.total_loss),
        rounds=res.rounds,
    )
