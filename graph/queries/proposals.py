"""Cypher for credit-line proposals: a grant or a limit raise above the four-eyes threshold
waits as a `LineProposal` until a second person approves or rejects it."""

from __future__ import annotations

from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.model import DEFAULT_FUNDER, Label, ProposalStatus
from graph.model import declared as _declared

_P = Label.LINE_PROPOSAL

MERGE_PROPOSAL = f"""
MERGE (p:{_P} {{id: $id}})
ON CREATE SET p += $props, p._new = true
WITH p, coalesce(p._new, false) AS created
REMOVE p._new
RETURN p {{.*}} AS proposal, created
"""

# Locks the proposal (a write on it) before deciding, so two checkers cannot both decide.
LOCK_PROPOSAL = f"""
MATCH (p:{_P} {{id: $id}})
SET p._v = coalesce(p._v, 0) + 1
RETURN p {{.*}} AS proposal
"""

DECIDE = f"""
MATCH (p:{_P} {{id: $id, status: '{ProposalStatus.PENDING}'}})
SET p += $props
RETURN p {{.*}} AS proposal
"""

PROPOSALS = f"""
MATCH (p:{_P})
WHERE ($status IS NULL OR p.status = $status)
  AND ($funder IS NULL OR coalesce(p.funder_id, $default) = $funder)
RETURN p {{.*}} AS proposal ORDER BY p.created_at, p.id SKIP $skip LIMIT $limit
"""

COUNT = f"""
MATCH (p:{_P}) WHERE ($status IS NULL OR p.status = $status)
  AND ($funder IS NULL OR coalesce(p.funder_id, $default) = $funder)
RETURN count(p) AS n
"""


def merge_proposal(tx: ManagedTransaction, id: str, props: dict[str, Any]) -> dict[str, Any]:
    rec = tx.run(MERGE_PROPOSAL, id=id, props=_declared(_P, props)).single()
    assert rec is not None  # MERGE always returns its node
    return rec.data()


def lock_proposal(tx: ManagedTransaction, id: str) -> dict[str, Any] | None:
    rec = tx.run(LOCK_PROPOSAL, id=id).single()
    return None if rec is None else dict(rec["proposal"])


def decide(tx: ManagedTransaction, id: str, props: dict[str, Any]) -> dict[str, Any] | None:
    rec = tx.run(DECIDE, id=id, props=_declared(_P, props)).single()
    return None if rec is None else dict(rec["proposal"])


def get_proposal(driver: Driver, database: str, id: str) -> dict[str, Any] | None:
    records, _, _ = driver.execute_query(
        f"MATCH (p:{_P} {{id: $id}}) RETURN p {{.*}} AS proposal", id=id,
        database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    return dict(records[0]["proposal"]) if records else None


def proposals(
    driver: Driver, database: str, status: str | None, skip: int, limit: int,
    funder: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """A page of proposals, oldest first, and how many match in all; of one funder's book
    (a proposal without `funder_id` is the default funder's), or every funder's."""
    records, _, _ = driver.execute_query(
        PROPOSALS, status=status, skip=skip, limit=limit, funder=funder,
        default=DEFAULT_FUNDER, database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    counted, _, _ = driver.execute_query(
        COUNT, status=status, funder=funder, default=DEFAULT_FUNDER, database_=database,
        routing_=RoutingControl.READ,
    )  # fmt: skip
    return [dict(r["proposal"]) for r in records], int(counted[0]["n"])
