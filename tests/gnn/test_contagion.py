"""DebtRank, Eisenberg–Noe and Monte-Carlo cascades: hand-computed cases and properties."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from gnn.contagion import (
    cascade_default_probability,
    debtrank,
    eisenberg_noe,
    leverage_matrix,
    single_hit_cascade_pd,
)
from gnn.errors import InvalidInput

PROPS = settings(max_examples=60, deadline=None)


@st.composite
def networks(draw: st.DrawFn, max_n: int = 12) -> tuple[sp.csr_matrix, np.ndarray]:
    """A random leverage matrix (entries in [0, 0.9], density up to 0.5) and a shock."""
    n = draw(st.integers(1, max_n))
    seed = draw(st.integers(0, 2**32 - 1))
    density = draw(st.floats(0.0, 0.5))
    rng = np.random.default_rng(seed)
    mask = rng.random((n, n)) < density
    np.fill_diagonal(mask, False)
    lev = np.where(mask, rng.random((n, n)) * 0.9, 0.0)
    shock = np.where(rng.random(n) < 0.3, rng.random(n), 0.0)
    return sp.csr_matrix(lev), shock


# -- DebtRank -----------------------------------------------------------------------------


def test_chain_hand_computed() -> None:
    # 0 is exposed to 1 (half its equity), 1 to 2 (all of it): 2 defaults, 1 defaults, 0 half.
    lev = sp.csr_matrix(np.array([[0, 0.5, 0], [0, 0, 1.0], [0, 0, 0]]))
    res = debtrank(lev, np.array([0.0, 0.0, 1.0]))
    np.testing.assert_allclose(res.h, [0.5, 1.0, 1.0])
    assert res.converged
    assert res.total_loss == pytest.approx(2.5 / 3)
    assert res.debtrank == pytest.approx(1.5 / 3)


def test_two_cycle_differential_vs_battiston() -> None:
    # Mutual exposure of half the equity, node 0 shocked by 0.5.
    lev = sp.csr_matrix(np.array([[0, 0.5], [0.5, 0]]))
    shock = np.array([0.5, 0.0])
    diff = debtrank(lev, shock, variant="differential")
    # Fixed point h = h0 + Λh: h0 = 0.5 + 0.5 h1, h1 = 0.5 h0 -> h0 = 2/3, h1 = 1/3.
    np.testing.assert_allclose(diff.h, [2 / 3, 1 / 3], atol=1e-9)
    bat = debtrank(lev, shock, variant="battiston")
    # Round 0: 0 passes 0.5 -> h1 = 0.25. Round 1: 1 passes 0.25 -> h0 = 0.625. Then silence:
    # node 0 already propagated and is inactive.
    np.testing.assert_allclose(bat.h, [0.625, 0.25])
    assert bat.distressed_at.tolist() == [0, 1]


def test_battiston_is_not_monotone_in_the_shock() -> None:
    # 1 is exposed to 0 fully; 2 is exposed to 1 fully. A tiny own shock on 1 makes it
    # propagate that tiny amount in round 0 and go inactive before 0's default reaches it.
    lev = sp.csr_matrix(np.array([[0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]]))
    big = debtrank(lev, np.array([1.0, 0.0, 0.0]), variant="battiston")
    bigger = debtrank(lev, np.array([1.0, 0.01, 0.0]), variant="battiston")
    assert bigger.h[2] < big.h[2]
    # The differential formulation has no such anomaly.
    d_big = debtrank(lev, np.array([1.0, 0.0, 0.0]))
    d_bigger = debtrank(lev, np.array([1.0, 0.01, 0.0]))
    assert np.all(d_bigger.h >= d_big.h)


@PROPS
@given(networks(), st.sampled_from(["differential", "battiston"]))
def test_debtrank_stays_in_unit_interval(
    net: tuple[sp.csr_matrix, np.ndarray], variant: str
) -> None:
    lev, shock = net
    res = debtrank(lev, shock, variant=variant)  # type: ignore[arg-type]
    assert np.all(res.h >= 0) and np.all(res.h <= 1)
    assert 0 <= res.total_loss <= 1 + 1e-12
    assert -1e-12 <= res.debtrank <= 1
    assert np.all(res.h >= res.h0)


@PROPS
@given(
    st.integers(1, 20), st.integers(0, 2**32 - 1), st.sampled_from(["differential", "battiston"])
)
def test_no_edges_leaves_the_initial_shock(n: int, seed: int, variant: str) -> None:
    shock = np.random.default_rng(seed).random(n)
    res = debtrank(sp.csr_matrix((n, n)), shock, variant=variant)  # type: ignore[arg-type]
    np.testing.assert_array_equal(res.h, shock)
    assert res.debtrank == 0


@PROPS
@given(networks(), st.integers(0, 2**32 - 1))
def test_differential_grows_weakly_with_the_shock(
    net: tuple[sp.csr_matrix, np.ndarray], seed: int
) -> None:
    lev, shock = net
    extra = np.random.default_rng(seed).random(shock.size) * (1 - shock)
    low = debtrank(lev, shock)
    high = debtrank(lev, shock + extra)
    assert np.all(high.h >= low.h - 1e-9)
    assert high.total_loss >= low.total_loss - 1e-9


@PROPS
@given(networks())
def test_battiston_propagates_each_node_once(net: tuple[sp.csr_matrix, np.ndarray]) -> None:
    lev, shock = net
    res = debtrank(lev, shock, variant="battiston")
    assert res.converged
    # A node propagates in exactly one round iff it ever carries distress.
    assert np.array_equal(res.distressed_at >= 0, res.h > 1e-12)
    # A plain per-node reference: keep a transmission count per node and let a node send
    # its whole distress to each creditor once, in the round after it became distressed.
    dense = lev.toarray()
    h = shock.copy()
    sent = np.zeros(shock.size, dtype=int)
    pending = [i for i in range(shock.size) if h[i] > 1e-12]
    while pending:
        before = h.copy()
        for j in pending:
            for i in range(shock.size):
                h[i] = min(1.0, h[i] + dense[i, j] * before[j])
            sent[j] += 1
        pending = [
            i for i in range(shock.size) if h[i] > 1e-12 and sent[i] == 0 and i not in pending
        ]
    np.testing.assert_allclose(h, res.h, atol=1e-12)
    assert sent.max(initial=0) <= 1


@PROPS
@given(networks())
def test_differential_reaches_the_least_fixed_point(net: tuple[sp.csr_matrix, np.ndarray]) -> None:
    lev, shock = net
    res = debtrank(lev, shock, max_rounds=10_000, tol=1e-13)
    assert res.converged
    np.testing.assert_allclose(res.h, np.minimum(1.0, shock + lev @ res.h), atol=1e-9)


def test_vectorised_scenarios_match_one_by_one() -> None:
    rng = np.random.default_rng(3)
    lev = sp.random(30, 30, density=0.1, random_state=4, format="csr") * 0.8
    shocks = rng.random((30, 5)) * (rng.random((30, 5)) < 0.2)
    both = debtrank(lev, shocks)
    for s in range(5):
        np.testing.assert_allclose(both.h[:, s], debtrank(lev, shocks[:, s]).h)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(InvalidInput):
        debtrank(sp.csr_matrix((2, 2)), np.array([0.5, 1.5]))
    with pytest.raises(InvalidInput):
        debtrank(sp.csr_matrix((2, 2)), np.array([0.5]))
    with pytest.raises(InvalidInput):
        leverage_matrix(sp.csr_matrix(np.array([[0, -1.0], [0, 0]])), np.ones(2))


def test_leverage_divides_by_equity_and_floors_it() -> None:
    exp = sp.csr_matrix(np.array([[0, 50.0], [10.0, 0]]))
    lev = leverage_matrix(exp, np.array([100.0, 0.0])).toarray()
    np.testing.assert_allclose(lev, [[0, 0.5], [10.0, 0]])


# -- Eisenberg–Noe ------------------------------------------------------------------------


def test_clearing_hand_computed() -> None:
    # 0 owes 1 10, 1 owes 2 10; 0 has 4 outside, 1 has 3: 0 pays 4, 1 pays 7.
    lia = sp.csr_matrix(np.array([[0, 10.0, 0], [0, 0, 10.0], [0, 0, 0]]))
    res = eisenberg_noe(lia, np.array([4.0, 3.0, 0.0]))
    np.testing.assert_allclose(res.payments, [4.0, 7.0, 0.0])
    assert res.defaulted.tolist() == [True, True, False]


def _lp_clearing(lia: np.ndarray, e: np.ndarray) -> np.ndarray:
    p_bar = lia.sum(axis=1)
    pi = np.divide(lia, p_bar[:, None], out=np.zeros_like(lia), where=p_bar[:, None] > 0)
    n = e.size
    out = linprog(
        -np.ones(n),
        A_ub=np.eye(n) - pi.T,
        b_ub=e,
        bounds=list(zip(np.zeros(n), p_bar, strict=True)),
        method="highs-ds",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    assert out.status == 0
    return np.asarray(out.x)


@PROPS
@given(st.integers(1, 25), st.integers(0, 2**32 - 1), st.floats(0.05, 0.6), st.booleans())
def test_clearing_agrees_with_linear_programming(
    n: int, seed: int, density: float, zero_assets: bool
) -> None:
    rng = np.random.default_rng(seed)
    lia = np.where(rng.random((n, n)) < density, rng.random((n, n)) * 10, 0.0)
    np.fill_diagonal(lia, 0.0)
    e = rng.random(n) * 5
    if zero_assets:
        e[rng.random(n) < 0.5] = 0.0
    res = eisenberg_noe(sp.csr_matrix(lia), e)
    lp = _lp_clearing(lia, e)
    np.testing.assert_allclose(res.payments, lp, atol=1e-9, rtol=0)
    # It is a clearing vector: limited liability and absolute priority.
    pi_t = np.divide(
        lia, res.obligations[:, None], out=np.zeros_like(lia), where=res.obligations[:, None] > 0
    ).T
    np.testing.assert_allclose(
        res.payments, np.minimum(res.obligations, e + pi_t @ res.payments), atol=1e-9
    )


def test_closed_cycle_without_assets_takes_the_greatest_vector() -> None:
    # 0 and 1 owe each other 5 and have nothing: every p = c(1, 1) with c <= 5 clears; the
    # greatest clearing vector pays in full.
    lia = sp.csr_matrix(np.array([[0, 5.0], [5.0, 0]]))
    res = eisenberg_noe(lia, np.zeros(2))
    np.testing.assert_allclose(res.payments, [5.0, 5.0])


# -- Monte-Carlo cascades ------------------------------------------------------------------


def test_cascade_probability_on_a_chain() -> None:
    # 1 fully exposed to 0, 2 fully exposed to 1: P(2 defaults) = 1 - (1-p)^3.
    lev = sp.csr_matrix(np.array([[0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]]))
    pd, loss = cascade_default_probability(lev, np.full(3, 0.1), samples=20_000, seed=1)
    np.testing.assert_allclose(pd, [0.1, 0.19, 0.271], atol=0.012)
    assert loss == pytest.approx((0.1 + 0.19 + 0.271) / 3, abs=0.01)


@settings(max_examples=25, deadline=None)
@given(networks(max_n=10), st.integers(0, 2**32 - 1))
def test_removing_guarantees_never_increases_expected_loss(
    net: tuple[sp.csr_matrix, np.ndarray], seed: int
) -> None:
    trade, _ = net
    n = trade.shape[0]
    rng = np.random.default_rng(seed)
    guarantees = sp.csr_matrix(np.where(rng.random((n, n)) < 0.2, rng.random((n, n)), 0.0))
    equity = np.ones(n)
    pd = rng.random(n) * 0.3
    with_g = leverage_matrix(trade + guarantees, equity)
    without = leverage_matrix(trade, equity)
    pd_with, loss_with = cascade_default_probability(with_g, pd, samples=200, seed=seed)
    pd_without, loss_without = cascade_default_probability(without, pd, samples=200, seed=seed)
    assert loss_without <= loss_with + 1e-12
    assert np.all(pd_without <= pd_with + 1e-12)


# -- the single-hit cascade (analytic) ------------------------------------------------------


def test_single_hit_is_exact_on_a_chain() -> None:
    lev = sp.csr_matrix(np.array([[0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]]))
    np.testing.assert_allclose(single_hit_cascade_pd(lev, np.full(3, 0.1)), [0.1, 0.19, 0.271])


def test_single_hit_counts_cycles_and_shared_suppliers_once() -> None:
    # 0 and 1 wipe each other out; 3 is hit by 1 and by 2, and 2 is hit by 0.
    lev = np.zeros((4, 4))
    lev[0, 1] = lev[1, 0] = 1.5
    lev[2, 0] = 1.0
    lev[3, 1] = lev[3, 2] = 2.0
    b = np.array([0.1, 0.2, 0.05, 0.3])
    p = single_hit_cascade_pd(sp.csr_matrix(lev), b)
    both = 1 - 0.9 * 0.8
    np.testing.assert_allclose(p, [both, both, 1 - 0.9 * 0.8 * 0.95, 1 - 0.9 * 0.8 * 0.95 * 0.7])


def test_single_hit_passes_a_certain_default_on() -> None:
    lev = sp.csr_matrix(np.array([[0, 0], [3.0, 0]]))
    np.testing.assert_array_equal(single_hit_cascade_pd(lev, np.array([1.0, 0.02])), [1.0, 1.0])


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_single_hit_equals_monte_carlo_when_every_link_is_a_full_hit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 15
    lev = np.where(rng.random((n, n)) < 0.12, 1.0 + rng.random((n, n)), 0.0)
    np.fill_diagonal(lev, 0.0)
    b = rng.random(n) * 0.2
    mc, _ = cascade_default_probability(sp.csr_matrix(lev), b, samples=20_000, seed=seed)
    np.testing.assert_allclose(single_hit_cascade_pd(sp.csr_matrix(lev), b), mc, atol=0.015)


@settings(max_examples=25, deadline=None)
@given(networks(max_n=10), st.integers(0, 2**32 - 1))
def test_single_hit_never_exceeds_the_cascade(
    net: tuple[sp.csr_matrix, np.ndarray], seed: int
) -> None:
    """Partial hits add defaults the analytic form misses, never the other way round."""
    partial, _ = net
    rng = np.random.default_rng(seed)
    n = partial.shape[0]
    full = sp.csr_matrix(np.where(rng.random((n, n)) < 0.1, 1.0, 0.0))
    lev = sp.csr_matrix(partial + full)
    b = rng.random(n) * 0.3
    mc, _ = cascade_default_probability(lev, b, samples=400, seed=seed)
    exact_floor = single_hit_cascade_pd(lev, b)
    assert np.all(exact_floor >= b)
    # Conditional MC with 400 scenarios: allow its sampling error, not a systematic excess.
    assert np.all(exact_floor <= mc + 0.12)
    assert float(np.mean(exact_floor - mc)) <= 0.02


def test_single_hit_refuses_bad_input_and_huge_closures() -> None:
    lev = sp.csr_matrix(np.array([[0, 1.0], [1.0, 0]]))
    with pytest.raises(InvalidInput):
        single_hit_cascade_pd(lev, np.array([0.1, 1.5]))
    with pytest.raises(InvalidInput):
        single_hit_cascade_pd(lev, np.array([0.1, 0.1]), threshold=0.0)
    with pytest.raises(InvalidInput, match="closure"):
        single_hit_cascade_pd(lev, np.array([0.1, 0.1]), max_pairs=3)
