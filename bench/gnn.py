"""Benchmark: GNN training time and scoring throughput, beside the tree baseline's, one run.

    python bench/gnn.py --quick            # small worlds, under a minute on an idle machine
    python bench/gnn.py                    # 100k enterprises to train, 1M to score

Training: one generated world of ``--train`` enterprises, fraud task; the GNN (full-graph,
CPU) and LightGBM on 1/2-hop aggregates are fitted on the same features. Scoring: a world
of ``--score`` enterprises, from its files through features, both models' inference, the
default task's contagion prior (the single-hit cascade every default model starts from), then
``gnn.scoring.score_tables`` with trees for both tasks (the registered default), explanations
included.
Write-back (``--write`` enterprises into ``NEO4J_URI`` or a managed server of the benchmark's
own) is timed separately. Prints medians and ratios, then one JSON line; "ratio" is GNN train time
over tree train time.

    python bench/gnn.py --typologies --quick                    # 2,000-firm worlds, 30 epochs
    python bench/gnn.py --typologies                            # 3,000-firm worlds
    python bench/gnn.py --typologies --train 100000 --label-share 0.02 --train-seeds 301
    python bench/gnn.py --typologies --compare-ego              # and the GNN without ego IDs

``--typologies``: laundering typologies instead (``gnn.train.typology_report``): the GNN and
the trees fitted on worlds generated with ``Typologies()`` and trade noise (``--train-seeds``,
``--train`` firms each, ``--label-share`` of each world's firms labelled), scored on held-out
worlds (``--test-seeds``, ``--score`` firms each): PR-AUC, recall per typology at a budget of
the number of positives, the look-alikes' false-positive rate in the top 1%, the edge-shuffle
control, each with its spread over the held-out seeds, and both training times. Here "ratio"
is the GNN's mean PR-AUC over the trees'.

    python bench/gnn.py --workers 2 --quick                     # 3,000 firms, under minutes
    nice -n 10 python bench/gnn.py --workers 2                  # 100k firms

``--workers N``: training beyond one process (``gnn.minibatch``, ``gnn.distributed``). One
world of ``--train`` firms (seed 31, fraud task) trained three ways, each in a process of its
own so that each peak resident memory is its own: full-graph (``--epochs``, by default the 150
of ``chainlens train``), mini-batch in one process and data-parallel mini-batch over N gloo
workers (``--mb-epochs``, ``--batch-size``, ``--fanout``; the workers share ``--threads``);
each model is scored on a held-out world of ``--score`` firms (seed 33) and its PR-AUC printed
beside the full-graph one, with every process's peak RSS. Here "ratio" is the N-worker
model's PR-AUC over the full-graph model's, "pr_auc_gap" their difference.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from gnn.baselines import TreeModel
from gnn.dataset import build_graph
from gnn.fit import GnnConfig, fit_gnn, predict_gnn
from gnn.labels import read_labels, truth_as_of
from gnn.registry import TARGETS, Bundle, TaskModel
from gnn.scoring import score_tables
from gnn.targets import contagion_prior
from gnn.train import TypologyConfig
from ingest.synthetic import generate

T = TypeVar("T")


def _world(root: Path, n: int, seed: int) -> Path:
    folder = root / f"seed{seed}-n{n}"
    if not (folder / "truth" / "summary.json").exists():
        generate(folder, n, seed)
    return folder


def _timed(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def _write_back(n: int, scores: list[dict[str, object]]) -> float:
    """Seconds to write ``n`` score rows into Neo4j.

    The server is ``NEO4J_URI`` when set, else a managed one of the benchmark's own (state
    folder ``.chainlens/bench-gnn``, ports 7795/7796), cleared first and stopped after.
    """
    import os

    from chainlens.settings import PROJECT_ROOT, Environment, Settings, get_settings
    from graph.driver import create_driver, wait_until_answers
    from graph.maintenance import clear_database
    from graph.queries import bulk
    from graph.queries.risk import write_scores
    from graph.schema import apply_schema
    from graph.server import ManagedNeo4j

    settings = (
        get_settings()
        if os.environ.get("NEO4J_URI")
        else Settings(
            environment=Environment.TEST,
            state_dir=PROJECT_ROOT / ".chainlens" / "bench-gnn",
            neo4j_bolt_port=7795,
            neo4j_http_port=7796,
            neo4j_heap="2g",
            neo4j_pagecache="1g",
        )
    )
    server = ManagedNeo4j(settings) if settings.managed_neo4j else None
    if server is not None:
        server.start()
    driver = create_driver(settings)
    db = settings.neo4j_database
    try:
        wait_until_answers(driver, db)
        clear_database(driver, db)
        apply_schema(driver, db)
        # Bare enterprises to score, in large idempotent batches: the loader's validation and
        # lineage are the ingest benchmark's subject, not this one's.
        with driver.session(database=db) as session:
            for start in range(0, n, 20_000):
                batch = scores[start : start + 20_000]
                rows = [{"id": r["id"], "name": f"bench {r['id']}"} for r in batch]
                session.execute_write(
                    lambda tx, b=rows: tx.run(bulk.PLACEHOLDER_ENTERPRISES, rows=b).consume()
                )
        t = time.perf_counter()
        write_scores(driver, db, scores[:n], model_version="bench", scored_at=datetime.now(UTC))
        return time.perf_counter() - t
    finally:
        driver.close()
        if server is not None:
            server.stop()


def _typologies(args: argparse.Namespace) -> int:
    from gnn.train import typology_report

    n_train = args.train or (2000 if args.quick else 3000)
    n_test = args.score or (2000 if args.quick else 3000)
    cfg = TypologyConfig(
        train_seeds=tuple(args.train_seeds),
        test_seeds=tuple(args.test_seeds),
        enterprises=n_train,
        test_enterprises=n_test,
        label_share=args.label_share,
        gnn=GnnConfig(
            hidden=32,
            dropout=0.5,
            weight_decay=1e-2,
            epochs=args.epochs or (30 if args.quick else 60),
            threads=args.threads,
            ego_ids=not args.no_ego_ids,
        ),
        shuffle_control=not args.no_shuffle,
        ego_comparison=args.compare_ego,
    )
    report = typology_report(args.data, cfg)
    summary = report["summary"]
    for name, figures in summary.items():
        line = ", ".join(
            f"{k} {v['mean']:.3f} ± {v['std']:.3f} [{v['min']:.3f}, {v['max']:.3f}]"
            for k, v in figures.items()
        )
        print(f"{name}: {line}")
    t = report["timings"]
    other = "gnn_without_ego_ids" if cfg.gnn.ego_ids else "gnn_ego_ids"
    ego_s = f", {other} {t[f'{other}_train_s']:.1f} s" if cfg.ego_comparison else ""
    print(f"train {n_train} firms x {len(cfg.train_seeds)} worlds, {cfg.label_share:.0%} labelled:"
          f" GNN {t['gnn_train_s']:.1f} s{ego_s}, trees {t['trees_train_s']:.1f} s")  # fmt: skip
    gnn, trees = summary["gnn"]["pr_auc"]["mean"], summary["trees"]["pr_auc"]["mean"]
    out = {
        "bench": "gnn-typologies",
        "quick": args.quick,
        "train_enterprises": n_train,
        "test_enterprises": n_test,
        "train_seeds": report["train_seeds"],
        "test_seeds": report["test_seeds"],
        "label_share": cfg.label_share,
        "epochs": cfg.gnn.epochs,
        "gnn_train_s": round(t["gnn_train_s"], 3),
        "tree_train_s": round(t["trees_train_s"], 3),
        "ego_ids": cfg.gnn.ego_ids,
        f"{other}_train_s": round(t[f"{other}_train_s"], 3) if cfg.ego_comparison else None,
        "per_seed": report["per_seed"],
        "summary": summary,
        "ratio": round(gnn / trees, 4) if trees else None,
    }
    print(json.dumps(out))
    return 0


def _rss_mb(field: str = "VmHWM") -> float:
    """This process's peak (``VmHWM``) or current (``VmRSS``) resident memory, MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _variant(kind: str, args: argparse.Namespace, out: str) -> None:
    """One training way of ``--workers`` (in a spawned process): train, score, write JSON."""
    from dataclasses import replace

    from sklearn.metrics import average_precision_score

    torch.set_num_threads(args.threads)
    train_dir = _world(args.data, args.train, 31)
    eval_dir = _world(args.data, args.score, 33)
    g = build_graph(train_dir / "data", truth_as_of(train_dir / "truth"))
    y = read_labels(train_dir / "truth", g).fraud.astype(float)
    data_rss = _rss_mb("VmRSS")
    cfg = GnnConfig(epochs=args.epochs, threads=args.threads)
    if kind != "full":
        workers = 1 if kind == "minibatch" else args.workers
        cfg = replace(cfg, epochs=args.mb_epochs, batch_size=args.batch_size,
                      fanout=tuple(args.fanout), workers=workers)  # fmt: skip
    t = time.perf_counter()
    workers_rss: list[float] = []
    replica_diff = None
    if kind == "distributed":
        from gnn.distributed import fit_distributed

        run = fit_distributed([g], [y], cfg)
        fitted, workers_rss, replica_diff = run.fitted, run.peak_rss_mb, run.replica_max_diff
    else:
        fitted = fit_gnn([g], [y], cfg)
    train_s = time.perf_counter() - t
    train_peak = _rss_mb()
    ge = build_graph(eval_dir / "data", truth_as_of(eval_dir / "truth"))
    ye = read_labels(eval_dir / "truth", ge).fraud
    pr_auc = float(average_precision_score(ye, predict_gnn(fitted, ge)))
    Path(out).write_text(json.dumps({
        "kind": kind, "train_s": train_s, "pr_auc": pr_auc, "base_rate": float(ye.mean()),
        "data_rss_mb": data_rss, "train_peak_rss_mb": train_peak, "peak_rss_mb": _rss_mb(),
        "workers_peak_rss_mb": workers_rss, "replica_max_diff": replica_diff,
        "epochs": cfg.epochs, "final_loss": fitted.losses[-1],
    }))  # fmt: skip


