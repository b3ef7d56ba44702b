"""The audit log: who asked what, and which decision the API made.

Requests add events to an in-process buffer; a background thread writes them to Neo4j as
`(:AuditEvent)` nodes in batches (every ``audit_flush_s`` seconds, or sooner when the buffer
holds ``audit_batch`` events), so auditing adds no database round trip to a request. Events
still buffered when the process dies are lost; the structured request log has them too.

Nothing a client sends can silence the trail (docs/api.md, "Security"):

- every string of an event is normalised before it is buffered (characters UTF-8 cannot
  encode, such as a lone surrogate, become ``\\udXXX`` escapes) and bounded in length; the
  variables are bounded in depth, items and characters, and secret-looking keys are hidden at
  every depth;
- a batch that Neo4j refuses because of its data is split until the offending event is
  alone; that event is written once more with every string ASCII-escaped, and if that fails
  too it goes to a dead-letter file (one JSON line per event) while the rest are stored;
- a batch that fails because the database is unreachable stays buffered for the next try, up
  to ``MAX_PENDING`` events (older ones then go to the dead-letter file, not to nowhere);
- `AuditLog.health()` says whether writes are failing; `/health` and `/metrics` report it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from neo4j import Driver
from neo4j.exceptions import CypherTypeError

from chainlens.logs import get_logger
from graph.queries.audit import AuditEvent, write_audit_events

log = get_logger(__name__)

MAX_VARIABLES_CHARS = 2_000
MAX_TEXT_CHARS = 500  # username, operation, detail, correlation id, each field name
MAX_VALUE_CHARS = 200  # one string inside the variables
MAX_ITEMS = 50  # items of one list or keys of one object inside the variables
MAX_DEPTH = 8  # nesting of the variables kept; deeper values become "…"
MAX_FIELDS = 50
MAX_PENDING = 100_000  # buffered events while the database is unreachable
# Variables whose name contains one of these are recorded as "***", at any depth.
SECRET_NAMES = ("password", "secret", "token", "authorization", "apikey", "api_key")

# Errors that say "this data cannot be written" rather than "the database is not there"
# (a string the driver cannot encode is a UnicodeEncodeError, a ValueError).
_DATA_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    OverflowError,
    CypherTypeError,
)


def clean_text(value: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``value`` with what UTF-8 cannot encode escaped (``\\ud800``), cut to ``limit``."""
    if len(value) > limit:
        value = value[:limit] + "…"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(s in lowered for s in SECRET_NAMES)


