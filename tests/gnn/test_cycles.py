"""Return-walk features of the trade graph: exact on rings, zero off cycles, robust estimates."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from gnn.cycles import (
    CYCLE_FEATURES,
    RETURN_LENGTHS,
    _estimated_returns,
    _exact_returns,
    cycle_features,
)
from gnn.dataset import build_graph
from gnn.labels import read_labels, truth_as_of

SIZE = CYCLE_FEATURES.index("trade_cycle_log_size")


def _ret(features: np.ndarray, k: int) -> np.ndarray:
    return features[:, RETURN_LENGTHS.index(k)]


def _ring(k: int, start: int = 0) -> tuple[list[int], list[int]]:
    members = list(range(start, start + k))
    return members, members[1:] + members[:1]


@pytest.mark.parametrize("k", [2, 3, 4, 5, 6])
def test_a_closed_ring_returns_at_its_length_and_its_multiples_only(k: int) -> None:
    seller, buyer = _ring(k)
    f = cycle_features(k + 1, np.array(seller), np.array(buyer), np.ones(k))
    for length in RETURN_LENGTHS:
        expected = 1.0 if length % k == 0 else 0.0
        np.testing.assert_allclose(_ret(f, length)[:k], expected)
    np.testing.assert_allclose(f[:k, SIZE], np.log(k), rtol=1e-6)
    # The firm outside the ring is on no cycle.
    assert not f[k].any()


def test_trade_without_cycles_scores_zero() -> None:
    # A supply tree: tier-2 firms sell to tier-1 firms, which sell to the core (0).
    seller = np.array([1, 2, 3, 4, 5, 6])
    buyer = np.array([0, 0, 1, 1, 2, 2])
    f = cycle_features(7, seller, buyer, np.full(6, 1_000_000.0))
    assert not f.any()


def test_walks_choose_buyers_by_amount_and_are_lost_when_they_leave_the_ring() -> None:
    # Ring 0 -> 1 -> 2 -> 0; firm 0 also sells three times the ring's amount to firm 3,
    # and firm 3 sells to firm 4 (a walk that goes there never comes back).
    seller = np.array([0, 1, 2, 0, 3])
    buyer = np.array([1, 2, 0, 3, 4])
    amount = np.array([100.0, 50.0, 70.0, 300.0, 10.0])
    f = cycle_features(5, seller, buyer, amount)
    # Each closed walk of length 3 passes firm 0 once, where it stays in the ring with 1/4.
    np.testing.assert_allclose(_ret(f, 3)[:3], 0.25 ** (1 / 3), rtol=1e-6)
    np.testing.assert_allclose(_ret(f, 6)[:3], 0.0625 ** (1 / 6), rtol=1e-6)
    assert not _ret(f, 2).any() and not f[3:].any()


def test_duplicate_rows_are_summed_and_self_trade_and_zero_amounts_are_ignored() -> None:
    seller = np.array([0, 0, 1, 0, 2, 1])
    buyer = np.array([1, 1, 0, 2, 2, 2])
    amount = np.array([1.0, 2.0, 5.0, 3.0, 9.0, 0.0])
    f = cycle_features(3, seller, buyer, amount)
    # 0 sells 3 to firm 1 and 3 to firm 2: half its walks go round the 2-cycle with 1.
    np.testing.assert_allclose(_ret(f, 2)[:2], 0.5**0.5, rtol=1e-6)
    np.testing.assert_allclose(f[:2, SIZE], np.log(2), rtol=1e-6)
    assert not f[2].any()


def test_the_estimate_is_exact_on_rings_and_close_elsewhere() -> None:
    rng = np.random.default_rng(3)
    n = 400
    # A random digraph, strongly connected enough to have closed walks of every length.
    seller = rng.integers(0, n, 2400)
    buyer = rng.integers(0, n, 2400)
    amount = rng.lognormal(10, 1, 2400)
    exact = cycle_features(n, seller, buyer, amount)
    estimated = cycle_features(n, seller, buyer, amount, exact_max_pairs=0, probes=4096)
    assert exact[:, : len(RETURN_LENGTHS)].max() > 0.3
    # Where the estimate is kept, it is close (the k-th root magnifies small errors).
    kept = estimated[:, : len(RETURN_LENGTHS)] > 0
    diff = np.abs(estimated - exact)[:, : len(RETURN_LENGTHS)][kept]
    assert kept.sum() > 100 and np.median(diff) < 0.05
    np.testing.assert_array_equal(estimated[:, SIZE], exact[:, SIZE])
    # Disjoint rings: every probe gives the exact diagonal, nothing is thresholded away.
    block = sp.csr_matrix(
        (np.ones(7), ([0, 1, 2, 3, 4, 5, 6], [1, 2, 0, 4, 5, 6, 3])), shape=(7, 7)
    )
    for est, ex in zip(
        _estimated_returns(block, 6, probes=16, seed=0), _exact_returns(block, 6), strict=True
    ):
        np.testing.assert_allclose(est, ex.astype(float))


def test_a_giant_loop_is_estimated_without_noise_and_small_rings_stay_exact() -> None:
    # A loop of 500 firms (no closed walk of length <= 6: each probe's z_i (B^k z)_i is ±1
    # noise, whose 6th root would be about 0.5 unthresholded) and a 3-ring beside it; the
    # budget squares the ring exactly and leaves the loop to the probes.
    n = 500
    loop = np.arange(n)
    ring_seller, ring_buyer = _ring(3, start=n)
    seller = np.concatenate([loop, ring_seller])
    buyer = np.concatenate([(loop + 1) % n, ring_buyer])
    f = cycle_features(n + 3, seller, buyer, np.ones(seller.size), exact_max_pairs=100)
    assert not f[:n, : len(RETURN_LENGTHS)].any()
    np.testing.assert_allclose(f[:n, SIZE], np.log(n), rtol=1e-6)
    np.testing.assert_allclose(_ret(f, 3)[n:], 1.0)
    np.testing.assert_allclose(_ret(f, 6)[n:], 1.0)
    assert not _ret(f, 4)[n:].any()


def test_ring_members_stand_out_in_a_generated_world(worlds: dict[int, Path]) -> None:
    folder = worlds[21]
    g = build_graph(folder / "data", truth_as_of(folder / "truth") - timedelta(days=0))
    labels = read_labels(folder / "truth", g)
    on_ring = np.zeros(g.n, dtype=bool)
    for members in labels.rings.values():
        on_ring[members] = True
    returns = np.column_stack([g.feature(f"trade_return_{k}") for k in RETURN_LENGTHS])
    best = returns.max(axis=1)
    # Every planted ring member returns along its ring; few other firms return at all.
    assert on_ring.any() and (best[on_ring] > 0).all()
    assert (best[~on_ring] > 0).mean() < 0.02
    assert np.median(best[on_ring]) > 0.3
