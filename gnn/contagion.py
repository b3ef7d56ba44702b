"""Contagion on exposure networks: DebtRank, Eisenberg–Noe clearing and default cascades.

Conventions used throughout (n firms):

- ``exposure[i, j]`` (sparse, >= 0) is what firm ``i`` loses if firm ``j`` defaults in full:
  a receivable of ``i`` on ``j``, a guarantee ``i`` gave for ``j``, a voucher issued by ``j``
  held by ``i``. Money in minor units (the matrices hold float64 copies of integer amounts).
- ``equity[i]`` is the loss-absorbing capital of ``i``; the leverage matrix
  ``Λ[i, j] = exposure[i, j] / equity[i]`` is the fraction of ``i``'s equity lost per unit of
  ``j``'s relative distress.
- Distress ``h[i]`` in [0, 1] is the fraction of ``i``'s equity lost; ``h = 1`` is default.

DebtRank comes in two variants. ``differential`` is Bardoscia et al. (2015):
``h(t+1) = min(1, h(t) + Λ (h(t) - h(t-1)))`` — each *increment* of distress propagates once,
so the map is monotone in the shock and in Λ, and it is the limit the Monte-Carlo cascade uses.
``battiston`` is the original Battiston et al. (2012): a node propagates its whole distress
once, in the round after it became distressed, then goes inactive. The original is known not
to be monotone (a small early shock makes a node propagate little and then go silent); the
tests pin that down with a hand-built counterexample.

Everything is vectorised on ``scipy.sparse``; shocks may be a matrix (n × S) to run S
scenarios at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.linalg import spsolve

from gnn.errors import InvalidInput

if TYPE_CHECKING:
    from neo4j import Driver

    from gnn.exposure import WhatIfResult

FloatArray = NDArray[np.float64]
Variant = Literal["differential", "battiston"]

# Distress below this is numerical noise, not a shock.
_EPS = 1e-12


def leverage_matrix(exposure: sp.spmatrix | sp.sparray, equity: FloatArray) -> sp.csr_matrix:
    """Λ = diag(1/equity) · exposure, with non-positive equity floored at one minor unit.

    A firm with no equity left is maximally fragile: any exposure wipes it out, which the
    floor expresses without dividing by zero.
    """
    exp = sp.csr_matrix(exposure, dtype=np.float64)
    n = exp.shape[0]
    if exp.shape != (n, n):
        raise InvalidInput(f"exposure must be square, got {exp.shape}")
    eq = np.asarray(equity, dtype=np.float64)
    if eq.shape != (n,):
        raise InvalidInput(f"equity must have shape ({n},), got {eq.shape}")
    if exp.nnz and exp.data.min() < 0:
        raise InvalidInput("exposures must be non-negative")
    inv = 1.0 / np.maximum(eq, 1.0)
    lev = sp.diags(inv) @ exp
    return sp.csr_matrix(lev)


@dataclass(frozen=True)
class DebtRankResult:
    """Final distress of each firm (and scenario), with the summary figures of the cascade."""

    h: FloatArray
    """Final distress, shape (n,) or (n, S)."""
    h0: FloatArray
    """The initial shock, same shape."""
    value: FloatArray
    """Relative economic value of each firm (sums to 1)."""
    rounds: int
    converged: bool
    distressed_at: NDArray[np.int64]
    """Round in which each node propagated (battiston variant), -1 if never; the differential
    variant propagates increments in many rounds and reports -1 everywhere."""

    @property
    def total_loss(self) -> FloatArray | float:
        """Σ v_i h_i: the relative equity lost, shock included; in [0, 1]."""
        out = self.value @ self.h
        return float(out) if np.ndim(out) == 0 else np.asarray(out)

    @property
    def debtrank(self) -> FloatArray | float:
        """Battiston's R: the loss caused by propagation, excluding the initial shock."""
        out = self.value @ (self.h - self.h0)
        return float(out) if np.ndim(out) == 0 else np.asarray(out)


def _check_shock(lev: sp.csr_matrix, shock: FloatArray) -> FloatArray:
    h0 = np.asarray(shock, dtype=np.float64)
    n = lev.shape[0]
    if h0.ndim not in (1, 2) or h0.shape[0] != n:
        raise InvalidInput(f"shock must have shape ({n},) or ({n}, S), got {h0.shape}")
    if not np.all(np.isfinite(h0)) or h0.min(initial=0.0) < 0 or h0.max(initial=0.0) > 1:
        raise InvalidInput("shock values must lie in [0, 1]")
    return h0


