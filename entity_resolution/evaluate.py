"""Measuring a resolution against ground truth: pairwise precision/recall/F1, B-cubed F1 and
blocking recall (the share of true matching pairs that blocking let through to scoring)."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Scores:
    records: int
    true_pairs: int
    predicted_pairs: int
    true_positive_pairs: int
    precision: float
    recall: float
    f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def score_clusters(predicted: Mapping[str, str], truth: Mapping[str, str]) -> Scores:
    """Compare record -> entity maps over the records both know."""
    ids = [r for r in truth if r in predicted]
    pred_size = Counter(predicted[r] for r in ids)
    true_size = Counter(truth[r] for r in ids)
    both = Counter((predicted[r], truth[r]) for r in ids)
    tp = sum(_pairs(n) for n in both.values())
    pp = sum(_pairs(n) for n in pred_size.values())
    tt = sum(_pairs(n) for n in true_size.values())
    precision = tp / pp if pp else 1.0
    recall = tp / tt if tt else 1.0
    bp = br = 0.0
    for r in ids:
        inter = both[(predicted[r], truth[r])]
        bp += inter / pred_size[predicted[r]]
        br += inter / true_size[truth[r]]
    n = len(ids) or 1
    bp, br = bp / n, br / n
    return Scores(len(ids), tt, pp, tp, precision, recall, _f1(precision, recall), bp, br,
                  _f1(bp, br))


def blocking_recall(
    record_ids: Sequence[str], pairs: Sequence[tuple[int, int]], truth: Mapping[str, str]
) -> float:
    """Share of true matching pairs (both records known to truth) among the candidate pairs."""
    groups: dict[str, int] = defaultdict(int)
    for r in record_ids:
        if r in truth:
            groups[truth[r]] += 1
    total = sum(_pairs(n) for n in groups.values())
    if total == 0:
        return 1.0
    found = 0
    for i, j in pairs:
        a, b = record_ids[i], record_ids[j]
        if a in truth and b in truth and truth[a] == truth[b]:
            found += 1
    return found / total


def read_truth(path: Path) -> dict[str, str]:
    """`truth/enterprise_record_clusters.csv` (record_id, enterprise_id) as a dict."""
    with path.open(encoding="utf-8", newline="") as f:
        return {row["record_id"]: row["enterprise_id"] for row in csv.DictReader(f)}
