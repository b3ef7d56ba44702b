"""Cypher for risk cases: a bank's own labels, loaded from the cases file or recorded by analysts.

A `Case` concerns one enterprise (`CONCERNS`) and may be on an alert (`ON_ALERT`). Analysts'
judgements are `Disposition` nodes (`DISPOSES` the case), created and never changed: the
case's own `disposition`, `outcome`, `decided_on` and `note` are those of its latest
disposition, and its history is the list of dispositions in `seq` order. Training reads the
cases that have an outcome (`labelled_cases`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.errors import InvalidArgument, NotFound
from graph.model import Label, Rel
from graph.model import declared as _declared
from graph.values import native

_C, _D, _E, _AL = Label.CASE, Label.DISPOSITION, Label.ENTERPRISE, Label.ALERT

ALERT_ENTERPRISES = f"""
MATCH (al:{_AL} {{id: $alert_id}})
OPTIONAL MATCH (al)-[:{Rel.ABOUT}]->(e:{_E})
RETURN al.id AS alert_id, collect(DISTINCT e.id) AS enterprise_ids
"""

ENTERPRISE_EXISTS = f"MATCH (e:{_E} {{id: $enterprise_id}}) RETURN e.id AS id"

# The case is locked (`_v`) before its dispositions are counted, so that two analysts saving
# at once get seq 1 and 2, never two 1s.
CASE_ENTERPRISE = f"""
MATCH (c:{_C} {{id: $case_id}})
OPTIONAL MATCH (c)-[:{Rel.CONCERNS}]->(e:{_E})
RETURN c.id AS id, e.id AS enterprise_id
"""

APPEND_DISPOSITION = f"""
MATCH (e:{_E} {{id: $enterprise_id}})
MERGE (c:{_C} {{id: $case_id}})
ON CREATE SET c.created_at = $at, c.source = $source, c.enterprise_id = e.id,
              c.alert_id = $alert_id
SET c._v = coalesce(c._v, 0) + 1
MERGE (c)-[:{Rel.CONCERNS}]->(e)
WITH c
OPTIONAL MATCH (d0:{_D})-[:{Rel.DISPOSES}]->(c)
WITH c, count(d0) AS done
CREATE (d:{_D})-[:{Rel.DISPOSES}]->(c)
SET d += $disposition, d.id = c.id + ':' + toString(done + 1), d.seq = done + 1
SET c.disposition = $disposition.disposition, c.outcome = $disposition.outcome,
    c.decided_on = CASE WHEN $disposition.outcome IS NULL THEN null ELSE $on END,
    c.note = $disposition.note, c.recorded_by = $disposition.by, c.recorded_at = $at
WITH c
CALL (c) {{
  MATCH (al:{_AL} {{id: c.alert_id}})
  MERGE (c)-[:{Rel.ON_ALERT}]->(al)
}}
RETURN c.id AS id
"""

CASES = f"""
MATCH (c:{_C})-[:{Rel.CONCERNS}]->(e:{_E})
WHERE ($case_id IS NULL OR c.id = $case_id) AND ($enterprise_id IS NULL OR e.id = $enterprise_id)
OPTIONAL MATCH (d:{_D})-[:{Rel.DISPOSES}]->(c)
WITH c, e, d ORDER BY d.seq
WITH c, e, collect(d) AS ds
RETURN c {{.id, .outcome, .decided_on, .source, .alert_id, .note, .disposition,
          .recorded_by, .recorded_at, .created_at}} AS case, e.id AS enterprise_id,
       [x IN ds | x {{.id, .seq, .disposition, .outcome, .note, .by, .at}}] AS history
ORDER BY c.id
"""

# Every case that carries an outcome (a label), with its enterprise: what training reads.
LABELLED_CASES = f"""
MATCH (c:{_C})-[:{Rel.CONCERNS}]->(e:{_E})
WHERE c.outcome IS NOT NULL AND c.decided_on IS NOT NULL
RETURN c.id AS id, e.id AS enterprise_id, c.outcome AS outcome,
       toString(c.decided_on) AS decided_on, c.source AS source, c.alert_id AS alert_id
