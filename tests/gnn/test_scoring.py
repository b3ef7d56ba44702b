"""Export from the real Neo4j, batch scoring and write-back on a small loaded world."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from neo4j import Driver

from gnn.baselines import TreeModel
from gnn.dataset import build_graph
from gnn.export import export_tables
from gnn.fit import GnnConfig, fit_gnn
from gnn.labels import read_labels, truth_as_of
from gnn.registry import TaskModel, save_bundle
from gnn.scoring import score_graph
from graph.queries.risk import read_scores
from ingest.loader import ingest_folder


@pytest.fixture
def loaded(db: Driver, database: str, worlds: dict[int, Path]) -> Path:
    """World 11 loaded into the test database."""
    ingest_folder(db, database, worlds[11] / "data")
    return worlds[11]


@pytest.mark.neo4j
@pytest.mark.slow
def test_export_matches_the_files_and_scoring_writes_back(
    loaded: Path, db: Driver, database: str, tmp_path: Path
) -> None:
    """One load of the world serves both checks: export parity, then scoring."""
    counts = export_tables(db, database, tmp_path / "export", page_size=97)
    as_of = truth_as_of(loaded / "truth")
    from_files = build_graph(loaded / "data", as_of)
    from_db = build_graph(tmp_path / "export", as_of)
    assert counts["enterprises"] == from_files.n == 600
    assert list(from_db.ids) == list(from_files.ids)
    np.testing.assert_allclose(from_db.x, from_files.x, rtol=1e-5, atol=1e-5)
    for name, rel in from_files.relations.items():
        other = from_db.relations[name]
        if name in ("person", "address", "phone"):
            assert other.size == rel.size  # ids of these nodes may be numbered differently
            continue
        np.testing.assert_array_equal(other.src, rel.src)
        np.testing.assert_array_equal(other.dst, rel.dst)
        np.testing.assert_allclose(other.attr, rel.attr, rtol=1e-5, atol=1e-5)
    _score_graph_writes_scores_and_explanations(loaded, db, database, tmp_path)


def _score_graph_writes_scores_and_explanations(
    loaded: Path, db: Driver, database: str, tmp_path: Path
) -> None:
    g = build_graph(loaded / "data", truth_as_of(loaded / "truth"))
    labels = read_labels(loaded / "truth", g)
    fitted = fit_gnn([g], [labels.fraud.astype(float)], GnnConfig(epochs=10, hidden=16))
    trees = TreeModel(num_rounds=20).fit([g], [labels.default.astype(float)])
    version = save_bundle(
        tmp_path,
        {
            "fraud": TaskModel(
                "fraud",
                "gnn",
                gnn=fitted.model,
                feature_mean=fitted.feature_mean,
                feature_std=fitted.feature_std,
            ),
            "default": TaskModel("default", "trees", trees=trees),
        },
        {"data_hash": g.source_hash},
    )
    summary = score_graph(db, database, state_dir=tmp_path, page_size=250, write_batch=128)
    assert summary.model_version == version and summary.scored == 600
    assert summary.as_of == truth_as_of(loaded / "truth")  # the latest invoice date
    stored = read_scores(db, database, [str(i) for i in g.ids])
    assert len(stored) == 600
    for row in stored:
        assert 0.0 <= row["fraud_score"] <= 1.0 and 0.0 <= row["default_score"] <= 1.0
        assert row["model_version"] == version and row["scored_at"] is not None
    # Explanations name real neighbours with their relation and tier.
    ids = {str(i) for i in g.ids}
    top = max(stored, key=lambda r: r["fraud_score"])
    expl = json.loads(top["explanation"])
    assert set(expl) == {"tier", "neighbours", "path", "contagion", "features"}
    assert all(n["id"] in ids and n["relation"] for n in expl["neighbours"])
    sources = [c for r in stored for c in json.loads(r["explanation"])["contagion"]]
    assert all(c["id"] in ids and c["exposure_over_equity"] >= 1.0 for c in sources)
    assert set(expl["features"]) == {"fraud", "default"}
    # Scoring again with the same model writes the same scores.
    before = {r["id"]: r["fraud_score"] for r in stored}
    score_graph(db, database, version, state_dir=tmp_path, explain=False)
    after = {r["id"]: r["fraud_score"] for r in read_scores(db, database, list(before))}
    assert after == pytest.approx(before)
