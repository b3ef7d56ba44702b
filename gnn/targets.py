"""The default task's reference and structure: cascade default probabilities on a graph.

Stand-alone default probabilities ``b`` come from what is observable on the scoring date (a
firm that stopped trading has visibly defaulted; overdue payables raise the odds), then the
cascade runs on the graph's exposure network (unpaid trade and guarantees over registered
capital). The reference is the Monte-Carlo cascade; the learned models emulate it on other
networks, fast enough for a million firms.

Both the simulation and the models share one structure: ``pd = b + (1 - b) q``, where ``q``
is the probability that contagion takes a firm down when it would have survived on its own.
The models learn ``q`` as a correction (on the logit scale) of the analytic single-hit
cascade (``gnn.contagion.single_hit_cascade_pd``), and a firm that no chain of full hits can
reach keeps ``q = 0``: its PD is its own, exactly as in the simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from gnn.contagion import cascade_default_probability, leverage_matrix, single_hit_cascade_pd
from gnn.dataset import ChainGraph

FloatArray = NDArray[np.float64]
_LOGIT_CLIP = 1e-6


def stopped_trading(graph: ChainGraph) -> NDArray[np.bool_]:
    """Firms whose observable stand-alone PD is 1: they have visibly stopped trading."""
    return np.asarray(graph.feature("standalone_pd") >= 1.0, dtype=bool)


def standalone_pd(graph: ChainGraph) -> FloatArray:
    """Observable one-year stand-alone PD (``gnn.dataset.standalone_pd_of``)."""
    return np.asarray(graph.feature("standalone_pd"), dtype=np.float64)


def cascade_pd(graph: ChainGraph, samples: int = 2000, seed: int = 0) -> FloatArray:
    """Monte-Carlo cascade default probability of each firm on ``graph``."""
    lev = leverage_matrix(graph.exposure, graph.equity)
    pd, _ = cascade_default_probability(lev, standalone_pd(graph), samples=samples, seed=seed)
    return pd


def logit(p: FloatArray) -> FloatArray:
    q = np.clip(p, _LOGIT_CLIP, 1.0 - _LOGIT_CLIP)
    return np.asarray(np.log(q / (1.0 - q)), dtype=np.float64)


@dataclass(frozen=True)
class ContagionPrior:
    """A graph's stand-alone PDs and the single-hit cascade's contagion share ``q``."""

    standalone: FloatArray
    contagion: FloatArray

    @property
    def reachable(self) -> NDArray[np.bool_]:
        """Firms a chain of full hits can reach: the only ones a model may raise."""
        return np.asarray(self.contagion > 0, dtype=bool)

    @property
    def offset(self) -> FloatArray:
        """Logit of the analytic ``q``: the starting point the models correct."""
        return logit(self.contagion)

    def share_of(self, pd: FloatArray) -> FloatArray:
        """``q`` of a full PD (e.g. the Monte-Carlo reference): the part not explained by ``b``."""
        b = self.standalone
        q = np.divide(pd - b, 1.0 - b, out=np.zeros_like(b), where=b < 1.0)
        return np.asarray(np.clip(q, 0.0, 1.0), dtype=np.float64)

    def compose(self, q: FloatArray) -> FloatArray:
        """Full PD from a contagion share, zero where no full hit can reach."""
        q = np.where(self.reachable, np.clip(q, 0.0, 1.0), 0.0)
        return np.asarray(self.standalone + (1.0 - self.standalone) * q, dtype=np.float64)


def _shuffled(exposure: sp.csr_matrix, seed: int) -> sp.csr_matrix:
    """Each exposure moved to a debtor drawn at random (creditors and amounts kept)."""
    coo = exposure.tocoo()
    cols = np.random.default_rng(seed).integers(0, exposure.shape[1], coo.nnz)
    return sp.csr_matrix((coo.data, (coo.row, cols)), shape=exposure.shape)


def contagion_prior(graph: ChainGraph, *, shuffle_edges_seed: int | None = None) -> ContagionPrior:
    """The analytic prior of ``graph``; ``shuffle_edges_seed`` rewires it for the control."""
    exposure = graph.exposure
    if shuffle_edges_seed is not None:
        exposure = _shuffled(exposure, shuffle_edges_seed)
    b = standalone_pd(graph)
    pd = single_hit_cascade_pd(leverage_matrix(exposure, graph.equity), b)
    prior = ContagionPrior(b, np.zeros_like(b))
    return ContagionPrior(b, prior.share_of(pd))
