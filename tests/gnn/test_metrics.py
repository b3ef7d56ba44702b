"""Metrics on hand-made scores with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from gnn.metrics import evaluate, top_k_mask


def test_top_one_percent_keeps_at_least_one() -> None:
    assert top_k_mask(np.array([0.1, 0.9, 0.5])).tolist() == [False, True, False]
    assert top_k_mask(np.arange(1000.0)).sum() == 10


def test_perfect_ranking() -> None:
    y = np.zeros(200, dtype=bool)
    y[:2] = True
    s = np.where(y, 0.9, 0.1)
    pat = np.array(["ring", "shell"] + [""] * 198, dtype=object)
    m = evaluate(s, y, patterns=pat, groups={"R1": [0, 5]}, reference=s)
    assert m.pr_auc == 1.0 and m.roc_auc == 1.0
    assert m.precision_at_1pct == 1.0
    assert m.base_rate == pytest.approx(0.01)
    assert m.recall_by_pattern == {"ring": 1.0, "shell": 1.0}
    assert m.group_recall == 1.0  # half of ring R1 is in the top 2
    assert m.brier == pytest.approx(0.01)
    assert m.spearman == pytest.approx(1.0)


def test_reversed_ranking_finds_nothing() -> None:
    y = np.zeros(100, dtype=bool)
    y[:3] = True
    s = np.where(y, 0.0, 1.0) + np.linspace(0, 0.01, 100)
    m = evaluate(s, y, groups={"R": [0, 1, 2]})
    assert m.roc_auc == 0.0
    assert m.precision_at_1pct == 0.0
    assert m.group_recall == 0.0
