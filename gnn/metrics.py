"""Evaluation figures for ranked risk scores: what an analyst with a budget cares about."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


def top_k_mask(score: NDArray[np.floating], share: float = 0.01) -> NDArray[np.bool_]:
    """The ``share`` highest scores (at least one); ties broken by position, deterministically."""
    k = max(1, round(share * score.size))
    order = np.argsort(-score, kind="stable")
    mask = np.zeros(score.size, dtype=bool)
    mask[order[:k]] = True
    return mask


@dataclass
class Metrics:
    """One model's figures on one task and one evaluation set."""

    pr_auc: float
    base_rate: float
    roc_auc: float
    precision_at_1pct: float
    brier: float | None
    recall_by_pattern: dict[str, float] = field(default_factory=dict)
    group_recall: float | None = None
    """Rings found: a ring is found when half its members are in the top 1%."""
    spearman: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "pr_auc": self.pr_auc,
            "base_rate": self.base_rate,
            "roc_auc": self.roc_auc,
            "precision_at_1pct": self.precision_at_1pct,
            "brier": self.brier,
            "recall_by_pattern": self.recall_by_pattern,
            "group_recall": self.group_recall,
            "spearman": self.spearman,
        }


def evaluate(
    score: NDArray[np.floating],
    label: NDArray[np.bool_],
    *,
    probability: bool = True,
    patterns: NDArray[np.object_] | None = None,
    groups: Mapping[str, Sequence[int]] | None = None,
    reference: NDArray[np.floating] | None = None,
) -> Metrics:
    """Figures for ``score`` against binary ``label``.

    ``patterns`` names each positive's planted pattern (recall at the top 1% per pattern);
    ``groups`` lists members of planted rings; ``reference`` is a continuous target (e.g. the
    Monte-Carlo cascade PD) for a Spearman rank correlation. Brier only when ``score`` is a
    probability.
    """
    s = np.asarray(score, dtype=np.float64)
    y = np.asarray(label, dtype=bool)
    top = top_k_mask(s)
    both = 0 < y.sum() < y.size
    m = Metrics(
        pr_auc=float(average_precision_score(y, s)) if both else float("nan"),
        base_rate=float(y.mean()) if y.size else float("nan"),
        roc_auc=float(roc_auc_score(y, s)) if both else float("nan"),
        precision_at_1pct=float(y[top].mean()),
        brier=float(brier_score_loss(y, np.clip(s, 0, 1))) if probability and both else None,
    )
    if patterns is not None:
        for name in sorted({str(p) for p in patterns[y] if p}):
            members = np.asarray([str(p) == name for p in patterns]) & y
            m.recall_by_pattern[name] = float(top[members].mean())
    if groups:
        found = [top[np.asarray(list(g), dtype=np.int64)].mean() >= 0.5 for g in groups.values()]
        m.group_recall = float(np.mean(found))
    if reference is not None:
        rho = spearmanr(s, reference).statistic
        m.spearman = float(rho) if np.isfinite(rho) else float("nan")
    return m
