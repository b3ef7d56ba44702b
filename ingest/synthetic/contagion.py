"""Defaults driven by a latent financial-health process that spreads along exposures.

Every month each firm's health reverts towards its own level, takes noise, now and then an
idiosyncratic shock, and a drag equal to the exposure-weighted distress of its counterparties
(buyers that do not pay, suppliers that stop delivering, firms whose loans it guaranteed). A
firm whose health falls below :data:`DEFAULT_THRESHOLD` defaults that month, for good. The
simulation runs past the as-of date so that "defaults within 12 months" labels are true.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ingest.synthetic.plan import (
    FUTURE_MONTHS,
    HISTORY_MONTHS,
    BoolArray,
    FloatArray,
    IntArray,
    Plan,
)

DEFAULT_THRESHOLD = 0.2
_DISTRESS_START = 0.45  # health below which a firm starts to hurt its counterparties
_REVERSION = 0.08
_NOISE = 0.035
_SHOCK_PROB = 0.006
_CONTAGION = 0.07


@dataclass(slots=True)
class Health:
    default_month: IntArray  # month index of default, -1 if none within the simulated horizon
    start: FloatArray
    minimum: FloatArray
    at_as_of: FloatArray
    mean: FloatArray
    shock_drag: FloatArray  # total health lost to idiosyncratic shocks
    contagion_drag: FloatArray  # total health lost to counterparties' distress

    @property
    def months(self) -> int:
        return HISTORY_MONTHS + FUTURE_MONTHS

    def defaulted_by(self, month: int) -> BoolArray:
        """Firms that defaulted in a month before ``month``."""
        return (self.default_month >= 0) & (self.default_month < month)


def exposure_matrix(plan: Plan) -> sp.csr_matrix:
    """W[i, j]: how much firm i suffers from firm j's distress (rows sum to about 1 or less)."""
    n = plan.n
    s, b = plan.e_seller, plan.e_buyer
    volume = plan.e_rate * plan.e_value
    sales = np.bincount(s, weights=volume, minlength=n)
    purchases = np.bincount(b, weights=volume, minlength=n)
    # A supplier depends on its buyers paying; a buyer less so on its suppliers delivering.
    w_sup = 0.9 * volume / np.maximum(sales[s], 1.0)
    w_buy = 0.35 * volume / np.maximum(purchases[b], 1.0)
    g, ben = plan.g_from, plan.g_to
    w_guar = np.where(plan.g_circle >= 0, 0.6, 0.3)
    rows = np.concatenate([s, b, g, ben])
    cols = np.concatenate([b, s, ben, g])
    vals = np.concatenate([w_sup, w_buy, w_guar, 0.1 * np.ones(len(g))])
    w = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    w.sum_duplicates()
    return w


def simulate_health(plan: Plan, rng: np.random.Generator) -> Health:
    """Run the monthly process over the history and the future months."""
    n = plan.n
    months = HISTORY_MONTHS + FUTURE_MONTHS
    w = exposure_matrix(plan)
    level = rng.uniform(0.5, 0.92, n)
    level[plan.is_core] = rng.uniform(0.85, 0.95, int(plan.is_core.sum()))
    h = np.clip(level + rng.normal(0.0, 0.05, n), 0.3, 1.0)
    start = h.copy()
    minimum = h.copy()
    total = np.zeros(n)
    at_as_of = h.copy()
    default_month = np.full(n, -1, np.int64)
    defaulted = np.zeros(n, np.bool_)
    shock_drag = np.zeros(n)
    contagion_drag = np.zeros(n)
    for t in range(months):
        distress = np.where(defaulted, 1.0,
                            np.clip((_DISTRESS_START - h) / (_DISTRESS_START - DEFAULT_THRESHOLD),
                                    0.0, 1.0))
        drag = _CONTAGION * (w @ distress)
        shock = np.where(rng.random(n) < _SHOCK_PROB, rng.uniform(0.2, 0.5, n), 0.0)
        noise = rng.normal(0.0, _NOISE, n)
        alive = ~defaulted
        h = np.where(alive, h + _REVERSION * (level - h) + noise - shock - drag, h)
        h = np.clip(h, 0.0, 1.0)
        shock_drag += np.where(alive, shock, 0.0)
        contagion_drag += np.where(alive, drag, 0.0)
        new = alive & (h < DEFAULT_THRESHOLD)
        default_month[new] = t
        defaulted |= new
        minimum = np.minimum(minimum, h)
        total += h
        if t == HISTORY_MONTHS - 1:
            at_as_of = h.copy()
    # Shell companies carry no modelled business; they never default in the truth.
    default_month[plan.is_shell] = -1
    return Health(default_month, start, minimum, at_as_of, total / months, shock_drag,
                  contagion_drag)
