"""`chainlens ingest` resolves enterprise records; `chainlens resolve` is incremental; both as a
user runs them, on a generated folder against the suite's Neo4j."""

from __future__ import annotations

from pathlib import Path

import pytest
from neo4j import Driver

from entity_resolution.evaluate import read_truth, score_clusters
from ingest.synthetic.generator import generate
from tests.cli.conftest import run

pytestmark = pytest.mark.slow


def _links(driver: Driver, database: str) -> dict[str, tuple[str, float, str]]:
    rows, _, _ = driver.execute_query(
        "MATCH (s:SourceRecord)-[r:RESOLVES_TO]->(e:Enterprise) "
        "RETURN s.id AS s, e.id AS e, r.score AS score, r.explanation AS why",
        database_=database,
    )
    return {r["s"]: (r["e"], r["score"], r["why"]) for r in rows}


def test_ingest_links_every_record_precisely_and_idempotently(
    db: Driver, database: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    generate(tmp_path, enterprises=300, seed=4711)
    data = tmp_path / "data"
    truth = read_truth(tmp_path / "truth" / "enterprise_record_clusters.csv")
    result = run(cli_env, "ingest", str(data))
    assert result.returncode == 0, result.stderr
    assert "entity resolution:" in result.stderr and "flagged USCCs" in result.stderr
    links = _links(db, database)
    records = {r for r in links if not r.startswith("M-")}
    assert records == set(truth)  # every enterprise record is linked to an enterprise
    predicted = {r: links[r][0] for r in records}
    scores = score_clusters(predicted, truth)
    assert scores.precision >= 0.995, scores
    assert scores.recall >= 0.9, scores
    # Linked to the master enterprise itself, not only clustered together.
    on_master = sum(predicted[r] == e for r, e in truth.items()) / len(truth)
    assert on_master >= 0.97
    assert all(why for _, _, why in links.values())

    again = run(cli_env, "ingest", str(data))
    assert again.returncode == 0, again.stderr
    assert "all resolved and unchanged" in again.stderr
    assert _links(db, database) == links

    # `resolve --all` rewrites every link, to the same entities.
    full = run(cli_env, "resolve", "--all")
    assert full.returncode == 0, full.stderr
    assert {r: v[0] for r, v in _links(db, database).items()} == {r: v[0] for r, v in links.items()}
