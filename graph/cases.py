"""Analysts' dispositions: how a judgement on an alert or an enterprise becomes a labelled case.

- ``confirmed``: the case's outcome is the given typology (a ``FraudTypology`` value, ``fraud``
  when none is named) or ``default``;
- ``false_positive``: the outcome is ``cleared`` (a hard negative for the fraud model);
- ``under_review``: no outcome; the case stops being a label until it is decided again.

Every disposition is kept (who, when, what, note); the case shows the latest.
"""

from __future__ import annotations

from datetime import UTC, datetime

from neo4j import Driver

from graph.errors import InvalidArgument
from graph.model import CASE_OUTCOMES, CaseOutcome, CaseSource, DispositionKind, FraudTypology
from graph.queries.cases import CaseRecord, append_disposition, read_cases

MAX_NOTE = 2000

__all__ = ["CaseRecord", "outcome_of", "read_cases", "record_disposition"]


def outcome_of(disposition: DispositionKind, typology: str | None) -> str | None:
    """The case outcome a disposition sets (None: not a label)."""
    if disposition is DispositionKind.UNDER_REVIEW:
        if typology is not None:
            raise InvalidArgument("a case under review has no outcome yet; give no typology")
        return None
    if disposition is DispositionKind.FALSE_POSITIVE:
        if typology is not None:
            raise InvalidArgument("a false positive is cleared; give no typology")
        return str(CaseOutcome.CLEARED)
    outcome = typology or str(FraudTypology.FRAUD)
    if outcome not in CASE_OUTCOMES or outcome == CaseOutcome.CLEARED:
        allowed = ", ".join(o for o in CASE_OUTCOMES if o != CaseOutcome.CLEARED)
        raise InvalidArgument(f"unknown typology {outcome!r}; one of {allowed}")
    return outcome


def record_disposition(
    driver: Driver,
    database: str,
    *,
    disposition: DispositionKind,
    by: str,
    enterprise_id: str | None = None,
    alert_id: str | None = None,
    case_id: str | None = None,
    typology: str | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> CaseRecord:
    """Append an analyst's disposition to its case; the next training reads the outcome."""
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidArgument(f"the note is longer than {MAX_NOTE} characters")
    outcome = outcome_of(disposition, typology)
    return append_disposition(
        driver, database, case_id=case_id, enterprise_id=enterprise_id, alert_id=alert_id,
        disposition=str(disposition), outcome=outcome, note=note, by=by,
        at=at or datetime.now(UTC), source=str(CaseSource.ANALYST),
    )  # fmt: skip
