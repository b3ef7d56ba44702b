"""Cypher for offers of one application to several funders (`finance/offers.py`): the
offers of a request, locked together so that one acceptance wins."""

from __future__ import annotations

from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.model import Label

_APP = Label.APPLICATION.value

# Every offer of a request, each write-locked (the same order for every caller).
LOCK_OFFERS = f"""
MATCH (a:{_APP} {{offer_of: $offer_of}})
WITH a ORDER BY a.id
SET a._v = coalesce(a._v, 0) + 1
RETURN a {{.*}} AS application
"""
OFFERS = f"""
MATCH (a:{_APP} {{offer_of: $offer_of}})
RETURN a {{.*}} AS application ORDER BY a.id
"""


def lock_offers(tx: ManagedTransaction, offer_of: str) -> list[dict[str, Any]]:
    return [dict(r["application"]) for r in tx.run(LOCK_OFFERS, offer_of=offer_of)]


def offers(driver: Driver, database: str, offer_of: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        OFFERS, offer_of=offer_of, database_=database, routing_=RoutingControl.READ
    )
    return [dict(r["application"]) for r in records]
