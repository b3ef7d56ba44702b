"""Entity resolution throughput and quality against Splink on the same records.

N dirty enterprise source records (made by `entity_resolution.synth` with the generator's
names and dirt, on a seed not used in training) are resolved by ChainLens and, in the same
run, by Splink 4 (DuckDB backend) with a Fellegi-Sunter model over the same fields after the
usual cleaning (NFKC, simplified script, digits-only phone, legacy code from the USCC),
trained by EM. Both are scored against the truth: pairwise precision/recall/F1 and B-cubed
F1; ours also reports candidate pairs and blocking recall. Then single-record incremental
lookups against the index built by the run: p95 latency, and whether each matched lookup
scores exactly as `match()` scores the pair alone (issue #21). The headline ratio is Splink's time
/ ours (higher is better). Full size 1,000,000 records; --quick about 20,000. Last, the
development benchmark of real firm names (tests/data/er/benchmark.csv, test part) and the
curated whole records (tests/data/er/records.csv, all pairs) are scored and printed beside.

    .venv/bin/python bench/entity_resolution.py [--quick] [--records N] [--no-splink]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from entity_resolution.benchmark import RECORDS_PATH, read_pairs
from entity_resolution.benchmark import evaluate as evaluate_benchmark
from entity_resolution.evaluate import blocking_recall, score_clusters
from entity_resolution.match import match
from entity_resolution.normalise import normalise_phone, to_simplified
from entity_resolution.records import EnterpriseRecord
from entity_resolution.resolver import resolve_records
from entity_resolution.synth import make_records
from entity_resolution.uscc import normalise_uscc

RECORDS_PER_FIRM = 1.56  # what synth makes on average


def _clean(text: str) -> str | None:
    text = to_simplified(unicodedata.normalize("NFKC", text or "")).lower()
    text = "".join(ch for ch in text if ch.isalnum())
    return text or None


def splink_rows(records: list[EnterpriseRecord]) -> list[dict[str, Any]]:
    """The records as a Splink user would prepare them (no ChainLens parsing)."""
    rows = []
    for r in records:
        uscc = normalise_uscc(r.uscc) or None
        org = normalise_uscc(r.legacy_org_code) or (uscc[8:17] if uscc and len(uscc) == 18
                                                    else None)
        rows.append(
            {
                "unique_id": r.record_id,
                "name": _clean(r.name),
                "name_en": _clean(r.name_en),
                "uscc": uscc,
                "org_code": org,
                "registration_no": r.registration_no or None,
                "region_code": r.region_code or None,
                "phone": normalise_phone(r.phone) or None,
                "address": _clean(r.address),
                "legal_rep": _clean(r.legal_rep),
            }
        )
    return rows


def run_splink(records: list[EnterpriseRecord], threshold: float = 0.9) -> tuple[dict[str, str],
                                                                                  float]:
    import duckdb
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.WARNING)
    t0 = time.perf_counter()
    df = pd.DataFrame(splink_rows(records))
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.ExactMatch("uscc"),
            cl.ExactMatch("org_code"),
            cl.ExactMatch("registration_no"),
            cl.JaroWinklerAtThresholds("name", [0.97, 0.9, 0.8]),
            cl.JaroWinklerAtThresholds("name_en", [0.95, 0.85]),
            cl.ExactMatch("region_code"),
            cl.ExactMatch("phone"),
            cl.JaroWinklerAtThresholds("address", [0.95, 0.85]),
            cl.ExactMatch("legal_rep"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("uscc"),
            block_on("org_code"),
            block_on("registration_no"),
            block_on("phone"),
            block_on("address"),
            block_on("name"),
            block_on("name_en"),
            block_on("substr(name, 3, 4)"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(df, settings, db_api=DuckDBAPI(connection=con))
    linker.training.estimate_probability_two_random_records_match(
        [block_on("uscc")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("phone"), fix_u_probabilities=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("uscc"), fix_u_probabilities=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("substr(name, 3, 4)"), fix_u_probabilities=True
    )
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    out = clusters.as_pandas_dataframe()
    seconds = time.perf_counter() - t0
    return dict(zip(out["unique_id"].astype(str), out["cluster_id"].astype(str), strict=True)), \
        seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 20,000 records")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--lookups", type=int, default=500)
    parser.add_argument("--no-splink", action="store_true")
    args = parser.parse_args()
    target = args.records or (20_000 if args.quick else 1_000_000)
    firms = max(100, int(target / RECORDS_PER_FIRM))

    t0 = time.perf_counter()
    made = make_records(firms, args.seed)
    records = made.records
    print(f"made {len(records):,} records of {firms:,} firms in "
          f"{time.perf_counter() - t0:.1f}s", flush=True)

    t0 = time.perf_counter()
    resolution = resolve_records(records)
    ours_s = time.perf_counter() - t0
    ours = score_clusters(resolution.entity_of(), made.truth)
    recall_b = blocking_recall([r.record_id for r in resolution.records], resolution.pairs,
                               made.truth)
    stats = resolution.stats
    print(f"chainlens: {ours_s:.1f}s, {len(records) / ours_s:,.0f} records/s, "
          f"{stats['candidate_pairs']:,} candidate pairs (max {stats['max_candidates_per_record']}"
          f" per record), blocking recall {recall_b:.4f}", flush=True)
    print(f"  pairwise P {ours.precision:.4f} R {ours.recall:.4f} F1 {ours.f1:.4f}; "
          f"B-cubed F1 {ours.bcubed_f1:.4f}; stages {stats['seconds']}", flush=True)

    # Incremental lookups: records of new firms and new records of known firms.
    index = resolution.index
    assert index is not None
    extra = make_records(max(50, args.lookups), args.seed + 1).records[: args.lookups]
    extra += [
        replace(r, record_id=r.record_id + "-again") for r in records[: args.lookups // 2]
    ]
    timings = []
    looked_up = []
    for rec in extra:
        t = time.perf_counter()
        link = index.lookup(rec)
        timings.append((time.perf_counter() - t) * 1000)
        looked_up.append((rec, link))
    timings.sort()
    # Issue #21: a pair scores against this index exactly as it scores alone (`match`).
    by_id = {r.record_id: r for r in records}
    compared = differing = 0
    for rec, link in looked_up:
        other = link.explanation.get("matched_record")
        if other:
            compared += 1
            differing += abs(match(rec, by_id[other]).score - link.score) > 1e-9
    print(f"lookup scores against the {len(records):,}-record index equal to match() alone: "
          f"{compared - differing:,} of {compared:,}", flush=True)
    p50 = statistics.median(timings)
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(f"incremental lookup over {len(records):,} indexed records: p50 {p50:.2f} ms, "
          f"p95 {p95:.2f} ms", flush=True)

    result: dict[str, Any] = {
        "bench": "entity_resolution",
        "records": len(records),
        "firms": firms,
        "ours_seconds": round(ours_s, 2),
        "ours_records_per_s": round(len(records) / ours_s),
        "candidate_pairs": stats["candidate_pairs"],
        "max_candidates_per_record": stats["max_candidates_per_record"],
        "blocking_recall": round(recall_b, 5),
        "ours_precision": round(ours.precision, 5),
        "ours_recall": round(ours.recall, 5),
        "ours_f1": round(ours.f1, 5),
        "ours_bcubed_f1": round(ours.bcubed_f1, 5),
        "lookup_p50_ms": round(p50, 3),
        "lookup_p95_ms": round(p95, 3),
        "lookup_scores_compared": compared,
        "lookup_scores_differing": differing,
    }
    if not args.no_splink:
        mapping, splink_s = run_splink(records)
        theirs = score_clusters(mapping, made.truth)
        print(f"splink: {splink_s:.1f}s, {len(records) / splink_s:,.0f} records/s; pairwise "
              f"P {theirs.precision:.4f} R {theirs.recall:.4f} F1 {theirs.f1:.4f}; "
              f"B-cubed F1 {theirs.bcubed_f1:.4f}", flush=True)
        result.update(
            {
                "splink_seconds": round(splink_s, 2),
                "splink_precision": round(theirs.precision, 5),
                "splink_recall": round(theirs.recall, 5),
                "splink_f1": round(theirs.f1, 5),
                "splink_bcubed_f1": round(theirs.bcubed_f1, 5),
                "f1_gain": round(ours.f1 - theirs.f1, 5),
                "ratio": round(splink_s / ours_s, 3),
            }
        )
        print(f"ratio (splink time / ours): {result['ratio']:.2f}; "
              f"F1 ours {ours.f1:.4f} vs splink {theirs.f1:.4f}")
    else:
        result["ratio"] = None
    # Beside the synthetic figures: the development benchmark of real names (test part).
    real = evaluate_benchmark(read_pairs(), "test")
    print(f"benchmark of real names, test part ({real['pairs']} pairs): ROC-AUC "
          f"{real['roc_auc']:.4f}, recall at 95% TNR {real['recall_at_tnr95']:.4f}; at the "
          f"operating threshold P {real['precision']:.4f} R {real['recall']:.4f} "
          f"TNR {real['tnr']:.4f}", flush=True)
    result.update({f"benchmark_{k}": real[k] for k in
                   ("roc_auc", "recall_at_tnr95", "precision", "recall", "tnr")})
    # And the curated whole records (directories, aliases, identifiers), all pairs.
    whole = evaluate_benchmark(read_pairs(RECORDS_PATH), "all")
    print(f"benchmark of whole records, all {whole['pairs']} pairs: ROC-AUC "
          f"{whole['roc_auc']:.4f}; at the operating threshold P {whole['precision']:.4f} "
          f"R {whole['recall']:.4f} TNR {whole['tnr']:.4f}", flush=True)
    result.update({f"records_{k}": whole[k] for k in ("roc_auc", "precision", "recall", "tnr")})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
