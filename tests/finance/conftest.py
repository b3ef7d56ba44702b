"""Small hand-built graphs for finance tests (written through plain Cypher in a fixture,
since the ingest loader belongs to another package)."""

from __future__ import annotations

from typing import Any

from neo4j import Driver


def build(driver: Driver, database: str, cypher: str, **params: Any) -> None:
    """Run one fixture-building statement."""
    driver.execute_query(cypher, database_=database, **params)


CHAIN = """
// core C buys from tier-1 T1, which buys from tier-2 T2, which buys from tier-3 T3.
CREATE (c:Enterprise {id: 'C', name: 'Core Motors', is_core: true, status: 'active'})
CREATE (t1:Enterprise {id: 'T1', name: 'Tier One Parts', status: 'active', default_score: 0.1})
CREATE (t2:Enterprise {id: 'T2', name: 'Tier Two Castings', status: 'active'})
CREATE (t3:Enterprise {id: 'T3', name: 'Tier Three Ore', status: 'active'})
CREATE (t1)-[:SUPPLIES {amount_12m: 500000000, first_on: date('2024-01-01')}]->(c)
CREATE (t2)-[:SUPPLIES {amount_12m: 200000000, first_on: date('2024-06-01')}]->(t1)
CREATE (t3)-[:SUPPLIES {amount_12m: 80000000, first_on: date('2025-01-01')}]->(t2)
"""
