"""Training and evaluating on a bank's own cases: `chainlens train --cases`, `chainlens evaluate`.

The graph comes out of Neo4j through the export that scoring uses (``gnn.export``); the labels
are the `Case` nodes with an outcome (loaded from a cases file or recorded by analysts).

- **Tasks.** fraud: a case whose outcome is a fraud typology is positive; default: a case with
  outcome ``default`` is positive. A ``cleared`` case is a negative of both (for fraud a hard
  negative: a false alert). A case with the other task's outcome is left out of a task.
- **Time split.** Cases are ordered by ``decided_on``; those after the cutoff (the last
  ``test_share`` of them) are held out. The latest case of a firm counts within each side.
- **Point in time.** Training cases are cut into ``snapshots`` groups by date, and each group's
  features are computed as of its earliest decision, so no training row sees data from after
  its decision; held-out firms are scored on features as of the cutoff.
- **Unlabelled firms** (no case decided by the cutoff) are negatives of weight
  ``unlabelled_weight`` (0.1 by default: probably innocent, not known to be), in a snapshot as
  of the cutoff; cleared cases weigh ``hard_negative_weight``.
- **Evaluation population:** the firms with a held-out case of the task plus every firm that
  never had a case (presumed negative, so precision is a lower bound); firms whose only cases
  were in training are left out. The budget is what analysts can review: ``budget`` firms, or
  ``budget_share`` of the population.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from neo4j import Driver
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from chainlens.logs import get_logger
from gnn.baselines import TreeModel, rule_score
from gnn.dataset import ENTERPRISE_FEATURES, ChainGraph, build_graph, latest_date
from gnn.errors import DatasetError, ModelNotFound
from gnn.export import export_tables
from gnn.fit import GnnConfig, fit_gnn, logits_gnn, predict_gnn
from gnn.metrics import top_k_mask
from gnn.registry import TaskModel, default_version, load_bundle, save_bundle
from gnn.scoring import predict_task
from graph.model import CaseOutcome, FraudTypology
from graph.queries.cases import labelled_cases

log = get_logger(__name__)

FRAUD_OUTCOMES = frozenset(str(t) for t in FraudTypology)
CLEARED = str(CaseOutcome.CLEARED)
TASK_OUTCOMES: dict[str, frozenset[str]] = {
    "fraud": FRAUD_OUTCOMES,
    "default": frozenset({str(CaseOutcome.DEFAULT)}),
}
# A registered GNN must beat the trees by this much PR-AUC (as in ``gnn.train``).
CHOICE_MARGIN = 0.005


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    enterprise_id: str
    outcome: str
    decided_on: date
    source: str | None = None
    alert_id: str | None = None


def cases_of(rows: Sequence[dict[str, Any]]) -> list[Case]:
    """Cases from ``graph.queries.cases.labelled_cases`` rows."""
    out = []
    for r in rows:
        d = r["decided_on"]
        out.append(Case(
            str(r["id"]), str(r["enterprise_id"]), str(r["outcome"]),
            d if isinstance(d, date) else date.fromisoformat(str(d)[:10]),
            r.get("source"), r.get("alert_id"),
        ))  # fmt: skip
    return sorted(out, key=lambda c: (c.decided_on, c.id))


@dataclass
class CaseConfig:
    test_share: float = 0.3
    snapshots: int = 3
    unlabelled_weight: float = 0.1
    hard_negative_weight: float = 2.0
    budget: int | None = None
    budget_share: float = 0.01
    min_positives: int = 3
    gnn: GnnConfig = field(default_factory=GnnConfig)
    tree_rounds: int = 200
    tasks: tuple[str, ...] = ("fraud", "default")


def time_split(cases: list[Case], test_share: float) -> date:
    """The cutoff: cases decided after it (about ``test_share`` of them) are held out."""
    if not 0 < test_share < 1:
        raise DatasetError(f"test_share must be in (0, 1), got {test_share}")
    days = sorted({c.decided_on for c in cases})
    if len(days) < 2:
        raise DatasetError(
            "every case was decided on one day: a time split needs at least two decision dates"
        )
    ordered = sorted(c.decided_on for c in cases)
    cutoff = ordered[min(len(ordered) - 1, int(len(ordered) * (1 - test_share)))]
    if cutoff >= days[-1]:  # keep at least the last day for testing
        cutoff = days[-2]
    return cutoff


def _latest(cases: list[Case]) -> dict[str, Case]:
    """Each firm's latest case (by date, then id)."""
    out: dict[str, Case] = {}
    for c in sorted(cases, key=lambda c: (c.decided_on, c.id)):
        out[c.enterprise_id] = c
    return out


