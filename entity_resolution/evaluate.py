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


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_generated(folder: Path) -> tuple[list[Any], list[Any], dict[str, str]]:
    """(source records, master records, truth) of a folder written by `chainlens generate`.

    Master records are the enterprises file with their address and phone texts; their
    ``enterprise_id`` is the enterprise's id.
    """
    from entity_resolution.records import EnterpriseRecord

    data = folder / "data" if (folder / "data").is_dir() else folder
    records = [EnterpriseRecord.from_fields(row["record_id"], row["source"], row)
               for row in _rows(data / "enterprise_records.csv")]
    addresses = {r["id"]: r["text"] for r in _rows(data / "addresses.csv")}
    phones = {r["id"]: r["number"] for r in _rows(data / "phones.csv")}
    masters = [
        EnterpriseRecord(
            record_id=f"M-{row['id']}", source="master", name=row["name"],
            name_en=row.get("name_en") or "", uscc=row.get("uscc") or "",
            legal_form=row.get("legal_form") or "", region_code=row.get("region_code") or "",
            address=addresses.get(row.get("address_id") or "", ""),
            phone=phones.get(row.get("phone_id") or "", ""), enterprise_id=row["id"],
        )
        for row in _rows(data / "enterprises.csv")
    ]
    truth_path = folder / "truth" / "enterprise_record_clusters.csv"
    truth = read_truth(truth_path) if truth_path.exists() else {}
    return records, masters, truth


def evaluate_folder(folder: Path, *, with_masters: bool = False) -> dict[str, Any]:
    """Resolve a folder written by `chainlens generate` and score it against its truth."""
    import time

    from entity_resolution.resolver import resolve_records

    records, masters, truth = read_generated(folder)
    inputs = records + (masters if with_masters else [])
    t0 = time.perf_counter()
    res = resolve_records(inputs, keep_index=False)
    seconds = time.perf_counter() - t0
    out = score_clusters(res.entity_of(), truth).as_dict()
    out["blocking_recall"] = blocking_recall([r.record_id for r in res.records], res.pairs,
                                             truth)
    out["seconds"] = round(seconds, 2)
    out["candidate_pairs"] = res.stats["candidate_pairs"]
    if with_masters:
        entity_of = res.entity_of()
        out["records_linked_to_their_enterprise"] = sum(
            entity_of[r] == e for r, e in truth.items() if r in entity_of
        ) / max(1, len(truth))
    return out


def main() -> None:
    """`python -m entity_resolution.evaluate FOLDER [--with-masters]`: scores on a generated
    folder, printed as JSON."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description="evaluate entity resolution on a folder")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--with-masters", action="store_true",
                        help="resolve against the enterprises file too (as ingest does)")
    args = parser.parse_args()
    print(json.dumps(evaluate_folder(args.folder, with_masters=args.with_masters), indent=1))


if __name__ == "__main__":
    main()