ORDER BY id
"""


@dataclass(frozen=True, slots=True)
class DispositionRecord:
    id: str
    seq: int
    disposition: str
    outcome: str | None
    note: str | None
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CaseRecord:
    id: str
    enterprise_id: str
    outcome: str | None
    decided_on: date | None
    source: str | None
    alert_id: str | None
    note: str | None
    disposition: str | None
    recorded_by: str | None
    recorded_at: datetime | None
    history: tuple[DispositionRecord, ...]



def _case(row: dict[str, Any]) -> CaseRecord:
    c = row["case"]
    return CaseRecord(
        id=c["id"], enterprise_id=row["enterprise_id"], outcome=c.get("outcome"),
        decided_on=native(c.get("decided_on")), source=c.get("source"),
        alert_id=c.get("alert_id"), note=c.get("note"), disposition=c.get("disposition"),
        recorded_by=c.get("recorded_by"), recorded_at=native(c.get("recorded_at")),
        history=tuple(
            DispositionRecord(
                id=d["id"], seq=int(d["seq"]), disposition=d["disposition"],
                outcome=d.get("outcome"), note=d.get("note"), by=d["by"], at=native(d["at"]),
            )
            for d in row["history"]
        ),
    )  # fmt: skip


def _one(tx: ManagedTransaction, query: str, **params: Any) -> dict[str, Any] | None:
    record = tx.run(query, params).single()
    return dict(record) if record is not None else None


def append_disposition(
    driver: Driver,
    database: str,
    *,
    case_id: str | None,
    enterprise_id: str | None,
    alert_id: str | None,
    disposition: str,
    outcome: str | None,
    note: str | None,
    by: str,
    at: datetime,
    source: str,
) -> CaseRecord:
    """Append one disposition to a case (created on the first), in one transaction.

    The enterprise comes from ``enterprise_id`` or from the alert (its `ABOUT` enterprise);
    the case id, unless given, is ``alert:<alert id>`` or ``enterprise:<enterprise id>``, so
    that later dispositions on the same alert or enterprise extend the same history.
    """

    def work(tx: ManagedTransaction) -> str:
        firm = enterprise_id
        if alert_id is not None:
            found = _one(tx, ALERT_ENTERPRISES, alert_id=alert_id)
            if found is None:
                raise NotFound(f"no alert with id {alert_id!r}")
            ids = list(found["enterprise_ids"])
            if firm is None:
                if len(ids) != 1:
                    raise InvalidArgument(
                        f"alert {alert_id!r} is about {len(ids)} enterprises; name the one "
                        "the disposition is about (enterpriseId)"
                    )
                firm = ids[0]
            elif firm not in ids:
                raise InvalidArgument(f"alert {alert_id!r} is not about enterprise {firm!r}")
        if firm is None:
            raise InvalidArgument("give an alert, an enterprise, or both")
        if _one(tx, ENTERPRISE_EXISTS, enterprise_id=firm) is None:
            raise NotFound(f"no enterprise with id {firm!r}")
        key = case_id or (f"alert:{alert_id}" if alert_id is not None else f"enterprise:{firm}")
        existing = _one(tx, CASE_ENTERPRISE, case_id=key)
        if existing is not None and existing["enterprise_id"] not in (None, firm):
            raise InvalidArgument(
                f"case {key!r} concerns {existing['enterprise_id']!r}, not {firm!r}"
            )
        props = _declared(_D, {
            "case_id": key, "disposition": disposition, "outcome": outcome, "note": note,
            "by": by, "at": at,
        })  # fmt: skip
        _one(
            tx, APPEND_DISPOSITION, case_id=key, enterprise_id=firm, alert_id=alert_id,
            source=source, at=at, on=at.date(), disposition=props,
        )  # fmt: skip
        return key

    with driver.session(database=database) as session:
        key = session.execute_write(work)
    return read_cases(driver, database, case_id=key)[0]


def read_cases(
    driver: Driver, database: str, *, case_id: str | None = None, enterprise_id: str | None = None
) -> list[CaseRecord]:
    """Cases (all, one, or an enterprise's), each with its dispositions in order."""
    records, _, _ = driver.execute_query(
        CASES, case_id=case_id, enterprise_id=enterprise_id, database_=database,
        routing_=RoutingControl.READ,
    )  # fmt: skip
    return [_case(r.data()) for r in records]


def labelled_cases(driver: Driver, database: str) -> list[dict[str, Any]]:
    """Every case with an outcome: id, enterprise_id, outcome, decided_on (ISO), source,
    alert_id."""
    records, _, _ = driver.execute_query(
        LABELLED_CASES, database_=database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]