def _clean_value(value: Any, depth: int) -> Any:
    """A JSON-ready copy of ``value``: bounded, normalised, secrets hidden at every depth."""
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else clean_text(str(value), 40)
    if isinstance(value, str):
        return clean_text(value, MAX_VALUE_CHARS)
    if depth >= MAX_DEPTH:
        return "…"
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for i, (k, v) in enumerate(value.items()):
            if i >= MAX_ITEMS:
                out["…"] = f"{len(value) - MAX_ITEMS} more"
                break
            key = clean_text(str(k), MAX_VALUE_CHARS)
            out[key] = "***" if _is_secret(key) else _clean_value(v, depth + 1)
        return out
    if isinstance(value, list | tuple):
        items = [_clean_value(v, depth + 1) for v in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            items.append(f"… {len(value) - MAX_ITEMS} more")
        return items
    return clean_text(str(value), MAX_VALUE_CHARS)


def redact(variables: Mapping[str, Any] | None) -> str | None:
    """The variables as short JSON: secret-looking values hidden at every depth, strings
    normalised and bounded; at most ``MAX_VARIABLES_CHARS`` characters."""
    if not variables:
        return None
    clean = _clean_value(variables, 0)
    text = json.dumps(clean, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= MAX_VARIABLES_CHARS else text[:MAX_VARIABLES_CHARS] + "…"


def _opt(value: str | None) -> str | None:
    return None if value is None else clean_text(str(value))


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
    """An event whose every string is safe to store (see the module's docstring)."""
    return AuditEvent(
        id=uuid.uuid4().hex,
        at=datetime.now(UTC),
        username=clean_text(str(username), 200),
        roles=tuple(sorted(clean_text(str(r), 50) for r in roles)),
        kind=clean_text(kind, 50),
        operation=_opt(operation),
        fields=tuple(clean_text(str(f), 200) for f in (fields or ())[:MAX_FIELDS]),
        decision=clean_text(decision, 50),
        detail=_opt(detail),
        correlation_id=None if correlation_id is None else clean_text(correlation_id, 200),
        duration_ms=round(duration_ms, 3) if duration_ms is not None else None,
        variables=redact(variables if isinstance(variables, Mapping) else None),
    )


def _ascii(value: Any) -> Any:
    """Every string of ``value`` as ASCII with escapes: storable whatever it held."""
    if isinstance(value, str):
        return value.encode("ascii", "backslashreplace").decode("ascii")
    if isinstance(value, tuple):
        return tuple(_ascii(v) for v in value)
    return value


def escaped(event: AuditEvent) -> AuditEvent:
    """``event`` with every string ASCII-escaped (the second try for a refused event)."""
    return replace(
        event,
        username=_ascii(event.username),
        roles=_ascii(event.roles),
        kind=_ascii(event.kind),
        operation=_ascii(event.operation),
        fields=_ascii(event.fields),
        decision=_ascii(event.decision),
        detail=_ascii(event.detail),
        correlation_id=_ascii(event.correlation_id),
        variables=_ascii(event.variables),
    )


@dataclass(frozen=True, slots=True)
class AuditHealth:
    """Whether the trail is being written: ``ok`` is False while the last write failed."""

    ok: bool
    pending: int
    written: int
    failures: int
    dead_letters: int
    last_error: str | None
    last_success_at: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "failing",
            "pending": self.pending,
            "written": self.written,
            "failures": self.failures,
            "dead_letters": self.dead_letters,
            "last_error": self.last_error,
        }


class AuditLog:
    """Buffers events and writes them in batches from one background thread."""

    def __init__(
        self,
        driver: Driver,
        database: str,
        flush_s: float = 2.0,
        batch: int = 500,
        dead_letter: Path | None = None,
    ) -> None:
        self.driver = driver
        self.database = database
        self.flush_s = flush_s
        self.batch = batch
        self.dead_letter = dead_letter
        self._buffer: list[AuditEvent] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False
        self._written = 0
        self._failures = 0
        self._dead_letters = 0
        self._last_error: str | None = None
        self._last_success: float | None = None

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
        overflow: list[AuditEvent] = []
        with self._lock:
            self._buffer.append(event)
            if len(self._buffer) > MAX_PENDING:
                overflow = self._buffer[: len(self._buffer) - MAX_PENDING]
                del self._buffer[: len(overflow)]
            full = len(self._buffer) >= self.batch
        if overflow:
            self._to_dead_letter(overflow, "buffer full: the database has been unreachable")
        if full:
            self._wake.set()

    def health(self) -> AuditHealth:
        with self._lock:
            pending = len(self._buffer)
        return AuditHealth(
            ok=not self._failing,
            pending=pending,
            written=self._written,
            failures=self._failures,
            dead_letters=self._dead_letters,
            last_error=self._last_error,
            last_success_at=self._last_success,
        )

    def flush(self) -> int:
        """Write what is buffered now; returns how many events were stored."""
        with self._write_lock:
            with self._lock:
                events, self._buffer = self._buffer, []
            if not events:
                return 0
            stored = 0
            for start in range(0, len(events), self.batch):
                chunk = events[start : start + self.batch]
                try:
                    stored += self._write(chunk)
                except Exception as e:
                    # The database is not there: keep the rest for the next try rather than
                    # lose the trail.
                    self._failed(e)
                    log.warning("audit.flush_failed", error=repr(e), pending=len(events) - start)
                    with self._lock:
                        self._buffer[:0] = events[start:]
                    return stored
            self._failing = False
            self._last_success = time.time()
            self._written += stored
            return stored

    def _write(self, events: Sequence[AuditEvent]) -> int:
        """Store ``events``; a batch refused for its data is split until the bad event is
        alone, which is then stored escaped or dead-lettered. Raises when the database is
        unreachable (nothing of ``events`` then counts as handled)."""
        try:
            return write_audit_events(self.driver, self.database, events)
        except _DATA_ERRORS as e:
            if len(events) > 1:
                middle = len(events) // 2
                return self._write(events[:middle]) + self._write(events[middle:])
            self._failed(e)
            (event,) = events
            log.error("audit.event_refused", event_id=event.id, error=repr(e))
            try:
                return write_audit_events(self.driver, self.database, [escaped(event)])
            except _DATA_ERRORS as again:
                self._to_dead_letter([event], repr(again))
                return 0

    def _failed(self, error: BaseException) -> None:
        self._failing = True
        self._failures += 1
        self._last_error = clean_text(repr(error), 300)

    def _to_dead_letter(self, events: Sequence[AuditEvent], reason: str) -> None:
        """Keep events the graph would not take in a JSON-lines file (ASCII, so any string
        fits); without a file they remain in the log lines only."""
        self._dead_letters += len(events)
        log.error(
            "audit.dead_letter", events=len(events), reason=reason, file=str(self.dead_letter)
        )
        if self.dead_letter is None:
            return
        lines = []
        for event in events:
            row = event.row()
            row["at"] = event.at.isoformat()
            row["dead_letter_reason"] = reason
            lines.append(json.dumps(row, ensure_ascii=True, default=str) + "\n")
        try:
            self.dead_letter.parent.mkdir(parents=True, exist_ok=True)
            with self.dead_letter.open("a", encoding="ascii") as f:
                f.writelines(lines)
        except OSError as e:
            log.error("audit.dead_letter_failed", error=repr(e))

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
            try:
                self.flush()
            except Exception as e:  # never let the writer thread die
                self._failed(e)
                log.error("audit.writer_error", error=repr(e))
