"""Lineage and decisions in the real Neo4j: write, re-run, reverse, respect decisions."""

from __future__ import annotations

import json

import pytest
from neo4j import Driver

from entity_resolution.errors import InvalidRecord, UnknownRecord
from entity_resolution.resolver import resolve_records
from entity_resolution.store import (
    entity_sources,
    load_decisions,
    record_decision,
    stored_records,
    write_resolution,
)
from tests.entity_resolution.cases import records

pytestmark = pytest.mark.neo4j


def _links(driver: Driver, database: str) -> dict[str, str]:
    rows, _, _ = driver.execute_query(
        "MATCH (s:SourceRecord)-[:RESOLVES_TO]->(e:Enterprise) RETURN s.id AS s, e.id AS e",
        database_=database,
    )
    return {r["s"]: r["e"] for r in rows}


def test_write_keeps_every_record_with_an_explained_link(db: Driver, database: str) -> None:
    res = resolve_records(records())
    counts = write_resolution(db, database, res, run_id="run-1")
    assert counts["records"] == len(records()) and counts["entities"] == len(res.entities)
    links = _links(db, database)
    assert links == res.entity_of()
    entity = res.entity_of()["t1"]
    sources = entity_sources(db, database, [entity, "no-such-entity"])
    assert sources["no-such-entity"] == []
    sources = sources[entity]
    assert {s["record_id"] for s in sources} == {"t1", "t2", "t3", "t4"}
    t3 = next(s for s in sources if s["record_id"] == "t3")
    assert t3["explanation"]["reason"] == "matched" and "phone_same" in t3["explanation"]["agreed"]
    assert 0 < t3["score"] <= 1 and t3["run_id"] == "run-1"
    assert json.loads(t3["raw"])["name"] == "NINGBO TUOBO INTL TRDG CO LTD"
    rows, _, _ = db.execute_query(
        "MATCH (b:Enterprise)-[:BRANCH_OF]->(p:Enterprise) RETURN b.id AS b, p.id AS p",
        database_=database,
    )
    e = res.entity_of()
    assert {(r["b"], r["p"]) for r in rows} == {(e["b1"], e["t1"]), (e["k1"], e["k0"])}
    # Writing the same resolution again changes nothing (idempotent).
    write_resolution(db, database, res, run_id="run-1")
    rows, _, _ = db.execute_query(
        "MATCH (s:SourceRecord) OPTIONAL MATCH (s)-[r:RESOLVES_TO]->() "
        "RETURN count(DISTINCT s) AS s, count(r) AS r, "
        "COUNT { MATCH (e:Enterprise) } AS e",
        database_=database,
    )
    assert rows[0]["s"] == rows[0]["r"] == len(records())
    assert rows[0]["e"] == len(res.entities)


def test_a_branch_no_longer_found_loses_its_edge(db: Driver, database: str) -> None:
    first = resolve_records(records())
    write_resolution(db, database, first, run_id="run-1")
    e = first.entity_of()
    without_b1 = [r for r in records() if r.record_id != "b1"]
    counts = write_resolution(db, database, resolve_records(without_b1), run_id="run-2")
    assert counts["branches_deleted"] == 1
    rows, _, _ = db.execute_query(
        "MATCH (b:Enterprise)-[r:BRANCH_OF]->(p:Enterprise) RETURN b.id AS b, p.id AS p, "
        "r.run_id AS run",
        database_=database,
    )
    assert [(r["b"], r["p"], r["run"]) for r in rows] == [(e["k1"], e["k0"], "run-2")]


def test_a_not_same_decision_reverses_a_merge_on_the_next_run(db: Driver, database: str) -> None:
    write_resolution(db, database, resolve_records(records()))
    before = _links(db, database)
    assert before["t3"] == before["t1"]
    decision = record_decision(db, database, "t3", "t1", same=False, by="officer:li")
    assert decision.at is not None
    decisions = load_decisions(db, database)
    assert [(d.record_a, d.record_b, d.same, d.by) for d in decisions] == [
        ("t3", "t1", False, "officer:li")
    ]
    rerun = resolve_records(stored_records(db, database), decisions=decisions)
    write_resolution(db, database, rerun)
    after = _links(db, database)
    assert after["t3"] != after["t1"]
    # t2 matched both: it goes with one of them; no other record moved.
    assert after["t2"] in (after["t1"], after["t3"])
    moved = {k for k in after if k not in ("t2", "t3") and after[k] != before[k]}
    assert moved == set() or moved == {"t1", "t4"}  # t1's group may get a new id
    assert after["t4"] == after["t1"]
    # Changing one's mind replaces the decision: the pair is merged again.
    record_decision(db, database, "t1", "t3", same=True, by="admin:wang")
    decisions = load_decisions(db, database)
    assert len(decisions) == 1 and decisions[0].same
    write_resolution(db, database, resolve_records(stored_records(db, database),
                                                    decisions=decisions))
    assert _links(db, database)["t3"] == _links(db, database)["t1"]


def test_entities_left_without_records_are_removed(db: Driver, database: str) -> None:
    write_resolution(db, database, resolve_records(records()))
    record_decision(db, database, "w1", "t1", same=True, by="admin")
    old_w = _links(db, database)["w1"]
    write_resolution(db, database, resolve_records(stored_records(db, database),
                                                    decisions=load_decisions(db, database)))
    links = _links(db, database)
    assert links["w1"] == links["w2"] == links["t1"]
    rows, _, _ = db.execute_query("MATCH (e:Enterprise {id: $id}) RETURN count(e) AS n",
                                  id=old_w, database_=database)
    assert old_w != links["w1"] and rows[0]["n"] == 0


def test_decisions_name_known_records(db: Driver, database: str) -> None:
    write_resolution(db, database, resolve_records(records()[:2]))
    with pytest.raises(UnknownRecord):
        record_decision(db, database, "t1", "nope", same=True, by="admin")
    with pytest.raises(InvalidRecord):
        record_decision(db, database, "t1", "t1", same=True, by="admin")
    with pytest.raises(InvalidRecord):
        record_decision(db, database, "t1", "t2", same=True, by=" ")
