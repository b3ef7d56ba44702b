"""Cypher for entity resolution: lineage, entity links, branches and human match decisions.

Every source record is a `SourceRecord` linked to exactly one entity by
`(:SourceRecord)-[:RESOLVES_TO {score, explanation, run_id, at}]->(:Enterprise)`; writing a
link replaces the record's previous one, so a later run (or a "not same" decision) reverses
a merge. Human decisions are `(:Decision {kind: 'entity_match', same, by, at})` nodes with an
`ABOUT` edge to each of the two records; their id is derived from the pair, so a new decision
about the same pair replaces the old one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.model import Label, Rel

_S = Label.SOURCE_RECORD.value
_E = Label.ENTERPRISE.value
_D = Label.DECISION.value
ER_CREATOR = "entity_resolution"
DECISION_KIND = "entity_match"

WRITE_SOURCE_RECORDS = f"""
UNWIND $rows AS row
MERGE (s:{_S} {{id: row.id}})
SET s.source = row.source, s.raw = row.raw, s.name = row.name,
    s.uscc_valid = row.uscc_valid, s.problems = row.problems
"""

WRITE_ENTITIES = f"""
UNWIND $rows AS row
MERGE (e:{_E} {{id: row.id}})
ON CREATE SET e.name = row.name, e.name_en = row.name_en, e.uscc = row.uscc,
              e.uscc_valid = row.uscc_valid, e.created_by = '{ER_CREATOR}'
SET e.aliases = row.aliases, e.is_branch = row.is_branch
"""

# Replace each record's link; returns the entities it pointed at before, so that entities
# made by an earlier run and now left without records can be removed.
WRITE_LINKS = f"""
UNWIND $rows AS row
MATCH (s:{_S} {{id: row.record_id}})
MATCH (e:{_E} {{id: row.entity_id}})
CALL (s, e) {{
  OPTIONAL MATCH (s)-[old:{Rel.RESOLVES_TO.value}]->(prev:{_E})
  WHERE prev <> e
  DELETE old
  RETURN collect(prev.id) AS previous
}}
MERGE (s)-[r:{Rel.RESOLVES_TO.value}]->(e)
SET r.score = row.score, r.explanation = row.explanation, r.run_id = $run_id, r.at = $at
RETURN previous
"""

DELETE_ORPHAN_ENTITIES = f"""
UNWIND $ids AS id
MATCH (e:{_E} {{id: id, created_by: '{ER_CREATOR}'}})
WHERE NOT (e)--()
DELETE e
RETURN count(*) AS deleted
"""

WRITE_BRANCHES = f"""
UNWIND $rows AS row
MATCH (b:{_E} {{id: row.branch}})
MATCH (p:{_E} {{id: row.parent}})
MERGE (b)-[r:{Rel.BRANCH_OF.value}]->(p)
SET r.run_id = $run_id
"""

# BRANCH_OF edges made by an earlier run (they carry its run id) that this run did not find
# again: resolution runs cover every record, so an edge it did not write is no longer true.
# Edges without a run id were not made by entity resolution and stay.
DELETE_STALE_BRANCHES = f"""
MATCH (:{_E})-[r:{Rel.BRANCH_OF.value}]->(:{_E})
WHERE r.run_id IS NOT NULL AND r.run_id <> $run_id
DELETE r
RETURN count(*) AS deleted
"""

RECORDS_EXIST = f"""
UNWIND $ids AS id
OPTIONAL MATCH (s:{_S} {{id: id}})
RETURN id, s IS NOT NULL AS found
"""

WRITE_DECISION = f"""
MATCH (a:{_S} {{id: $record_a}})
MATCH (b:{_S} {{id: $record_b}})
MERGE (d:{_D} {{id: $id}})
SET d.kind = '{DECISION_KIND}', d.same = $same, d.by = $by, d.at = $at,
    d.record_a = $record_a, d.record_b = $record_b
MERGE (d)-[:{Rel.ABOUT.value}]->(a)
MERGE (d)-[:{Rel.ABOUT.value}]->(b)
RETURN d.id AS id
"""

READ_DECISIONS = f"""
MATCH (d:{_D} {{kind: '{DECISION_KIND}'}})
RETURN d.record_a AS record_a, d.record_b AS record_b, d.same AS same, d.by AS by,
       d.at AS at
