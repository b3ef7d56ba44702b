"""Cypher for the API's audit log: `(:AuditEvent)` nodes, one per request decision.

Events are written in `UNWIND $rows` batches and MERGEd on their id, so a retried batch
writes nothing twice. They are read newest first with keyset pagination on (at, id), and
pruned by age (`prune_audit_events`, the retention job) in batches of their own transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.errors import InvalidArgument
from graph.model import Label

_AE = Label.AUDIT_EVENT.value
MAX_PAGE = 500

WRITE_EVENTS = f"""
UNWIND $rows AS row
MERGE (a:{_AE} {{id: row.id}})
ON CREATE SET a.at = row.at, a.username = row.username, a.roles = row.roles,
              a.kind = row.kind, a.operation = row.operation, a.fields = row.fields,
              a.decision = row.decision, a.detail = row.detail,
              a.correlation_id = row.correlation_id, a.duration_ms = row.duration_ms,
              a.variables = row.variables
"""

READ_EVENTS = f"""
MATCH (a:{_AE})
WHERE ($username IS NULL OR a.username = $username)
  AND ($decision IS NULL OR a.decision = $decision)
  AND ($kind IS NULL OR a.kind = $kind)
  AND ($since IS NULL OR a.at >= $since)
  AND ($before_at IS NULL OR a.at < $before_at OR (a.at = $before_at AND a.id < $before_id))
RETURN a {{.*}} AS event
ORDER BY a.at DESC, a.id DESC
LIMIT $limit
"""

# Batches of their own transactions: a retention run over millions of events must not hold
# one transaction's worth of deletions in the heap. Needs an implicit (auto-commit) run.
PRUNE_EVENTS = f"""
MATCH (a:{_AE}) WHERE a.at < $before
CALL (a) {{ DELETE a }} IN TRANSACTIONS OF 10000 ROWS
"""


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One decision of the API about one request: who asked what and what was answered."""

    id: str
    at: datetime
    username: str
    roles: tuple[str, ...]
    kind: str  # graphql, login
    operation: str | None
    fields: tuple[str, ...]
    decision: str  # allowed, denied, rejected, rate_limited, error, failed
    detail: str | None
    correlation_id: str | None
    duration_ms: float | None
    variables: str | None

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "username": self.username,
            "roles": list(self.roles),
            "kind": self.kind,
            "operation": self.operation,
            "fields": list(self.fields),
            "decision": self.decision,
            "detail": self.detail,
            "correlation_id": self.correlation_id,
            "duration_ms": self.duration_ms,
            "variables": self.variables,
        }


def _write(tx: ManagedTransaction, rows: list[dict[str, Any]]) -> None:
    tx.run(WRITE_EVENTS, rows=rows).consume()


def write_audit_events(driver: Driver, database: str, events: Sequence[AuditEvent]) -> int:
    """Store a batch of events in one managed transaction (idempotent by event id)."""
    if not events:
        return 0
    with driver.session(database=database) as session:
        session.execute_write(_write, [e.row() for e in events])
    return len(events)


def prune_audit_events(driver: Driver, database: str, before: datetime) -> int:
    """Delete the events older than ``before`` (a retention policy's cut-off); returns how
    many were deleted. Running it again deletes nothing more."""
    if before.tzinfo is None:
        raise InvalidArgument("before must be timezone-aware")
    with driver.session(database=database) as session:
        summary = session.run(PRUNE_EVENTS, before=before).consume()
    return summary.counters.nodes_deleted


def read_audit_events(
    driver: Driver,
    database: str,
    *,
    username: str | None = None,
    decision: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    before: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> list[AuditEvent]:
    """Events newest first, filtered; ``before`` is the (at, id) of the last event seen."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidArgument(f"limit must be between 1 and {MAX_PAGE}")
    records, _, _ = driver.execute_query(
        READ_EVENTS,
        username=username,
        decision=decision,
        kind=kind,
        since=since,
        before_at=before[0] if before else None,
        before_id=before[1] if before else None,
        limit=limit,
        database_=database,
        routing_=RoutingControl.READ,
    )
    return [_to_event(r["event"]) for r in records]


def _to_event(row: dict[str, Any]) -> AuditEvent:
    at = row["at"]
    return AuditEvent(
        id=row["id"],
        at=at.to_native() if hasattr(at, "to_native") else at,
        username=row.get("username") or "",
        roles=tuple(row.get("roles") or ()),
        kind=row.get("kind") or "",
        operation=row.get("operation"),
        fields=tuple(row.get("fields") or ()),
        decision=row.get("decision") or "",
        detail=row.get("detail"),
        correlation_id=row.get("correlation_id"),
        duration_ms=row.get("duration_ms"),
        variables=row.get("variables"),
    )
