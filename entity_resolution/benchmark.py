"""The development benchmark: labelled pairs of real firm names (tests/data/er/benchmark.csv)
and of whole records (tests/data/er/records.csv: directory listings, aliases, identifiers).

Each pair is two records of one firm (same = 1) or of two different firms (same = 0), with a
category (legal form, abbreviation, bank branch, near miss ...) and a split: thresholds and
weights may be tuned on ``tune`` only; ``test`` is for reporting. Every pair is scored by
`match.match_prepared` (the features, model and shipped frequencies a run uses), so the
figures are those of the resolver on two-record inputs.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from entity_resolution.blocking import blocking_keys
from entity_resolution.match import match_prepared
from entity_resolution.records import RECORD_FIELDS, EnterpriseRecord, prepare_records
from entity_resolution.score import MatchModel, TradeRarity, default_model

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "tests" / "data" / "er" / "benchmark.csv"
TARGET_TNR = 0.95


RECORDS_PATH = DEFAULT_PATH.with_name("records.csv")


@dataclass(frozen=True, slots=True)
class Pair:
    pair_id: str
    a: EnterpriseRecord
    b: EnterpriseRecord
    same: bool
    category: str
    split: str


def read_pairs(path: Path = DEFAULT_PATH) -> list[Pair]:
    """The pairs of a file whose columns are ``pair_id, same, category, split`` and the
    record fields (`RECORD_FIELDS`) of each side with ``_a`` / ``_b`` appended (``name_a``,
    ``phone_b``, ``aliases_a`` ...); a field missing from the file is empty."""
    with path.open(encoding="utf-8", newline="") as f:
        return [
            Pair(row["pair_id"], _side(row, "a"), _side(row, "b"), row["same"] == "1",
                 row["category"], row["split"])
            for row in csv.DictReader(f)
        ]


def _side(row: dict[str, str], side: str) -> EnterpriseRecord:
    values = {name: row.get(f"{name}_{side}") or "" for name in RECORD_FIELDS}
    return EnterpriseRecord.from_fields(f"{row['pair_id']}{side}", "benchmark", values)


def score_pairs(
    pairs: Sequence[Pair], model: MatchModel | None = None, rarity: TradeRarity | None = None
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """(score, shares a blocking key) per pair."""
    model = model or default_model()
    rarity = rarity or TradeRarity.reference()
    prepared = prepare_records([r for p in pairs for r in (p.a, p.b)])
    scores = np.empty(len(pairs))
    blocked_together = np.zeros(len(pairs), dtype=bool)
    for k in range(len(pairs)):
        a, b = prepared[2 * k], prepared[2 * k + 1]
        scores[k] = match_prepared(a, b, model, rarity).score
        blocked_together[k] = bool(set(blocking_keys(a)) & set(blocking_keys(b)))
    return scores, blocked_together


def roc_auc(scores: NDArray[np.float64], y: NDArray[np.bool_]) -> float:
    """Probability that a random same pair outscores a random different one (ties: half)."""
    pos, neg = scores[y], scores[~y]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    values = np.concatenate([pos, neg])[order]
    # average ranks over ties
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = ranks[: len(pos)].sum()
    return float((rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def calibration_error(
    scores: NDArray[np.float64], y: NDArray[np.bool_], bins: int = 10
) -> float:
    """Expected calibration error: over ten equal-width score bins, the gap between the
    mean score and the share of same pairs, weighted by the bin's share of pairs."""
    which = np.minimum((scores * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        k = which == b
        if k.any():
            error += float(k.mean()) * abs(float(scores[k].mean()) - float(y[k].mean()))
    return error


def threshold_at_tnr(scores: NDArray[np.float64], y: NDArray[np.bool_],
                     tnr: float = TARGET_TNR) -> float:
    """The lowest threshold (pairs at or above it are called same) that keeps at least
    ``tnr`` of the different pairs below it."""
    neg = np.sort(scores[~y])
    if len(neg) == 0:
        return 0.0
    allowed = int(np.floor(len(neg) * (1 - tnr)))  # different pairs that may be above
    candidates = np.unique(np.concatenate([scores, [np.inf]]))
    for t in candidates:
        if int((neg >= t).sum()) <= allowed:
            return float(t)
    return float("inf")


def _at(scores: NDArray[np.float64], y: NDArray[np.bool_], t: float) -> dict[str, float]:
    called = scores >= t
    tp = int((called & y).sum())
    fp = int((called & ~y).sum())
    pos, neg = int(y.sum()), int((~y).sum())
    return {
        "threshold": round(t, 4),
        "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "recall": round(tp / pos, 4) if pos else 1.0,
        "tnr": round(1 - fp / neg, 4) if neg else 1.0,
    }


def evaluate(
    pairs: Sequence[Pair],
    split: str = "test",
    model: MatchModel | None = None,
    rarity: TradeRarity | None = None,
) -> dict[str, Any]:
    """The benchmark's figures on one split ('tune', 'test' or 'all')."""
    model = model or default_model()
    chosen = [p for p in pairs if split == "all" or p.split == split]
    scores, together = score_pairs(chosen, model, rarity)
    y = np.array([p.same for p in chosen], dtype=bool)
    t95 = threshold_at_tnr(scores, y)
    at95 = _at(scores, y, t95)
    op = _at(scores, y, model.threshold)
    by_cat: dict[str, list[int]] = defaultdict(list)
    for k, p in enumerate(chosen):
        by_cat[p.category].append(k)
    categories = {}
    for cat in sorted(by_cat):
        idx = np.array(by_cat[cat])
        cy, cs = y[idx], scores[idx]
        called = cs >= model.threshold
        row: dict[str, Any] = {"pairs": len(idx), "same": int(cy.sum()),
                               "different": int((~cy).sum()),
                               "mean_score": round(float(cs.mean()), 4)}
        if cy.any():
            row["recall"] = round(float((called & cy).sum() / cy.sum()), 4)
            row["recall_at_tnr95"] = round(float(((cs >= t95) & cy).sum() / cy.sum()), 4)
            row["blocked_together"] = round(float(together[idx][cy].mean()), 4)
        if (~cy).any():
            row["tnr"] = round(float(1 - (called & ~cy).sum() / (~cy).sum()), 4)
            row["tnr_at_tnr95"] = round(float(1 - ((cs >= t95) & ~cy).sum() / (~cy).sum()), 4)
        categories[cat] = row
    return {
        "split": split,
        "pairs": len(chosen),
        "same": int(y.sum()),
        "different": int((~y).sum()),
        "roc_auc": round(roc_auc(scores, y), 4),
        "calibration_error": round(calibration_error(scores, y), 4),
        "recall_at_tnr95": at95["recall"],
        "tnr95_threshold": at95["threshold"],
        "operating_threshold": round(model.threshold, 4),
        "precision": op["precision"],
        "recall": op["recall"],
        "tnr": op["tnr"],
        "blocking_recall": round(float(together[y].mean()), 4) if y.any() else 1.0,
        "categories": categories,
    }
