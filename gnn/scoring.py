"""Batch scoring: export the graph, score every enterprise, write scores and explanations back.

`score_graph` reads the tables it needs out of Neo4j in pages (``gnn.export``), builds the
point-in-time features exactly as training does, applies the registered model of each task
and writes ``fraud_score``, ``default_score``, ``score_model_version``, ``scored_at`` and
``score_explanation`` (JSON) onto each ``Enterprise`` in ``UNWIND`` batches.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
from neo4j import Driver
from numpy.typing import NDArray

from chainlens.logs import get_logger
from chainlens.settings import get_settings
from gnn.dataset import ChainGraph, build_graph, latest_date
from gnn.explain import explanations, feature_attributions
from gnn.export import export_tables
from gnn.fit import predict_gnn
from gnn.registry import Bundle, TaskModel, load_bundle
from gnn.targets import ContagionPrior, contagion_prior
from graph.queries.risk import write_scores

log = get_logger(__name__)


@dataclass(frozen=True)
class ScoreSummary:
    model_version: str
    scored: int
    as_of: date
    scored_at: datetime
    seconds: dict[str, float]


def predict_task(
    model: TaskModel,
    graph: ChainGraph,
    *,
    prior: ContagionPrior | None = None,
    tree_features: NDArray[np.float32] | None = None,
) -> NDArray[np.float64]:
    """Scores in [0, 1] of one task's model on ``graph``.

    ``prior`` (the graph's contagion prior) and ``tree_features`` (the trees' feature matrix
    of this model's view) are computed here unless the caller shares them between tasks.
    """
    if model.target != "contagion_share":
        prior = None
    elif prior is None:
        prior = contagion_prior(graph)
    offset = prior.offset if prior is not None else None
    if model.kind == "gnn":
        assert model.gnn is not None and model.feature_mean is not None
        assert model.feature_std is not None
        out = predict_gnn(
            (model.gnn, model.feature_mean, model.feature_std),
            graph,
            calibration=model.calibration,
            offset=offset,
        )
    else:
        assert model.trees is not None
        out = model.trees.predict(graph, offset=offset, features=tree_features)
        out = np.clip(out, 0.0, 1.0)
    return prior.compose(out) if prior is not None else out


def score_tables(
    graph: ChainGraph, bundle: Bundle, *, explain: bool = True
) -> tuple[dict[str, NDArray[np.float64]], list[str] | None]:
    """Scores per task and (optionally) one JSON explanation per enterprise.

    What the tasks' models share is computed once: the contagion prior and each tree view's
    features.
    """
    models = bundle.models
    prior = (
        contagion_prior(graph)
        if any(m.target == "contagion_share" for m in models.values())
        else None
    )
    views: dict[str, NDArray[np.float32]] = {}
    for m in models.values():
        if m.kind == "trees" and m.trees is not None and m.trees.view not in views:
            views[m.trees.view] = m.trees.features(graph)
    scores = {
        task: predict_task(
            m,
            graph,
            prior=prior,
            tree_features=views.get(m.trees.view) if m.trees is not None else None,
        )
        for task, m in models.items()
    }
    if not explain:
        return scores, None
    atts = {task: feature_attributions(m, graph) for task, m in models.items()}
    return scores, explanations(graph, scores, atts)


def score_graph(
    driver: Driver,
    database: str,
    model_version: str | None = None,
    *,
    state_dir: Path | None = None,
    as_of: date | None = None,
    page_size: int = 10_000,
    write_batch: int = 5_000,
    explain: bool = True,
    progress: Callable[[str, int], None] | None = None,
) -> ScoreSummary:
    """Score every enterprise in the graph with the registered model (newest by default).

    ``as_of`` defaults to the latest invoice date in the graph. Re-running with the same
    model and data writes the same values again (idempotent), with a new ``scored_at``.
    """
    state = state_dir or get_settings().state_dir
    bundle = load_bundle(state, model_version)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    (state / "tmp").mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="score-", dir=state / "tmp"))
    try:
        export_tables(driver, database, tmp, page_size=page_size, progress=progress)
        seconds["export"] = time.perf_counter() - t
        t = time.perf_counter()
        at = as_of or latest_date(tmp)
        graph = build_graph(tmp, at)
        seconds["features"] = time.perf_counter() - t
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t = time.perf_counter()
    scores, expl = score_tables(graph, bundle, explain=explain)
    seconds["score"] = time.perf_counter() - t
    t = time.perf_counter()
    scored_at = datetime.now(UTC)
    # A task the bundle lacks is written as null (no score), never NaN.
    fraud = scores.get("fraud")
    default = scores.get("default")
    rows = [
        {
            "id": str(graph.ids[i]),
            "fraud_score": float(fraud[i]) if fraud is not None else None,
            "default_score": float(default[i]) if default is not None else None,
            "explanation": expl[i] if expl is not None else None,
        }
        for i in range(graph.n)
    ]
    written = write_scores(
        driver,
        database,
        rows,
        model_version=bundle.version,
        scored_at=scored_at,
        batch_size=write_batch,
    )
    seconds["write"] = time.perf_counter() - t
    log.info("scored", enterprises=written, version=bundle.version, **seconds)
    return ScoreSummary(bundle.version, written, at, scored_at, seconds)
