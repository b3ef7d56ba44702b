"""The audit log: who asked what, and which decision the API made.

Requests add events to an in-process buffer; a background thread writes them to Neo4j as
`(:AuditEvent)` nodes in batches (every ``audit_flush_s`` seconds, or sooner when the buffer
holds ``audit_batch`` events), so auditing adds no database round trip to a request. Events
still buffered when the process dies are lost; the structured request log has them too.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from neo4j import Driver

from chainlens.logs import get_logger
from graph.queries.audit import AuditEvent, write_audit_events

log = get_logger(__name__)

MAX_VARIABLES_CHARS = 2_000
# Variables with these names are recorded as "***".
SECRET_NAMES = ("password", "secret", "token")


def redact(variables: Mapping[str, Any] | None) -> str | None:
    """The variables as short JSON, with secret-looking values hidden."""
    if not variables:
        return None
    clean = {
        k: "***" if any(s in k.lower() for s in SECRET_NAMES) else v for k, v in variables.items()
    }
    text = json.dumps(clean, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= MAX_VARIABLES_CHARS else text[:MAX_VARIABLES_CHARS] + "…"


def new_event(
    *,
    username: str,
    roles: list[str],
    kind: str,
    decision: str,
    operation: str | None = None,
    fields: list[str] | None = None,
    detail: str | None = None,
    correlation_id: str | None = None,
    duration_ms: float | None = None,
    variables: Mapping[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent(
        id=uuid.uuid4().hex,
        at=datetime.now(UTC),
        username=username,
        roles=tuple(sorted(roles)),
        kind=kind,
        operation=operation,
        fields=tuple(fields or ()),
        decision=decision,
        detail=detail,
        correlation_id=correlation_id,
        duration_ms=round(duration_ms, 3) if duration_ms is not None else None,
        variables=redact(variables),
    )


class AuditLog:
    """Buffers events and writes them in batches from one background thread."""

    def __init__(
        self, driver: Driver, database: str, flush_s: float = 2.0, batch: int = 500
    ) -> None:
        self.driver = driver
        self.database = database
        self.flush_s = flush_s
        self.batch = batch
        self._buffer: list[AuditEvent] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, event: AuditEvent) -> None:
        log.info(
            "audit",
            username=event.username,
            kind=event.kind,
            operation=event.operation,
            fields=list(event.fields),
            decision=event.decision,
            detail=event.detail,
            duration_ms=event.duration_ms,
        )
        with self._lock:
            self._buffer.append(event)
            full = len(self._buffer) >= self.batch
        if full:
            self._wake.set()

    def flush(self) -> int:
        """Write what is buffered now; returns how many events were written."""
        with self._write_lock:
            with self._lock:
                events, self._buffer = self._buffer, []
            if not events:
                return 0
            try:
                for start in range(0, len(events), self.batch):
                    write_audit_events(
                        self.driver, self.database, events[start : start + self.batch]
                    )
            except Exception as e:
                # Keep them for the next try rather than lose the trail.
                log.warning("audit.flush_failed", error=repr(e), pending=len(events))
                with self._lock:
                    self._buffer[:0] = events
                return 0
            return len(events)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="audit-flush", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_s)
            self._wake.clear()
            self.flush()