ORDER BY d.at
"""

READ_ENTITY_SOURCES = f"""
UNWIND $entity_ids AS entity_id
MATCH (s:{_S})-[r:{Rel.RESOLVES_TO.value}]->(e:{_E} {{id: entity_id}})
RETURN entity_id, s.id AS record_id, s.source AS source, s.name AS name, s.raw AS raw,
       s.uscc_valid AS uscc_valid, r.score AS score, r.explanation AS explanation,
       r.run_id AS run_id, r.at AS at
ORDER BY entity_id, record_id
"""

READ_SOURCE_RECORDS_PAGE = f"""
MATCH (s:{_S})
WHERE s.id > $after AND s.raw IS NOT NULL
WITH s ORDER BY s.id LIMIT $limit
OPTIONAL MATCH (s)-[:{Rel.RESOLVES_TO.value}]->(e:{_E})
RETURN s.id AS record_id, s.raw AS raw, e.id AS entity_id
"""

# Known enterprises (not made by entity resolution) as master records: name, codes, region and
# their contact texts, so that source records can meet them on phone and address too.
READ_MASTER_ENTERPRISES = f"""
MATCH (e:{_E})
WHERE coalesce(e.created_by, '') <> '{ER_CREATOR}' AND e.name IS NOT NULL
OPTIONAL MATCH (e)-[:{Rel.LOCATED_AT.value}]->(a:{Label.ADDRESS.value})
OPTIONAL MATCH (e)-[:{Rel.HAS_PHONE.value}]->(p:{Label.PHONE.value})
WITH e, head(collect(a.text)) AS address, head(collect(p.number)) AS phone
RETURN e.id AS id, e.name AS name, e.name_en AS name_en, e.uscc AS uscc,
       e.legal_form AS legal_form, e.region_code AS region_code, address, phone
ORDER BY e.id
"""

# Every source record's current fields, the snapshot it was last resolved from (`raw`) and
# its link, so that a run can tell unresolved and changed records from settled ones.
READ_SOURCE_RECORD_STATE_PAGE = f"""
MATCH (s:{_S})
WHERE s.id > $after
WITH s ORDER BY s.id LIMIT $limit
OPTIONAL MATCH (s)-[r:{Rel.RESOLVES_TO.value}]->(e:{_E})
WITH s, head(collect({{entity: e.id, at: r.at, explained: r.explanation IS NOT NULL}})) AS link
RETURN s.id AS record_id, s.source AS source, s.name AS name, s.name_en AS name_en,
       s.uscc AS uscc, s.legacy_org_code AS legacy_org_code,
       s.registration_no AS registration_no, s.legal_form AS legal_form,
       s.region_code AS region_code, s.address AS address, s.phone AS phone,
       s.legal_rep AS legal_rep, s.country AS country, s.city AS city, s.aliases AS aliases,
       s.identifiers AS identifiers, s.raw AS raw, link.entity AS entity_id, link.at AS at,
       coalesce(link.explained, false) AS explained
"""

READ_BRANCH_OF = f"""
UNWIND $entity_ids AS entity_id
MATCH (e:{_E} {{id: entity_id}})
RETURN entity_id,
       COLLECT {{ MATCH (e)-[:{Rel.BRANCH_OF.value}]->(p:{_E}) RETURN DISTINCT p.id }} AS parents,
       COLLECT {{ MATCH (b:{_E})-[:{Rel.BRANCH_OF.value}]->(e) RETURN DISTINCT b.id }} AS branches
"""

_P = Label.PERSON.value

# Persons with the enterprises they hold, serve or guarantee: the person matcher's input.
READ_PERSONS = f"""
MATCH (p:{_P})
WHERE p.name IS NOT NULL
OPTIONAL MATCH (p)-[:{Rel.HOLDS.value}|{Rel.ROLE.value}|{Rel.GUARANTEES.value}]->(e:{_E})
RETURN p.id AS id, p.name AS name, p.id_hash AS id_hash, toString(p.birth_date) AS birth_date,
       p.nationality AS nationality, p.address AS address, p.phone AS phone, p.email AS email,
       collect(DISTINCT e.id) AS enterprises