@dataclass
class TaskData:
    """What one task trains and is evaluated on."""

    task: str
    graphs: list[ChainGraph]
    labels: list[NDArray[np.float64]]
    masks: list[NDArray[np.bool_]]
    weights: list[NDArray[np.float64]]
    test_graph: ChainGraph
    test_y: NDArray[np.bool_]
    test_mask: NDArray[np.bool_]
    test_typology: NDArray[np.object_]
    test_hard: NDArray[np.bool_]
    counts: dict[str, Any]


def task_data(
    task: str,
    cases: list[Case],
    cutoff: date,
    graph_at: Callable[[date], ChainGraph],
    cfg: CaseConfig,
) -> TaskData:
    """Training snapshots and the held-out evaluation of ``task`` (see the module docstring)."""
    positive = TASK_OUTCOMES[task]
    relevant = positive | {CLEARED}
    train = [c for c in cases if c.decided_on <= cutoff]
    test = [c for c in cases if c.decided_on > cutoff]
    train_latest = [c for c in _latest(train).values() if c.outcome in relevant]
    test_latest = {e: c for e, c in _latest(test).items() if c.outcome in relevant}
    train_latest.sort(key=lambda c: (c.decided_on, c.id))
    graphs: list[ChainGraph] = []
    labels: list[NDArray[np.float64]] = []
    masks: list[NDArray[np.bool_]] = []
    weights: list[NDArray[np.float64]] = []
    groups = [g for g in np.array_split(np.arange(len(train_latest)), max(1, cfg.snapshots))
              if g.size]  # fmt: skip
    for group in groups:
        members = [train_latest[i] for i in group]
        g = graph_at(min(c.decided_on for c in members))
        index = g.index()
        y = np.zeros(g.n)
        m = np.zeros(g.n, dtype=bool)
        w = np.ones(g.n)
        for c in members:
            i = index.get(c.enterprise_id)
            if i is None:
                continue
            m[i] = True
            y[i] = 1.0 if c.outcome in positive else 0.0
            w[i] = 1.0 if c.outcome in positive else cfg.hard_negative_weight
        graphs.append(g)
        labels.append(y)
        masks.append(m)
        weights.append(w)
    # Unlabelled firms: no case of any kind decided by the cutoff.
    at_cut = graph_at(cutoff)
    seen = {c.enterprise_id for c in train}
    unl = np.asarray([str(e) not in seen for e in at_cut.ids], dtype=bool)
    graphs.append(at_cut)
    labels.append(np.zeros(at_cut.n))
    masks.append(unl)
    weights.append(np.full(at_cut.n, cfg.unlabelled_weight))
    # Held out: the firms with a held-out case of the task, and firms that never had a case.
    ever = {c.enterprise_id for c in cases}
    index = at_cut.index()
    test_y = np.zeros(at_cut.n, dtype=bool)
    test_mask = np.asarray([str(e) not in ever for e in at_cut.ids], dtype=bool)
    typology = np.full(at_cut.n, "", dtype=object)
    hard = np.zeros(at_cut.n, dtype=bool)
    for e, c in test_latest.items():
        i = index.get(e)
        if i is None:
            continue
        test_mask[i] = True
        if c.outcome in positive:
            test_y[i] = True
            typology[i] = c.outcome
        else:
            hard[i] = True
    train_pos = int(sum(float(y[m].sum()) for y, m in zip(labels, masks, strict=True)))
    counts = {
        "train_positive": train_pos,
        "train_cleared": int(sum(c.outcome == CLEARED for c in train_latest)),
        "train_unlabelled": int(unl.sum()),
        "test_positive": int(test_y.sum()),
        "test_cleared": int(hard.sum()),
        "test_population": int(test_mask.sum()),
        "snapshots": [str(g.as_of) for g in graphs[:-1]],
    }
    return TaskData(task, graphs, labels, masks, weights, at_cut, test_y, test_mask, typology,
                    hard, counts)  # fmt: skip


