"""Whole-database maintenance: clearing (tests and benchmarks need a fresh database, and
Community edition holds only one) and counting."""

from __future__ import annotations

from neo4j import Driver, RoutingControl

# Relationships first: deleting a hub node with its relationships in one go is one large
# transaction however small the batches, and it exhausts a small server's memory pool.
_CLEAR_RELATIONSHIPS = "MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS"
_CLEAR_NODES = "MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 10000 ROWS"
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
        session.run(_CLEAR_RELATIONSHIPS).consume()
        session.run(_CLEAR_NODES).consume()


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
