"""The audit log's Cypher: batches written once, pruned by age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from neo4j import Driver

from graph.errors import InvalidArgument
from graph.maintenance import count_by_label
from graph.queries.audit import (
    AuditEvent,
    prune_audit_events,
    read_audit_events,
    write_audit_events,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _event(k: int, at: datetime) -> AuditEvent:
    return AuditEvent(
        id=f"ev-{k}", at=at, username="carol", roles=("analyst",), kind="graphql",
        operation="Card", fields=("enterprise",), decision="allowed", detail=None,
        correlation_id=f"c-{k}", duration_ms=3.5, variables=None,
    )  # fmt: skip


def test_prune_deletes_only_events_before_the_cut_off_and_is_idempotent(
    db: Driver, database: str
) -> None:
    events = [_event(k, NOW - timedelta(days=k)) for k in range(30)]
    assert write_audit_events(db, database, events) == 30
    write_audit_events(db, database, events)  # a retried batch writes nothing twice
    assert count_by_label(db, database) == {"AuditEvent": 30}

    cut_off = NOW - timedelta(days=10)  # days 11..29 are older; day 10 is exactly at it
    assert prune_audit_events(db, database, cut_off) == 19
    assert prune_audit_events(db, database, cut_off) == 0
    kept = read_audit_events(db, database, limit=100)
    assert sorted(e.id for e in kept) == sorted(f"ev-{k}" for k in range(11))
    assert min(e.at for e in kept) == cut_off


def test_prune_needs_a_timezone_aware_cut_off(db: Driver, database: str) -> None:
    write_audit_events(db, database, [_event(1, NOW - timedelta(days=400))])
    with pytest.raises(InvalidArgument, match="timezone-aware"):
        prune_audit_events(db, database, datetime(2026, 1, 1))  # naive: the point
    assert count_by_label(db, database) == {"AuditEvent": 1}