# ---- figures -------------------------------------------------------------------------------
@dataclass
class CaseMetrics:
    pr_auc: float
    base_rate: float
    roc_auc: float
    budget: int
    precision_at_budget: float
    recall_at_budget: float
    recall_by_typology: dict[str, float]
    hard_negative_fp_rate: float | None
    """Share of held-out cleared cases (false alerts) ranked within the budget."""
    brier: float | None
    positives: int
    population: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def case_metrics(
    score: NDArray[np.floating],
    data: TaskData,
    budget: int,
    *,
    probability: bool = True,
) -> CaseMetrics:
    m = data.test_mask
    s = np.asarray(score, dtype=np.float64)[m]
    y = data.test_y[m]
    typ = data.test_typology[m]
    hard = data.test_hard[m]
    k = max(1, min(budget, int(s.size)))
    top = top_k_mask(s, k / max(s.size, 1))
    both = 0 < y.sum() < y.size
    by_typ = {
        t: float(top[(typ == t) & y].mean()) for t in sorted({str(t) for t in typ[y] if t})
    }
    return CaseMetrics(
        pr_auc=float(average_precision_score(y, s)) if both else float("nan"),
        base_rate=float(y.mean()) if y.size else float("nan"),
        roc_auc=float(roc_auc_score(y, s)) if both else float("nan"),
        budget=int(top.sum()),
        precision_at_budget=float(y[top].mean()) if top.any() else float("nan"),
        recall_at_budget=float(top[y].mean()) if y.any() else float("nan"),
        recall_by_typology=by_typ,
        hard_negative_fp_rate=float(top[hard].mean()) if hard.any() else None,
        brier=float(brier_score_loss(y, np.clip(s, 0, 1))) if probability and both else None,
        positives=int(y.sum()),
        population=int(y.size),
    )


@dataclass
class Row:
    model: str
    metrics: CaseMetrics
    seconds: float | None = None


@dataclass
class CaseReport:
    cutoff: date
    tables: dict[str, list[Row]]
    counts: dict[str, dict[str, Any]]
    chosen: dict[str, str]
    version: str | None
    carried: dict[str, str]
    data_hash: str
    timings: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "cutoff": str(self.cutoff), "version": self.version, "chosen": self.chosen,
            "carried": self.carried, "counts": self.counts, "data_hash": self.data_hash,
            "timings": self.timings,
            "tables": {t: [{"model": r.model, "seconds": r.seconds, **r.metrics.as_dict()}
                           for r in rows] for t, rows in self.tables.items()},
        }  # fmt: skip


