"""Where trade goes round in circles: return-walk features of the directed trade graph.

Circular trade (A invoices B, B invoices C, C invoices A, the money going round with it) is
the fraud that paperwork checks miss when the ring also fakes its shipments: each leg looks
like ordinary trade. What gives it away is the cycle, and neither a firm's own rows, nor
1- and 2-hop aggregates, nor mean-aggregating message passing without node identifiers can
see a cycle (Egressy et al., AAAI 2024). So the cycle is measured directly, per firm, as a
random-walk structural encoding (RWSE; Dwivedi et al., ICLR 2022) of the trade graph:

- ``trade_return_k`` for k in ``RETURN_LENGTHS``: the probability that a walk from the firm
  along its sales (seller -> buyer, each step choosing a buyer in proportion to the amount
  invoiced) is back at the firm after exactly k steps, as its k-th root (the geometric mean
  per step, in [0, 1], comparable across lengths): a ring member whose ring carries most of
  its sales scores near 1 at the ring's length; a firm on no cycle scores 0.
- ``trade_cycle_log_size``: log of the size of the firm's strongly connected component of the
  trade graph (0 when it is on no directed cycle at all, of any length).

The walk probabilities are exact up to a size. A closed walk never leaves a strongly
connected component, so only the components of two or more firms are raised to powers, as
one block-diagonal sparse matrix; a walk that leaves its component is lost, as it should be.
Components too large to square exactly (a real economy may have one giant component) have
their diagonal estimated with random sign probes (Hutchinson), from a fixed seed; an estimate
within five of its standard errors of zero counts as zero (at a million firms, about one
false return), since the k-th root would otherwise turn probe noise of 0.01 into a score of
0.5.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components

RETURN_LENGTHS: tuple[int, ...] = (2, 3, 4, 5, 6)
CYCLE_FEATURES: tuple[str, ...] = (
    *(f"trade_return_{k}" for k in RETURN_LENGTHS),
    "trade_cycle_log_size",
)
# Above this many entries (Σ component size²) the powers are estimated, not computed.
EXACT_MAX_PAIRS = 20_000_000
PROBES = 256


def cycle_features(
    n: int,
    seller: NDArray[np.int64],
    buyer: NDArray[np.int64],
    amount: NDArray[np.float64],
    *,
    exact_max_pairs: int = EXACT_MAX_PAIRS,
    probes: int = PROBES,
    seed: int = 0,
) -> NDArray[np.float32]:
    """``[n, len(CYCLE_FEATURES)]``: the return-walk encoding of the trade graph.

    One row per trade edge ``seller -> buyer`` (duplicates are summed; self-trade and
    non-positive amounts are ignored).
    """
    out = np.zeros((n, len(CYCLE_FEATURES)), dtype=np.float32)
    keep = (seller != buyer) & (amount > 0)
    if n == 0 or not keep.any():
        return out
    adj = sp.csr_matrix((amount[keep], (seller[keep], buyer[keep])), shape=(n, n))
    adj.sum_duplicates()
    _, component = connected_components(adj, directed=True, connection="strong")
    sizes = np.bincount(component)
    on_cycle = np.flatnonzero(sizes[component] > 1)
    if on_cycle.size == 0:
        return out
    out[on_cycle, -1] = np.log(sizes[component[on_cycle]])

    # Steps are chosen among all of a firm's buyers; only the within-component ones can come
    # back, so the block keeps those, divided by the firm's whole sales.
    out_amount = np.asarray(adj.sum(axis=1)).ravel()
    edges = adj.tocoo()
    inside = (component[edges.row] == component[edges.col]) & (sizes[component[edges.row]] > 1)
    position = np.full(n, -1, dtype=np.int64)
    position[on_cycle] = np.arange(on_cycle.size)
    src, dst = edges.row[inside], edges.col[inside]
    block = sp.csr_matrix(
        (edges.data[inside] / out_amount[src], (position[src], position[dst])),
        shape=(on_cycle.size, on_cycle.size),
    )

    # Components are squared exactly, smallest first, while their Σ size² stays within the
    # budget; the rest (a giant component) is estimated.
    cyclic = np.flatnonzero(sizes > 1)
    by_size = cyclic[np.argsort(sizes[cyclic], kind="stable")]
    budget = np.cumsum(sizes[by_size].astype(np.int64) ** 2) <= exact_max_pairs
    exact_component = np.zeros(sizes.size, dtype=bool)
    exact_component[by_size[budget]] = True
    exact = exact_component[component[on_cycle]]
    longest = max(RETURN_LENGTHS)
    returns = np.zeros((longest, on_cycle.size))
    for rows, how in ((exact, "exact"), (~exact, "estimated")):
        if rows.any():
            sub = sp.csr_matrix(block[rows][:, rows])
            returns[:, rows] = (
                _exact_returns(sub, longest)
                if how == "exact"
                else _estimated_returns(sub, longest, probes, seed)
            )
    for col, k in enumerate(RETURN_LENGTHS):
        p = np.clip(returns[k - 1], 0.0, 1.0)
        out[on_cycle, col] = np.power(p, 1.0 / k)
    return out


def _exact_returns(block: sp.csr_matrix, longest: int) -> NDArray[np.float64]:
    """``[longest, n]``: ``diag(block^k)`` for k = 1..longest, by sparse products."""
    power = block
    out = [power.diagonal()]
    for _ in range(1, longest):
        power = sp.csr_matrix(power @ block)
        out.append(power.diagonal())
    return np.array(out)


def _estimated_returns(
    block: sp.csr_matrix, longest: int, probes: int, seed: int, chunk: int = 32
) -> NDArray[np.float64]:
    """Hutchinson's estimate of ``diag(block^k)``: the mean over sign probes z of z ⊙ block^k z,
    zero where it is not five standard errors above zero. Probes go ``chunk`` at a time, so
    memory stays at a few ``[firms, chunk]`` matrices whatever ``probes`` is."""
    rng = np.random.default_rng(seed)
    m = block.shape[0]
    total = np.zeros((longest, m))
    squares = np.zeros((longest, m))
    for start in range(0, probes, chunk):
        z = rng.choice(np.array([-1.0, 1.0]), size=(m, min(chunk, probes - start)))
        y = z
        for k in range(longest):
            y = block @ y
            samples = z * y
            total[k] += samples.sum(axis=1)
            squares[k] += (samples * samples).sum(axis=1)
    mean = total / probes
    stderr = np.sqrt(np.maximum(squares / probes - mean * mean, 0.0) / probes)
    return np.where(mean > 5.0 * stderr, mean, 0.0)