def _check_value(n: int, value: FloatArray | None) -> FloatArray:
    if value is None:
        return np.full(n, 1.0 / n) if n else np.zeros(0)
    v = np.asarray(value, dtype=np.float64)
    if v.shape != (n,) or v.min(initial=0.0) < 0 or v.sum() <= 0:
        raise InvalidInput("value must be non-negative with a positive sum, one per firm")
    return np.asarray(v / v.sum(), dtype=np.float64)


def debtrank(
    leverage: sp.spmatrix | sp.sparray,
    shock: FloatArray,
    *,
    value: FloatArray | None = None,
    variant: Variant = "differential",
    max_rounds: int = 1000,
    tol: float = 1e-10,
) -> DebtRankResult:
    """Propagate an initial relative equity loss ``shock`` through ``leverage`` (Λ).

    ``value`` weighs firms in the summary figures (defaults to equal weights). ``tol`` stops
    the differential variant once no firm's distress grows by more than it in a round.
    """
    lev = sp.csr_matrix(leverage, dtype=np.float64)
    if lev.nnz and lev.data.min() < 0:
        raise InvalidInput("leverage must be non-negative")
    h0 = _check_shock(lev, shock)
    v = _check_value(lev.shape[0], value)
    if variant == "differential":
        return _differential(lev, h0, v, max_rounds, tol)
    if variant == "battiston":
        return _battiston(lev, h0, v, max_rounds)
    raise InvalidInput(f"unknown DebtRank variant {variant!r}")


def _differential(
    lev: sp.csr_matrix, h0: FloatArray, v: FloatArray, max_rounds: int, tol: float
) -> DebtRankResult:
    h_prev = np.zeros_like(h0)
    h = h0.copy()
    rounds, converged = 0, False
    while rounds < max_rounds:
        dh = h - h_prev
        if dh.size == 0 or dh.max() <= tol:
            converged = True
            break
        h_prev = h
        h = np.minimum(1.0, h + lev @ dh)
        rounds += 1
    return DebtRankResult(
        h=h,
        h0=h0,
        value=v,
        rounds=rounds,
        converged=converged,
        distressed_at=np.full(h0.shape, -1, dtype=np.int64),
    )


def _battiston(
    lev: sp.csr_matrix, h0: FloatArray, v: FloatArray, max_rounds: int
) -> DebtRankResult:
    undistressed, distressed, inactive = 0, 1, 2
    h = h0.copy()
    state = np.where(h > _EPS, distressed, undistressed).astype(np.int8)
    distressed_at = np.full(h0.shape, -1, dtype=np.int64)
    rounds = 0
    while rounds < max_rounds and (state == distressed).any():
        active = state == distressed
        distressed_at[active] = rounds
        # Only nodes distressed in the previous round pass on their (whole) distress.
        h = np.minimum(1.0, h + lev @ np.where(active, h, 0.0))
        state = np.where(active, inactive, state).astype(np.int8)
        state[(state == undistressed) & (h > _EPS)] = distressed
        rounds += 1
    return DebtRankResult(
        h=h,
        h0=h0,
        value=v,
        rounds=rounds,
        converged=not (state == distressed).any(),
        distressed_at=distressed_at,
    )


@dataclass(frozen=True)
class ClearingResult:
    """The greatest clearing payment vector of an Eisenberg–Noe system."""

    payments: FloatArray
    """What each firm pays in total, p_i <= p̄_i."""
    obligations: FloatArray
    """What each firm owes in total, p̄."""
    defaulted: NDArray[np.bool_]
    rounds: int
    method: Literal["fictitious_default", "fixed_point"]

    @property
    def shortfall(self) -> FloatArray:
        return np.asarray(self.obligations - self.payments, dtype=np.float64)


