"""Resolution of the graph's own nodes: duplicate persons linked SAME_AS, runs replace edges."""

from __future__ import annotations

import hashlib

import pytest
from neo4j import Driver

from entity_resolution.pipeline import resolve_graph, resolve_person_nodes

pytestmark = pytest.mark.neo4j

H1 = hashlib.sha256(b"330203198001011234").hexdigest()
H2 = hashlib.sha256(b"110101198502022345").hexdigest()

PEOPLE = """
CREATE (e1:Enterprise {id: 'E1', name: '宁波拓搏国际贸易有限公司'}),
       (e2:Enterprise {id: 'E2', name: '海南拓搏国际贸易有限公司'}),
       (p1:Person {id: 'P1', name: '王思萍', id_hash: $h1}),
       (p2:Person {id: 'P2', name: '王思萍', id_hash: $h1}),
       (p3:Person {id: 'P3', name: 'Wang Siping'}),
       (p4:Person {id: 'P4', name: '王思萍'}),
       (p5:Person {id: 'P5', name: '王伟', id_hash: $h2}),
       (p1)-[:ROLE {kind: 'legal_representative'}]->(e1),
       (p3)-[:HOLDS {pct: 10.0}]->(e1),
       (p4)-[:HOLDS {pct: 5.0}]->(e2),
       (p5)-[:ROLE {kind: 'director'}]->(e1)
"""


def _same_as(driver: Driver, database: str) -> dict[str, tuple[str, str]]:
    rows, _, _ = driver.execute_query(
        "MATCH (d:Person)-[r:SAME_AS]->(c:Person) RETURN d.id AS d, c.id AS c, r.reason AS why",
        database_=database,
    )
    return {r["d"]: (r["c"], r["why"]) for r in rows}


def test_duplicate_persons_link_to_one_and_runs_replace_edges(db: Driver, database: str) -> None:
    db.execute_query(PEOPLE, h1=H1, h2=H2, database_=database)
    summary = resolve_person_nodes(db, database)
    assert summary.persons == 5 and summary.duplicates == 2 and summary.removed == 0
    # P2 by its hash; P3 (romanised, no hash) by name and the enterprise it shares with P1;
    # P4 shares no enterprise, P5 is another person.
    assert _same_as(db, database) == {
        "P2": ("P1", "same id_hash"),
        "P3": ("P1", "same name and linked enterprise"),
    }
    assert resolve_person_nodes(db, database).removed == 0  # idempotent
    assert len(_same_as(db, database)) == 2
    db.execute_query("MATCH (:Person {id: 'P3'})-[h:HOLDS]->() DELETE h", database_=database)
    again = resolve_graph(db, database)  # runs the person matcher too
    assert again.persons is not None and again.persons.removed == 1
    assert set(_same_as(db, database)) == {"P2"}
    assert "1 duplicate persons" in again.line()
