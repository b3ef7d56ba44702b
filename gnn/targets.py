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

BASE_ANNUAL_PD = 0.03


def stopped_trading(graph: ChainGraph) -> NDArray[np.bool_]:
    """Firms silent for over 90 days and over four of their usual gaps between invoices."""
    f = graph.feature
    active_before = (f("sales_n") > 0) | (f("purchases_n") > 0)
    silent = f("years_since_last_trade")
    gap = f("trade_gap_years")
    return np.asarray(active_before & (silent > 90 / 365.25) & (silent > 4 * gap), dtype=bool)


def standalone_pd(graph: ChainGraph) -> NDArray[np.float64]:
    """Observable one-year stand-alone PD of each firm, before any contagion."""
    overdue = np.clip(graph.feature("purchases_overdue_share").astype(np.float64), 0, 1)
    pd = BASE_ANNUAL_PD * (1.0 + 4.0 * overdue)
    return np.where(stopped_trading(graph), 1.0, np.clip(pd, 0.0, 1.0))


def cascade_pd(graph: ChainGraph, samples: int = 2000, seed: int = 0) -> NDArray[np.float64]:
    """Monte-Carlo cascade default probability of each firm on ``graph``."""
    lev = leverage_matrix(graph.exposure, graph.equity)
    pd, _ = cascade_default_probability(lev, standalone_pd(graph), samples=samples, seed=seed)
    return pd
