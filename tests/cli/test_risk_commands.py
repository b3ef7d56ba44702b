"""`chainlens train` and `chainlens score`, run as a user would: a model is trained on
generated chains, registered in the state folder and used to score the loaded graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from neo4j import Driver

from ingest.loader import ingest_folder
from ingest.synthetic import generate
from tests.cli.conftest import run


@pytest.mark.slow
def test_train_then_score_writes_scores_back(
    db: Driver, database: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    generate(tmp_path / "chain", enterprises=300, seed=5)
    ingest_folder(db, database, tmp_path / "chain" / "data")
    env = {**cli_env, "CHAINLENS_STATE_DIR": str(tmp_path / "state")}

    trained = run(
        env,
        "train",
        "--no-report",
        "--train-seeds",
        "11",
        "--test-seeds",
        "21",
        "--train-enterprises",
        "300",
        "--test-enterprises",
        "300",
        "--epochs",
        "3",
        timeout=900,
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "registered model" in trained.stderr
    assert list((tmp_path / "state").rglob("*.json")), "nothing registered"

    scored = run(env, "score", timeout=600)
    assert scored.returncode == 0, scored.stderr[-3000:]
    assert "scored 300 enterprises" in scored.stderr
    records, _, _ = db.execute_query(
        """MATCH (e:Enterprise) RETURN count(e) AS n, count(e.fraud_score) AS fraud,
           count(e.default_score) AS dflt, min(e.fraud_score) AS lo, max(e.fraud_score) AS hi""",
        database_=database,
    )
    r = records[0]
    assert r["n"] == r["fraud"] == r["dflt"] == 300
    assert 0.0 <= r["lo"] <= r["hi"] <= 1.0

    bad = run(env, "train", "--train-seeds", "x,y")
    assert bad.returncode != 0 and "comma-separated integers" in bad.stderr + bad.stdout