ORDER BY p.id
"""

# Replace every SAME_AS edge: drop the ones this run no longer finds, merge the others.
DELETE_STALE_SAME_AS = f"""
MATCH (d:{_P})-[r:{Rel.SAME_AS.value}]->(c:{_P})
WHERE NOT [d.id, c.id] IN $pairs
DELETE r
RETURN count(*) AS deleted
"""

WRITE_SAME_AS = f"""
UNWIND $rows AS row
MATCH (d:{_P} {{id: row.duplicate}})
MATCH (c:{_P} {{id: row.canonical}})
MERGE (d)-[r:{Rel.SAME_AS.value}]->(c)
SET r.reason = row.reason, r.explanation = row.explanation, r.run_id = $run_id, r.at = $at
"""


def _batches(rows: Sequence[dict[str, Any]], size: int) -> list[Sequence[dict[str, Any]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def write_resolution_rows(
    driver: Driver,
    database: str,
    *,
    records: Sequence[dict[str, Any]],
    entities: Sequence[dict[str, Any]],
    links: Sequence[dict[str, Any]],
    branches: Sequence[dict[str, Any]],
    run_id: str,
    at: datetime,
    batch_size: int = 5000,
) -> dict[str, int]:
    """Write one resolution in `UNWIND` batches of managed transactions; returns counts."""

    def run(tx: ManagedTransaction, /, query: str, **params: Any) -> list[Any]:
        return list(tx.run(query, **params))

    with driver.session(database=database) as session:
        for batch in _batches(records, batch_size):
            session.execute_write(run, WRITE_SOURCE_RECORDS, rows=batch)
        for batch in _batches(entities, batch_size):
            session.execute_write(run, WRITE_ENTITIES, rows=batch)
        previous: set[str] = set()
        for batch in _batches(links, batch_size):
            result = session.execute_write(run, WRITE_LINKS, rows=batch, run_id=run_id, at=at)
            for rec in result:
                previous.update(rec["previous"])
        deleted = 0
        if previous:
            result = session.execute_write(run, DELETE_ORPHAN_ENTITIES, ids=sorted(previous))
            deleted = sum(rec["deleted"] for rec in result)
        for batch in _batches(branches, batch_size):
            session.execute_write(run, WRITE_BRANCHES, rows=batch, run_id=run_id)
        result = session.execute_write(run, DELETE_STALE_BRANCHES, run_id=run_id)
        branches_deleted = sum(rec["deleted"] for rec in result)
    return {
        "records": len(records),
        "entities": len(entities),
        "links": len(links),
        "branches": len(branches),
        "orphans_deleted": deleted,
        "branches_deleted": branches_deleted,
    }


def missing_records(driver: Driver, database: str, ids: Sequence[str]) -> list[str]:
    records, _, _ = driver.execute_query(
        RECORDS_EXIST, ids=list(ids), database_=database, routing_=RoutingControl.READ
    )
    return [r["id"] for r in records if not r["found"]]


def write_decision(
    driver: Driver,
    database: str,
    *,
    decision_id: str,
    record_a: str,
    record_b: str,
    same: bool,
    by: str,
    at: datetime,
) -> str:
    def work(tx: ManagedTransaction) -> str:
        rec = tx.run(WRITE_DECISION, id=decision_id, record_a=record_a, record_b=record_b,
                     same=same, by=by, at=at).single()
        return "" if rec is None else str(rec["id"])

    with driver.session(database=database) as session:
        return session.execute_write(work)


def read_decisions(driver: Driver, database: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        READ_DECISIONS, database_=database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


def read_entity_sources(
    driver: Driver, database: str, entity_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """The source records of each entity (ordered by record id), in one round trip."""
    records, _, _ = driver.execute_query(
        READ_ENTITY_SOURCES, entity_ids=entity_ids, database_=database,
        routing_=RoutingControl.READ,
    )  # fmt: skip
    out: dict[str, list[dict[str, Any]]] = {i: [] for i in entity_ids}
    for r in records:
        row = r.data()
        out[row.pop("entity_id")].append(row)
    return out


def read_source_records_page(
    driver: Driver, database: str, after: str, limit: int
) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        READ_SOURCE_RECORDS_PAGE, after=after, limit=limit, database_=database,
        routing_=RoutingControl.READ,
    )
    return [r.data() for r in records]


def read_master_enterprises(driver: Driver, database: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        READ_MASTER_ENTERPRISES, database_=database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


def read_source_record_state_page(
    driver: Driver, database: str, after: str, limit: int
) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        READ_SOURCE_RECORD_STATE_PAGE, after=after, limit=limit, database_=database,
        routing_=RoutingControl.READ,
    )
    return [r.data() for r in records]


def read_branch_of(
    driver: Driver, database: str, entity_ids: list[str]
) -> dict[str, tuple[list[str], list[str]]]:
    """(parents, branches) of each entity along BRANCH_OF, in one round trip."""
    records, _, _ = driver.execute_query(
        READ_BRANCH_OF, entity_ids=entity_ids, database_=database, routing_=RoutingControl.READ
    )
    out: dict[str, tuple[list[str], list[str]]] = {i: ([], []) for i in entity_ids}
    for r in records:
        out[r["entity_id"]] = (sorted(r["parents"]), sorted(r["branches"]))
    return out


def read_persons(driver: Driver, database: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        READ_PERSONS, database_=database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


def write_same_as(
    driver: Driver, database: str, rows: Sequence[dict[str, Any]], *, run_id: str, at: datetime
) -> int:
    """Make the SAME_AS edges exactly `rows` (duplicate -> canonical); returns edges removed."""

    def work(tx: ManagedTransaction) -> int:
        pairs = [[r["duplicate"], r["canonical"]] for r in rows]
        rec = tx.run(DELETE_STALE_SAME_AS, pairs=pairs).single()
        for batch in _batches(rows, 5000):
            tx.run(WRITE_SAME_AS, rows=batch, run_id=run_id, at=at).consume()
        return 0 if rec is None else int(rec["deleted"])

    with driver.session(database=database) as session:
        return session.execute_write(work)


# Candidates for one outside record (the onboarding lookup): the enterprise holding its USCC
# and the best full-text hits on names and English names, with the fields `match` compares.
READ_MATCH_CANDIDATES = f"""
CALL () {{
  MATCH (e:{_E}) WHERE $uscc <> '' AND e.uscc = $uscc
  RETURN e, 1.0e9 AS hit
  UNION
  CALL db.index.fulltext.queryNodes('enterprise_names', $query) YIELD node, score
  RETURN node AS e, score AS hit LIMIT $limit
}}
WITH e, max(hit) AS hit
ORDER BY hit DESC, e.id
LIMIT $limit
OPTIONAL MATCH (e)-[:{Rel.LOCATED_AT.value}]->(a:{Label.ADDRESS.value})
OPTIONAL MATCH (e)-[:{Rel.HAS_PHONE.value}]->(p:{Label.PHONE.value})
WITH e, hit, head(collect(a.text)) AS address, head(collect(p.number)) AS phone
RETURN e.id AS id, e.name AS name, e.name_en AS name_en, e.uscc AS uscc,
       e.legal_form AS legal_form, e.region_code AS region_code, address, phone
ORDER BY hit DESC, id
"""
# Lucene reads these as syntax; a name is searched for its words, never parsed.
_LUCENE_SYNTAX = re.compile(r'[+\-!(){}\[\]^"~*?:\\/&|,.;\'<>=@#$%]')
_LUCENE_WORDS = frozenset({"AND", "OR", "NOT", "TO"})


def lucene_words(*texts: str) -> str:
    """The words of ``texts`` as a full-text query of plain terms (any of them may match)."""
    words = _LUCENE_SYNTAX.sub(" ", " ".join(texts)).split()
    return " ".join(w.lower() if w in _LUCENE_WORDS else w for w in words)


def read_match_candidates(
    driver: Driver, database: str, query: str, uscc: str, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` enterprises an outside record may be: the holder of ``uscc`` first,
    then the best full-text hits of ``query`` (see `lucene_words`)."""
    records, _, _ = driver.execute_query(
        READ_MATCH_CANDIDATES, query=query, uscc=uscc, limit=limit,
        database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    return [r.data() for r in records]