def eisenberg_noe(
    liabilities: sp.spmatrix | sp.sparray,
    external_assets: FloatArray,
    *,
    tol: float = 1e-12,
    max_rounds: int | None = None,
) -> ClearingResult:
    """Clearing payments for ``liabilities[i, j]`` (what i owes j) and external assets ``e``.

    Uses Eisenberg and Noe's fictitious default algorithm: start from full payment, find who
    cannot pay, solve the linear system for those firms' payments exactly, repeat until the
    set of defaulters stops growing (at most n rounds). The result is the greatest clearing
    vector, the solution of ``max Σp s.t. 0 <= p <= p̄, p <= e + Πᵀp``. Where the defaulters'
    system is singular (a closed cycle without outside assets) it falls back to the
    decreasing fixed-point iteration from p̄, which converges to the same greatest vector.
    """
    lia = sp.csr_matrix(liabilities, dtype=np.float64)
    n = lia.shape[0]
    e = np.asarray(external_assets, dtype=np.float64)
    if lia.shape != (n, n) or e.shape != (n,):
        raise InvalidInput("liabilities must be n × n and external assets of length n")
    if (lia.nnz and lia.data.min() < 0) or e.min(initial=0.0) < 0:
        raise InvalidInput("liabilities and external assets must be non-negative")
    lia.setdiag(0.0)
    lia.eliminate_zeros()
    p_bar = np.asarray(lia.sum(axis=1)).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(p_bar > 0, 1.0 / p_bar, 0.0)
    pi_t = sp.csr_matrix((sp.diags(inv) @ lia).T)  # Πᵀ: row i = what i receives per unit paid

    p = p_bar.copy()
    defaulted = np.zeros(n, dtype=bool)
    rounds = 0
    limit = n + 1 if max_rounds is None else max_rounds
    while rounds < limit:
        rounds += 1
        new = (e + pi_t @ p) < p_bar - tol * np.maximum(1.0, p_bar)
        new |= defaulted
        if rounds > 1 and np.array_equal(new, defaulted):
            break
        defaulted = new
        d = np.flatnonzero(defaulted)
        if d.size == 0:
            break
        keep = np.flatnonzero(~defaulted)
        sub = sp.identity(d.size, format="csc") - pi_t[d][:, d].tocsc()
        rhs = e[d] + pi_t[d][:, keep] @ p_bar[keep]
        with np.errstate(all="ignore"):
            sol = np.atleast_1d(spsolve(sub, rhs))
        if not np.all(np.isfinite(sol)) or np.abs(sub @ sol - rhs).max() > 1e-9 * max(
            1.0, float(np.abs(rhs).max())
        ):
            return _clearing_fixed_point(pi_t, e, p_bar, tol)
        p = p_bar.copy()
        p[d] = np.clip(sol, 0.0, p_bar[d])
    return ClearingResult(
        payments=p,
        obligations=p_bar,
        defaulted=p < p_bar - tol * np.maximum(1.0, p_bar),
        rounds=rounds,
        method="fictitious_default",
    )


def _clearing_fixed_point(
    pi_t: sp.csr_matrix, e: FloatArray, p_bar: FloatArray, tol: float, max_rounds: int = 100_000
) -> ClearingResult:
    p = p_bar.copy()
    rounds = 0
    for rounds in range(1, max_rounds + 1):  # noqa: B007 - rounds is reported
        nxt = np.minimum(p_bar, np.maximum(0.0, e + pi_t @ p))
        if np.abs(nxt - p).max(initial=0.0) <= tol * max(1.0, float(p_bar.max(initial=0.0))):
            p = nxt
            break
        p = nxt
    return ClearingResult(
        payments=p,
        obligations=p_bar,
        defaulted=p < p_bar - tol * np.maximum(1.0, p_bar),
        rounds=rounds,
        method="fixed_point",
    )


