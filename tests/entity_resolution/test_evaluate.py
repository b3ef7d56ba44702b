"""Pairwise and B-cubed scores on a hand-computed example."""

from __future__ import annotations

import pytest

from entity_resolution.evaluate import blocking_recall, score_clusters


def test_scores_by_hand() -> None:
    truth = {"a": "X", "b": "X", "c": "X", "d": "Y", "e": "Z"}
    predicted = {"a": "1", "b": "1", "c": "2", "d": "2", "e": "3"}
    s = score_clusters(predicted, truth)
    # True pairs ab ac bc = 3; predicted pairs ab cd = 2; both: ab = 1.
    assert (s.true_pairs, s.predicted_pairs, s.true_positive_pairs) == (3, 2, 1)
    assert s.precision == pytest.approx(0.5) and s.recall == pytest.approx(1 / 3)
    # B-cubed precision: a 2/2, b 2/2, c 1/2, d 1/2, e 1 -> 4/5; recall: a 2/3, b 2/3, c 1/3,
    # d 1, e 1 -> (11/3)/5.
    assert s.bcubed_precision == pytest.approx(0.8)
    assert s.bcubed_recall == pytest.approx(11 / 15)


def test_blocking_recall_by_hand() -> None:
    truth = {"a": "X", "b": "X", "c": "X", "d": "Y"}
    ids = ["a", "b", "c", "d"]
    assert blocking_recall(ids, [(0, 1), (2, 3)], truth) == pytest.approx(1 / 3)
    assert blocking_recall(ids, [(0, 1), (0, 2), (1, 2)], truth) == 1.0