def _scale(args: argparse.Namespace) -> int:
    import multiprocessing as mp

    args.train = args.train or (3000 if args.quick else 100_000)
    args.score = args.score or (3000 if args.quick else 20_000)
    # Full-graph as `chainlens train` trains it (150 epochs): 30 left it under-trained.
    args.epochs = args.epochs or GnnConfig().epochs
    args.mb_epochs = args.mb_epochs or (8 if args.quick else 3)
    args.batch_size = args.batch_size or (256 if args.quick else 1024)
    t = time.perf_counter()
    _world(args.data, args.train, 31)
    _world(args.data, args.score, 33)
    gen_s = time.perf_counter() - t
    ctx = mp.get_context("spawn")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("full", "minibatch", "distributed"):
            out = f"{tmp}/{kind}.json"
            p = ctx.Process(target=_variant, args=(kind, args, out))
            p.start()
            p.join()
            if p.exitcode != 0:
                print(f"{kind}: the process failed with exit code {p.exitcode}")
                return 1
            results[kind] = json.loads(Path(out).read_text())
    print(f"generate (both worlds, cached): {gen_s:.1f} s")
    print(f"train world {args.train:,} firms (seed 31), held-out world {args.score:,} (seed 33),"
          f" fraud; batch {args.batch_size}, fanout {args.fanout},"
          f" {args.threads} threads per training (the workers share them)")  # fmt: skip
    for kind, r in results.items():
        workers = (f"; {args.workers} workers' peak RSS "
                   + ", ".join(f"{m:,.0f}" for m in r["workers_peak_rss_mb"]) + " MiB"
                   + f", replicas differ by at most {r['replica_max_diff']:.2e}"
                   if r["workers_peak_rss_mb"] else "")  # fmt: skip
        print(f"  {kind:12s} {r['epochs']:3d} epochs {r['train_s']:7.1f} s  PR-AUC "
              f"{r['pr_auc']:.4f} (base {r['base_rate']:.4f})  peak RSS "
              f"{r['train_peak_rss_mb']:,.0f} MiB (graph loaded: {r['data_rss_mb']:,.0f})"
              f"{workers}")  # fmt: skip
    full, dist_ = results["full"], results["distributed"]
    gap = dist_["pr_auc"] - full["pr_auc"]
    print(f"  PR-AUC {args.workers} workers - full-graph: {gap:+.4f}; mini-batch (1 process) - "
          f"full-graph: {results['minibatch']['pr_auc'] - full['pr_auc']:+.4f}")  # fmt: skip
    print(json.dumps({
        "bench": "gnn-workers", "quick": args.quick, "workers": args.workers,
        "train_enterprises": args.train, "eval_enterprises": args.score,
        "batch_size": args.batch_size, "fanout": args.fanout, "threads": args.threads,
        "results": results, "pr_auc_gap": round(gap, 4),
        "ratio": round(dist_["pr_auc"] / full["pr_auc"], 4) if full["pr_auc"] else None,
    }))  # fmt: skip
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--typologies", action="store_true", help="laundering typologies (above)")
    typologies = TypologyConfig()
    ap.add_argument("--train-seeds", type=int, nargs="+", default=list(typologies.train_seeds))
    ap.add_argument("--test-seeds", type=int, nargs="+", default=list(typologies.test_seeds))
    ap.add_argument("--label-share", type=float, default=1.0)
    ap.add_argument("--no-shuffle", action="store_true", help="skip the edge-shuffle control")
    ap.add_argument(
        "--no-ego-ids",
        action="store_true",
        help="typologies: the GNN without ego identifiers (gnn/models/ego.py)",
    )
    ap.add_argument(
        "--compare-ego",
        action="store_true",
        help="typologies: also fit the GNN the other way round as to ego IDs",
    )
    ap.add_argument("--train", type=int, default=None)
    ap.add_argument("--score", type=int, default=None)
    ap.add_argument("--write", type=int, default=0, help="enterprises to write back (0: skip)")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument(
        "--workers",
        type=int,
        default=0,
        help="train full-graph, mini-batch and over this many processes (above)",
    )
    ap.add_argument("--mb-epochs", type=int, default=None, help="--workers: mini-batch epochs")
    ap.add_argument(
        "--batch-size", type=int, default=None, help="--workers: seed firms a step (256, 1024)"
    )
    ap.add_argument(
        "--fanout",
        type=int,
        nargs="+",
        default=[15, 10],
        help="--workers: sampled neighbours per node, per layer",
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "chainlens-bench")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.typologies:
        return _typologies(args)
    if args.workers:
        return _scale(args)
    n_train = args.train or (3000 if args.quick else 100_000)
    n_score = args.score or (5000 if args.quick else 1_000_000)
    epochs = args.epochs or (30 if args.quick else 150)
    repeat = 3 if args.quick else 1
    torch.set_num_threads(args.threads)

    t = time.perf_counter()
    train_dir = _world(args.data, n_train, 31)
    score_dir = _world(args.data, n_score, 32)
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    g = build_graph(train_dir / "data", truth_as_of(train_dir / "truth"))
    features_train_s = time.perf_counter() - t
    y = read_labels(train_dir / "truth", g).fraud.astype(float)

    cfg = GnnConfig(epochs=epochs, threads=args.threads)
    # One training run each (they dominate the time); inference is repeated for a median.
    gnn_s, fitted = _timed(lambda: fit_gnn([g], [y], cfg), 1)
    tree_s, tree = _timed(lambda: TreeModel(num_rounds=300).fit([g], [y]), 1)

    t = time.perf_counter()
    gs = build_graph(score_dir / "data", truth_as_of(score_dir / "truth"))
    features_score_s = time.perf_counter() - t
    gnn_score_s, _ = _timed(lambda: predict_gnn(fitted, gs), repeat)
    tree_score_s, _ = _timed(lambda: tree.predict(gs), repeat)
    prior_s, prior = _timed(lambda: contagion_prior(gs), repeat)
    # The registered path (`gnn.scoring.score_tables`): trees for both tasks, default on top
    # of the prior, explanations with the trees (a GNN's gradient-times-input attributions
    # need a full backward pass, which at a million firms does not fit in this machine's
    # memory). The fraud trees stand in for the default task's: the same size of model, so
    # the same time, without a Monte-Carlo reference for a million firms.
    bundle = Bundle(
        "bench",
        {
            "fraud": TaskModel("fraud", "trees", trees=tree),
            "default": TaskModel("default", "trees", trees=tree, target=TARGETS["default"]),
        },
        {},
    )
    tables_s, (scores, expl) = _timed(lambda: score_tables(gs, bundle), 1)
    assert expl is not None
    write_s = None
    if args.write:
        rows = [
            {
                "id": str(gs.ids[i]),
                "fraud_score": float(scores["fraud"][i]),
                "default_score": float(scores["default"][i]),
                "explanation": expl[i],
            }
            for i in range(min(args.write, gs.n))
        ]
        write_s = _write_back(args.write, rows)

    score_total = features_score_s + tables_s
    print(f"generate (both worlds, cached): {gen_s:.1f} s")
    print(f"train world {n_train} enterprises: features {features_train_s:.1f} s")
    print(f"  GNN  train median {gnn_s:.2f} s ({epochs} epochs)")
    print(f"  tree train median {tree_s:.2f} s  -> GNN/tree {gnn_s / tree_s:.2f}x")
    print(f"score world {n_score} enterprises: features {features_score_s:.1f} s")
    print(
        f"  GNN  inference {gnn_score_s:.2f} s, tree inference {tree_score_s:.2f} s,"
        f" contagion prior {prior_s:.2f} s ({int(prior.reachable.sum()):,} reachable),"
        f" both tasks with explanations {tables_s:.1f} s"
    )
    print(
        f"  scoring with the registered trees (features + 2 tasks + prior + explanations):"
        f" {score_total:.1f} s, {n_score / score_total:,.0f} enterprises/s"
    )
    if write_s is not None:
        print(
            f"  write-back {args.write} enterprises: {write_s:.2f} s"
            f" ({args.write / write_s:,.0f}/s); scoring plus write-back"
            f" {score_total + write_s:.1f} s"
        )
    print(
        json.dumps(
            {
                "bench": "gnn",
                "quick": args.quick,
                "train_enterprises": n_train,
                "score_enterprises": n_score,
                "epochs": epochs,
                "threads": args.threads,
                "gnn_train_s": round(gnn_s, 3),
                "tree_train_s": round(tree_s, 3),
                "features_train_s": round(features_train_s, 3),
                "features_score_s": round(features_score_s, 3),
                "gnn_infer_s": round(gnn_score_s, 3),
                "tree_infer_s": round(tree_score_s, 3),
                "prior_s": round(prior_s, 3),
                "score_tables_s": round(tables_s, 3),
                "score_s": round(score_total, 3),
                "score_per_s": round(n_score / score_total, 1),
                "write_s": round(write_s, 3) if write_s is not None else None,
                "score_and_write_s": (
                    round(score_total + write_s, 3) if write_s is not None else None
                ),
                "ratio": round(gnn_s / tree_s, 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
