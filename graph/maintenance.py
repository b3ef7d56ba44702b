"""Whole-database maintenance: clearing (tests and benchmarks need a fresh database, and
Community edition holds only one) and counting."""

from __future__ import annotations

from neo4j import Driver, RoutingControl

_CLEAR = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 1000 ROWS"
_COUNT_LABELS = """
CALL db.labels() YIELD label
CALL (label) {
  MATCH (n) WHERE label IN labels(n) RETURN count(n) AS count
}
RETURN label, count ORDER BY label
"""
_COUNT_RELS = """
CALL db.relationshipTypes() YIELD relationshipType AS type
CALL (type) {
  MATCH ()-[r]->() WHERE type(r) = type RETURN count(r) AS count
}
RETURN type, count ORDER BY type
"""


def clear_database(driver: Driver, database: str) -> None:
    """Delete every node and relationship in batches (`IN TRANSACTIONS` needs an auto-commit
    transaction, hence a plain session run rather than a managed one)."""
    with driver.session(database=database) as session:
        session.run(_CLEAR).consume()


def count_by_label(driver: Driver, database: str) -> dict[str, int]:
    records, _, _ = driver.execute_query(
        _COUNT_LABELS, database_=database, routing_=RoutingControl.READ
    )
    return {r["label"]: r["count"] for r in records if r["count"]}


def count_by_relationship(driver: Driver, database: str) -> dict[str, int]:
    records, _, _ = driver.execute_query(
        _COUNT_RELS, database_=database, routing_=RoutingControl.READ
    )
    return {r["type"]: r["count"] for r in records if r["count"]}
