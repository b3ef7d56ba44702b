"""Small hand-built graphs for the analytics tests.

`build` runs a few Cypher statements against the cleared test database (the `db` fixture);
each test writes the smallest graph whose answer can be worked out by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from neo4j import Driver

Build = Callable[..., None]


@pytest.fixture
def build(db: Driver, database: str) -> Build:
    def run(cypher: str, **params: Any) -> None:
        for statement in (s.strip() for s in cypher.split(";")):
            if statement:
                db.execute_query(statement, parameters_=params, database_=database)

    return run


def firms(*ids: str) -> str:
    """Cypher creating enterprises `ids` (name = id)."""
    return "\n".join(f"MERGE (:Enterprise {{id: '{i}', name: 'Firm {i}'}})" for i in ids)


def supplies(seller: str, buyer: str, amount: int, invoices: int = 12) -> str:
    return (
        f"MATCH (s:Enterprise {{id: '{seller}'}}), (b:Enterprise {{id: '{buyer}'}}) "
        f"MERGE (s)-[:SUPPLIES {{amount_12m: {amount}, invoices_12m: {invoices}, "
        f"first_on: date('2024-01-05'), last_on: date('2025-06-20')}}]->(b);"
    )


def holds(holder: str, held: str, pct: float, person: bool = False) -> str:
    label = "Person" if person else "Enterprise"
    return (
        f"MERGE (h:{label} {{id: '{holder}'}}) ON CREATE SET h.name = 'Holder {holder}' "
        f"MERGE (e:Enterprise {{id: '{held}'}}) ON CREATE SET e.name = 'Firm {held}' "
        f"MERGE (h)-[:HOLDS {{pct: {pct}}}]->(e);"
    )


def invoice(inv_id: str, seller: str, buyer: str, amount: int, day: str) -> str:
    """An invoice seller -> buyer (and the SUPPLIES link it implies)."""
    return (
        f"MATCH (s:Enterprise {{id: '{seller}'}}), (b:Enterprise {{id: '{buyer}'}}) "
        f"CREATE (i:Invoice {{id: '{inv_id}', amount: {amount}, tax: 0, "
        f"issued_on: date('{day}'), status: 'issued'}}) "
        f"CREATE (i)-[:SELLER]->(s), (i)-[:BUYER]->(b) MERGE (s)-[:SUPPLIES]->(b);"
    )


def guarantees(g_id: str, guarantor: str, beneficiary: str, amount: int) -> str:
    return (
        f"MERGE (g:Enterprise {{id: '{guarantor}'}}) MERGE (b:Enterprise {{id: '{beneficiary}'}}) "
        f"CREATE (g)-[:GUARANTEES {{id: '{g_id}', amount: {amount}}}]->(b);"
    )
