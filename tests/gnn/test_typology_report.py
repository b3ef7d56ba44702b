"""The laundering-typology evaluation (gnn.train.typology_report, typology_metrics)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from gnn.fit import GnnConfig
from gnn.labels import Labels
from gnn.train import (
    TypologyConfig,
    TypologyWorld,
    typology_metrics,
    typology_report,
    typology_world,
)


def _world(
    pattern: list[str], look_alike: list[bool], instance: list[str] | None = None
) -> TypologyWorld:
    n = len(pattern)
    labels = Labels(
        fraud=np.asarray([p != "" for p in pattern]),
        pattern=np.asarray(pattern, dtype=object),
        rings={},
        default=np.zeros(n, dtype=bool),
        alive=np.ones(n, dtype=bool),
        health=np.zeros(n),
        look_alike=np.asarray(look_alike),
        instance=None if instance is None else np.asarray(instance, dtype=object),
    )
    return TypologyWorld(0, None, labels)  # type: ignore[arg-type]


def test_metrics_count_the_budget_the_typologies_and_the_look_alikes() -> None:
    # 200 firms: 4 fan-in members, 2 fan-out members, a ring member (left out), 10 look-alikes.
    pattern = ["fan_in"] * 4 + ["fan_out"] * 2 + ["ring"] + [""] * 193
    look = [False] * 7 + [True] * 10 + [False] * 183
    score = np.linspace(1.0, 0.0, 200)
    # Ranks: the ring member first (ignored), then fan-in 0-2, a look-alike, fan-in 3, the
    # fan-out members last of all.
    score[6] = 2.0
    score[3], score[7] = score[7], score[3]
    score[4], score[5] = -1.0, -2.0
    # Two fan-in instances of two members, one fan-out instance.
    instance = ["TYP-1", "TYP-1", "TYP-2", "TYP-2", "TYP-3", "TYP-3"] + [""] * 194
    m = typology_metrics(score, _world(pattern, look, instance))
    assert m["base_rate"] == pytest.approx(6 / 199)
    assert (m["members_fan_in"], m["instances_fan_in"]) == (4, 2)
    assert (m["members_fan_out"], m["instances_fan_out"]) == (2, 1)
    assert "instances_cycle" not in m and "members_cycle" not in m
    # Budget 6 (the positives): fan-in 0, 1, 2, look-alike 7, fan-in 3, look-alike 8.
    assert m["recall_fan_in"] == 1.0 and m["recall_fan_out"] == 0.0
    assert m["recall_at_budget"] == pytest.approx(4 / 6)
    assert m["hard_negative_fpr_at_budget"] == pytest.approx(2 / 10)
    assert m["ordinary_fpr_at_budget"] == 0.0
    # Top 1% of 199 firms is 2: fan-in members only.
    assert m["hard_negative_fpr_1pct"] == 0.0
    assert 0 < m["pr_auc"] < 1


def test_report_runs_on_small_worlds_and_refuses_shared_seeds(tmp_path: Path) -> None:
    cfg = TypologyConfig(
        train_seeds=(1,),
        test_seeds=(2,),
        enterprises=600,
        test_enterprises=600,
        gnn=GnnConfig(epochs=3, hidden=8),
        tree_rounds=10,
    )
    report = typology_report(tmp_path, cfg)
    assert set(report["summary"]) == {
        "gnn",
        "trees",
        "gnn_and_trees",
        "gnn_edges_shuffled",
        "rules",
    }
    for rows in report["per_seed"].values():
        assert len(rows) == 1 and 0 < rows[0]["base_rate"] < 0.2
        assert 0 <= rows[0]["pr_auc"] <= 1
    members = tmp_path / "typologies-seed2-n600" / "truth" / "typology_members.csv"
    with members.open(encoding="utf-8") as f:
        planted = list(csv.DictReader(f))
    # The counts are the truth file's: its instances, and its members less those that are
    # also trade-fraud members (left out of the population).
    row = report["per_seed"]["gnn"][0]
    held_out = typology_world(tmp_path, 2, 600)
    # The blend is the mean of the two models' probabilities, scored like every model.
    scores = report["scores"]
    blend = (scores["gnn"][0] + scores["trees"][0]) / 2
    np.testing.assert_allclose(scores["gnn_and_trees"][0], blend)
    assert not np.allclose(scores["gnn"][0], scores["trees"][0])
    assert report["per_seed"]["gnn_and_trees"][0] == typology_metrics(blend, held_out)
    left_out = set(np.asarray(held_out.graph.ids)[~held_out.population].tolist())
    for t in {r["typology"] for r in planted}:
        of_t = [r for r in planted if r["typology"] == t]
        assert row[f"instances_{t}"] == len({r["instance_id"] for r in of_t})
        assert row[f"members_{t}"] == len([r for r in of_t if r["enterprise_id"] not in left_out])
    with pytest.raises(ValueError, match="seeds both"):
        typology_report(tmp_path, TypologyConfig(train_seeds=(1,), test_seeds=(1,)))
