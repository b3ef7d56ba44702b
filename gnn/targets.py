"""The default task's reference: Monte-Carlo cascade default probabilities on a graph.

Stand-alone default probabilities come from what is observable on the scoring date (a firm
that stopped trading has visibly defaulted; overdue payables raise the odds), then the
cascade runs on the graph's exposure network (unpaid trade and guarantees over registered
capital). The learned default model is trained to reproduce these probabilities on other
networks: a fast emulator of the simulation that scales to a million firms.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gnn.contagion import cascade_default_probability, leverage_matrix
from gnn.dataset import ChainGraph


def stopped_trading(graph: ChainGraph) -> NDArray[np.bool_]:
    """Firms whose observable stand-alone PD is 1: they have visibly stopped trading."""
    return np.asarray(graph.feature("standalone_pd") >= 1.0, dtype=bool)


def standalone_pd(graph: ChainGraph) -> NDArray[np.float64]:
    """Observable one-year stand-alone PD (``gnn.dataset.standalone_pd_of``)."""
    return np.asarray(graph.feature("standalone_pd"), dtype=np.float64)


def cascade_pd(graph: ChainGraph, samples: int = 2000, seed: int = 0) -> NDArray[np.float64]:
    """Monte-Carlo cascade default probability of each firm on ``graph``."""
    lev = leverage_matrix(graph.exposure, graph.equity)
    pd, _ = cascade_default_probability(lev, standalone_pd(graph), samples=samples, seed=seed)
    return pd