def _platt(logits: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[float, float]:
    yb = y > 0.5
    if yb.all() or not yb.any():
        return 1.0, 0.0
    lr = LogisticRegression(C=1e4).fit(logits[:, None], yb.astype(int))
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _budget(cfg: CaseConfig, population: int) -> int:
    if cfg.budget is not None:
        return max(1, cfg.budget)
    return max(1, round(cfg.budget_share * population))


def evaluate_task(
    data: TaskData,
    cfg: CaseConfig,
    *,
    registered: tuple[str, TaskModel] | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> tuple[list[Row], dict[str, Any]]:
    """Fit the GNN, its edge-shuffle control and the baselines on ``data``; rows in order:
    GNN, control, trees, amount-only, degree-only, rules (and the registered model)."""
    budget = _budget(cfg, int(data.test_mask.sum()))
    task = data.task
    rows: list[Row] = []
    fits: dict[str, Any] = {}
    common = {"masks": data.masks, "weights": data.weights, "balance": True}

    progress(f"{task}: GNN")
    t = time.perf_counter()
    gnn = fit_gnn(data.graphs, data.labels, cfg.gnn, **common)  # type: ignore[arg-type]
    lg = np.concatenate([logits_gnn(gnn, g)[m] for g, m in zip(data.graphs, data.masks,
                                                                 strict=True)])  # fmt: skip
    calib = _platt(lg, np.concatenate([y[m] for y, m in zip(data.labels, data.masks,
                                                              strict=True)]))  # fmt: skip
    seconds = time.perf_counter() - t
    fits["gnn"] = (gnn, calib)
    score = predict_gnn(gnn, data.test_graph, calibration=calib)
    rows.append(Row("GNN (hetero edge-SAGE)", case_metrics(score, data, budget), seconds))

    progress(f"{task}: GNN on edge-shuffled graphs")
    shuffled = fit_gnn(data.graphs, data.labels, cfg.gnn, shuffle_edges_seed=1,
                       **common)  # type: ignore[arg-type]  # fmt: skip
    score = predict_gnn(shuffled, data.test_graph, shuffle_edges_seed=2)
    rows.append(Row("control: GNN, edges shuffled",
                    case_metrics(score, data, budget, probability=False)))

    for view, name in (("full", "trees + 1/2-hop aggregates"), ("amount", "control: amount-only"),
                       ("degree", "control: degree-only")):  # fmt: skip
        progress(f"{task}: {name}")
        t = time.perf_counter()
        tree = TreeModel(view=view, num_rounds=cfg.tree_rounds)
        tree.fit_masked(data.graphs, data.labels, data.masks, weights=data.weights)
        seconds = time.perf_counter() - t
        if view == "full":
            fits["trees"] = tree
        rows.append(Row(name, case_metrics(tree.predict(data.test_graph), data, budget),
                        seconds))  # fmt: skip
    rows.append(Row("rules (red flags)", case_metrics(rule_score(data.test_graph, task), data,
                                                      budget, probability=False)))  # fmt: skip
    if registered is not None:
        version, model = registered
        score = predict_task(model, data.test_graph)
        rows.append(Row(f"registered {version} ({model.kind})",
                        case_metrics(score, data, budget)))  # fmt: skip
    return rows, fits


def _fmt(v: float | None, digits: int = 3) -> str:
    return "-" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def print_case_report(report: CaseReport, console: Console) -> None:
    for title, rows in report.tables.items():
        typologies = sorted({t for r in rows for t in r.metrics.recall_by_typology})
        first = rows[0].metrics
        table = Table(title=f"{title}: held-out cases decided after {report.cutoff}; "
                            f"{first.positives} positives in {first.population} firms, "
                            f"budget {first.budget}")  # fmt: skip
        cols = ["model", "PR-AUC", "base rate", "ROC-AUC", "P@budget", "R@budget",
                *(f"recall {t}" for t in typologies), "hard-neg FP", "Brier", "train s"]
        for c in cols:
            table.add_column(c, justify="left" if c == "model" else "right")
        for r in rows:
            m = r.metrics
            table.add_row(
                r.model, _fmt(m.pr_auc), _fmt(m.base_rate), _fmt(m.roc_auc),
                _fmt(m.precision_at_budget), _fmt(m.recall_at_budget),
                *(_fmt(m.recall_by_typology.get(t)) for t in typologies),
                _fmt(m.hard_negative_fp_rate), _fmt(m.brier), _fmt(r.seconds, 1),
            )  # fmt: skip
        console.print(table)
        console.print(f"  cases: {report.counts.get(title, {})}")
    for task, version in report.carried.items():
        console.print(f"{task}: too few cases to train; carried over from {version}")
    if report.version:
        console.print(f"chosen per task: {report.chosen}; registered candidate "
                      f"{report.version} (promote with `chainlens model promote "
                      f"{report.version}`)")  # fmt: skip


def model_card(meta: dict[str, Any]) -> str:
    """A model card in Markdown: data, cases, split, features and the evaluation tables."""
    lines = [
        f"# Model card: {meta['version']}", "",
        f"- created: {meta['created_at']}",
        "- trained on: the bank's cases (`chainlens train --cases` / `--from-graph`)",
        f"- data hash: `{meta['data_hash']}` (graph export and cases)",
        f"- time split: trained on cases decided up to {meta['cutoff']}, evaluated on later ones",
        f"- chosen per task: {meta['chosen']}; carried over: {meta.get('carried') or 'none'}",
        f"- promotion: a candidate until an admin runs `chainlens model promote "
        f"{meta['version']}`", "",
        "## Cases", "",
    ]  # fmt: skip
    for task, counts in meta["case_counts"].items():
        lines.append(f"- {task}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    lines += ["", f"Outcomes of all labelled cases: {meta['outcomes']}", "", "## Metrics", ""]
    for task, rows in meta["metrics"].items():
        lines += [f"### {task}", "", "| model | PR-AUC | base rate | P@budget | hard-neg FP |",
                  "| --- | --- | --- | --- | --- |"]  # fmt: skip
        for name, m in rows.items():
            lines.append(
                f"| {name} | {_fmt(m['pr_auc'])} | {_fmt(m['base_rate'])} | "
                f"{_fmt(m['precision_at_budget'])} | {_fmt(m['hard_negative_fp_rate'])} |"
            )
        lines.append("")
    lines += ["## Features", "", ", ".join(meta["features"]), "",
              "## Configuration", "", f"```json\n{json.dumps(meta['config'], indent=2)}\n```",
              ""]  # fmt: skip
    return "\n".join(lines)


def train_on_cases(
    driver: Driver,
    database: str,
    state_dir: Path,
    config: CaseConfig | None = None,
    *,
    register: bool = True,
    compare_version: str | None = None,
    console: Console | None = None,
    progress: Callable[[str], None] | None = None,
) -> CaseReport:
    """Export the graph, read its labelled cases, fit and evaluate every model per task on the
    time split, print the tables and (``register``) save the chosen models as a candidate
    version with its model card. ``compare_version`` adds a registered version's row."""
    cfg = config or CaseConfig()
    con = console or Console(width=200)
    say = progress or (lambda msg: con.log(msg))
    t0 = time.perf_counter()
    cases = cases_of(labelled_cases(driver, database))
    if not cases:
        raise DatasetError("no labelled cases in the graph: load a cases file or record "
                           "dispositions first")  # fmt: skip
    cutoff = time_split(cases, cfg.test_share)
    registered: dict[str, tuple[str, TaskModel]] = {}
    if compare_version is not None:
        bundle = load_bundle(state_dir, compare_version)
        registered = {t: (bundle.version, m) for t, m in bundle.models.items()}
    (state_dir / "tmp").mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="cases-", dir=state_dir / "tmp"))
    try:
        say("exporting the graph")
        export_tables(driver, database, tmp)
        last = latest_date(tmp)
        cache: dict[date, ChainGraph] = {}

        def graph_at(day: date) -> ChainGraph:
            day = min(day, last)
            if day not in cache:
                cache[day] = build_graph(tmp, day)
            return cache[day]

        say(f"{len(cases)} labelled cases; time split at {cutoff}")
        tables: dict[str, list[Row]] = {}
        counts: dict[str, dict[str, Any]] = {}
        bundle_models: dict[str, TaskModel] = {}
        chosen: dict[str, str] = {}
        carried: dict[str, str] = {}
        source_hash = graph_at(last).source_hash
        for task in cfg.tasks:
            data = task_data(task, cases, cutoff, graph_at, cfg)
            counts[task] = data.counts
            if data.counts["train_positive"] < cfg.min_positives or not data.test_y.any():
                say(f"{task}: {data.counts['train_positive']} training and "
                    f"{data.counts['test_positive']} held-out positives: not trained")  # fmt: skip
                continue
            rows, fits = evaluate_task(data, cfg, registered=registered.get(task), progress=say)
            tables[task] = rows
            choice = "gnn" if rows[0].metrics.pr_auc > rows[2].metrics.pr_auc + CHOICE_MARGIN \
                else "trees"  # fmt: skip
            chosen[task] = choice
            if choice == "gnn":
                gnn, calib = fits["gnn"]
                bundle_models[task] = TaskModel(task, "gnn", gnn=gnn.model,
                                                feature_mean=gnn.feature_mean,
                                                feature_std=gnn.feature_std, calibration=calib,
                                                target="label")  # fmt: skip
            else:
                bundle_models[task] = TaskModel(task, "trees", trees=fits["trees"],
                                                target="label")  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    digest = hashlib.sha256(source_hash.encode())
    for c in cases:
        digest.update(f"|{c.id},{c.enterprise_id},{c.outcome},{c.decided_on}".encode())
    data_hash = digest.hexdigest()[:16]
    version = None
    if register:
        say("registering the candidate version")
        if "fraud" not in bundle_models:
            raise DatasetError("too few fraud cases to train on (see the counts above)")
        base = default_version(state_dir)
        for task in cfg.tasks:
            if task not in bundle_models and base is not None:
                try:
                    other = load_bundle(state_dir, base)
                except ModelNotFound:
                    continue
                if task in other.models:
                    bundle_models[task] = other.models[task]
                    carried[task] = base
        outcomes: dict[str, int] = {}
        for c in cases:
            outcomes[c.outcome] = outcomes.get(c.outcome, 0) + 1
        meta = {
            "data_hash": data_hash, "trained_on": "cases", "requires_promotion": True,
            "features": list(ENTERPRISE_FEATURES), "cutoff": str(cutoff),
            "case_counts": counts, "outcomes": dict(sorted(outcomes.items())),
            "metrics": {t: {r.model: r.metrics.as_dict() for r in rows}
                        for t, rows in tables.items()},
            "chosen": chosen, "carried": carried,
            "config": {"gnn": vars(cfg.gnn), "tree_rounds": cfg.tree_rounds,
                       **{k: v for k, v in vars(cfg).items() if k not in ("gnn", "tree_rounds")}},
        }  # fmt: skip
        version = save_bundle(state_dir, bundle_models, meta, card=model_card)
    report = CaseReport(cutoff, tables, counts, chosen, version, carried, data_hash,
                        {"total_s": time.perf_counter() - t0})  # fmt: skip
    print_case_report(report, con)
    log.info("trained on cases", version=version, cases=len(cases), cutoff=str(cutoff))
    return report


__all__ = [
    "Case", "CaseConfig", "CaseMetrics", "CaseReport", "case_metrics", "cases_of",
    "evaluate_task", "model_card", "task_data", "time_split", "train_on_cases",
]  # fmt: skip