def cascade_default_probability(
    leverage: sp.spmatrix | sp.sparray,
    base_pd: FloatArray,
    *,
    samples: int = 2000,
    seed: int = 0,
    threshold: float = 1.0,
    batch: int = 512,
    value: FloatArray | None = None,
) -> tuple[FloatArray, float]:
    """Monte-Carlo default probability of each firm, and the expected relative loss.

    Each scenario defaults firms independently with probability ``base_pd`` (their stand-alone
    default), propagates with differential DebtRank and counts a firm as defaulted when its
    distress reaches ``threshold``. Scenarios run ``batch`` at a time as an n × batch matrix.

    The estimate is conditional Monte Carlo: ``pd_i = b_i + (1 - b_i) q_i`` where ``q_i`` is
    the share of cascade defaults of ``i`` among the scenarios in which ``i`` did not default
    on its own. It is unbiased and exact for firms no cascade can reach (q = 0), which keeps
    the noise out of rankings. Draws depend only on ``seed`` and the firm count, so two
    networks over the same firms are compared on common random numbers.
    """
    lev = sp.csr_matrix(leverage, dtype=np.float64)
    n = lev.shape[0]
    pd = np.asarray(base_pd, dtype=np.float64)
    if pd.shape != (n,) or pd.min(initial=0.0) < 0 or pd.max(initial=0.0) > 1:
        raise InvalidInput("base_pd must be n probabilities in [0, 1]")
    if samples <= 0 or batch <= 0 or not 0 < threshold <= 1:
        raise InvalidInput("samples and batch must be positive and threshold in (0, 1]")
    v = _check_value(n, value)
    rng = np.random.default_rng(seed)
    hits = np.zeros(n, dtype=np.float64)
    unshocked = np.zeros(n, dtype=np.float64)
    loss = 0.0
    done = 0
    while done < samples:
        s = min(batch, samples - done)
        own = rng.random((n, s)) < pd[:, None]
        res = _differential(lev, own.astype(np.float64), v, max_rounds=1000, tol=1e-10)
        hits += ((res.h >= threshold - 1e-9) & ~own).sum(axis=1)
        unshocked += (~own).sum(axis=1)
        loss += float((v @ res.h).sum())
        done += s
    q = np.divide(hits, unshocked, out=np.zeros(n), where=unshocked > 0)
    return pd + (1.0 - pd) * q, loss / samples


def single_hit_cascade_pd(
    leverage: sp.spmatrix | sp.sparray,
    base_pd: FloatArray,
    *,
    threshold: float = 1.0,
    max_pairs: int = 50_000_000,
) -> FloatArray:
    """Analytic approximation of ``cascade_default_probability``: contagion by single hits.

    A firm defaults when it defaults on its own (probability ``b_i``, independently) or when
    a firm upstream of it in the *hit graph* does, where ``j`` hits ``i`` if ``j``'s default
    alone wipes ``i`` out (``Λ[i, j] >= threshold``). With ``A(i)`` the firms that reach
    ``i`` through hits (``i`` included), ``p_i = 1 - Π_{j ∈ A(i)} (1 - b_j)`` exactly, cycles
    and shared suppliers counted once. It misses only defaults that need several partial
    hits at once. ``A`` is the transitive closure of the hit graph, by repeated squaring;
    ``max_pairs`` bounds its size (``InvalidInput`` beyond it).
    """
    lev = sp.csr_matrix(leverage, dtype=np.float64)
    n = lev.shape[0]
    b = np.asarray(base_pd, dtype=np.float64)
    if b.shape != (n,) or b.min(initial=0.0) < 0 or b.max(initial=0.0) > 1:
        raise InvalidInput("base_pd must be n probabilities in [0, 1]")
    if not 0 < threshold <= 1:
        raise InvalidInput("threshold must be in (0, 1]")
    reach = sp.csr_matrix(lev >= threshold - 1e-9, dtype=np.float64) + sp.identity(n, format="csr")
    reach.data[:] = 1.0
    while True:
        wider = reach @ reach
        wider.data[:] = 1.0
        if wider.nnz > max_pairs:
            raise InvalidInput(f"the hit graph's closure exceeds {max_pairs:,} pairs")
        if wider.nnz == reach.nnz:
            break
        reach = sp.csr_matrix(wider)
    # log-survival sums over each firm's hit ancestors; a certain default (b = 1) upstream
    # makes the firm certain too, which the log cannot carry.
    p = 1.0 - np.exp(reach @ np.log1p(-np.minimum(b, 1.0 - 1e-15)))
    p[reach @ (b >= 1.0).astype(np.float64) > 0] = 1.0
    return np.asarray(np.maximum(p, b), dtype=np.float64)


def what_if(
    driver: Driver,
    database: str,
    defaulted_ids: list[str] | None = None,
    shock: dict[str, float] | None = None,
) -> WhatIfResult:
    """Load the exposure network from the graph and simulate the given defaults or shock.

    ``defaulted_ids`` default in full; ``shock`` maps enterprise ids to a partial loss of
    equity in (0, 1]. Returns the impacted firms with their loss fraction and tier (hops from
    the shocked firms along exposures) and the lenders' exposure hit.
    """
    from gnn.exposure import load_network, simulate_defaults

    network = load_network(driver, database)
    return simulate_defaults(network, defaulted_ids=defaulted_ids, shock=shock)
