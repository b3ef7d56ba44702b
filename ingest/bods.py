"""Import of ownership statements in the Beneficial Ownership Data Standard, version 0.4.

Public registers publish BODS as a JSON array (or JSON Lines) of statements, each with a
`recordType` of `entity`, `person` or `relationship`, a `recordId` and `recordDetails`.
Mapping into the graph:

- an entity becomes an `Enterprise`: the existing one whose `uscc` equals an identifier of
  scheme `CN-SAIC`/`CN-USCC`, else a new `bods:<recordId>`; anonymous entities are not nodes;
- a person becomes a `Person` `bods:<recordId>` (anonymous and unknown persons are not);
- a relationship with direct `shareholding` interests becomes
  `(holder)-[:HOLDS {pct, since, source: 'bods'}]->(:Enterprise)`. `pct` is the `exact`
  share, else the middle of `minimum`/`maximum`. Interests stated as `indirect` (or
  `unknown`) are summaries of chains the graph already holds link by link: importing them as
  holdings would count the same stake twice, so they are skipped and reported;
- a later statement about the same record replaces the earlier one; a `closed` relationship
  (or one whose interests have all ended) removes the holding it created.

Everything is written in one managed transaction of `UNWIND $rows` batches, idempotently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.queries import bods as q
from ingest.errors import FileRefused, IngestError

USCC_SCHEMES = frozenset({"CN-SAIC", "CN-USCC"})
SUPPORTED_VERSIONS = ("0.4",)
_ANONYMOUS_ENTITIES = frozenset({"anonymousEntity", "unknownEntity"})
_ANONYMOUS_PERSONS = frozenset({"anonymousPerson", "unknownPerson"})


@dataclass(frozen=True, slots=True)
class Skipped:
    record_id: str
    reason: str


@dataclass(slots=True)
class BodsSummary:
    enterprises: int = 0
    matched_by_uscc: int = 0
    persons: int = 0
    holdings: int = 0
    closed: int = 0
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(slots=True)
class _Party:
    id: str
    is_person: bool


def read_statements(path: Path) -> list[dict[str, Any]]:
    """Statements from a BODS file: a JSON array, or JSON Lines (one statement per line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise FileRefused(path.name, f"cannot be read: {e}") from e
    stripped = text.lstrip()
    try:
        if stripped.startswith("["):
            data = json.loads(stripped)
        else:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as e:
        raise FileRefused(path.name, f"is not JSON: {e}", line=e.lineno) from e
    if not isinstance(data, list) or not all(isinstance(s, dict) for s in data):
        raise FileRefused(path.name, "must hold a list of BODS statements")
    return data


def _latest_per_record(statements: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for s in sorted(statements, key=lambda s: str(s.get("statementDate") or "")):
        version = str((s.get("publicationDetails") or {}).get("bodsVersion") or "0.4")
        if version not in SUPPORTED_VERSIONS:
            raise IngestError(f"statement {s.get('statementId')!r} is BODS {version}; need 0.4")
        record_id = s.get("recordId")
        if not isinstance(record_id, str) or s.get("recordType") not in (
            "entity", "person", "relationship",
        ):  # fmt: skip
            raise IngestError(f"statement {s.get('statementId')!r} lacks recordId or recordType")
        latest[record_id] = s
    return latest


def _share(interest: dict[str, Any]) -> float | None:
    share = interest.get("share") or {}
    if share.get("exact") is not None:
        return float(share["exact"])
    low = share.get("minimum", share.get("exclusiveMinimum"))
    high = share.get("maximum", share.get("exclusiveMaximum"))
    if low is not None and high is not None:
        return (float(low) + float(high)) / 2
    return None


def _ended(interest: dict[str, Any], today: date) -> bool:
    end = interest.get("endDate")
    return bool(end) and date.fromisoformat(str(end)[:10]) <= today


def import_statements(
    driver: Driver, database: str, statements: Iterable[dict[str, Any]], today: date | None = None
) -> BodsSummary:
    """Write BODS 0.4 statements into the graph (idempotent); returns what was done."""
    today = today or date.today()
    latest = _latest_per_record(statements)
    summary = BodsSummary()
    entities = {k: s for k, s in latest.items() if s["recordType"] == "entity"}
    persons = {k: s for k, s in latest.items() if s["recordType"] == "person"}
    relationships = {k: s for k, s in latest.items() if s["recordType"] == "relationship"}

    usccs: dict[str, str] = {}
    for record_id, s in entities.items():
        for ident in s.get("recordDetails", {}).get("identifiers") or []:
            if ident.get("scheme") in USCC_SCHEMES and ident.get("id"):
                usccs[record_id] = str(ident["id"]).strip().upper()
    records, _, _ = driver.execute_query(
        q.ENTERPRISES_BY_USCC, usccs=sorted(set(usccs.values())),
        database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    known = {r["uscc"]: r["id"] for r in records}

    parties: dict[str, _Party] = {}
    enterprise_rows, person_rows = [], []
    for record_id, s in entities.items():
        details = s.get("recordDetails") or {}
        kind = (details.get("entityType") or {}).get("type", "registeredEntity")
        if kind in _ANONYMOUS_ENTITIES:
            summary.skipped.append(Skipped(record_id, f"{kind}: no enterprise to link"))
            continue
        uscc = usccs.get(record_id)
        node_id = known.get(uscc) if uscc else None
        if node_id is not None:
            summary.matched_by_uscc += 1
        parties[record_id] = _Party(node_id or f"bods:{record_id}", False)
        enterprise_rows.append({
            "id": parties[record_id].id, "record_id": record_id, "uscc": uscc,
            "name": details.get("name") or record_id, "entity_type": kind,
        })  # fmt: skip
    for record_id, s in persons.items():
        details = s.get("recordDetails") or {}
        if details.get("personType") in _ANONYMOUS_PERSONS:
            summary.skipped.append(Skipped(record_id, f"{details['personType']}: no person"))
            continue
        names = details.get("names") or []
        legal = [n for n in names if n.get("type") == "legal"] or names
        name = legal[0].get("fullName") if legal else None
        parties[record_id] = _Party(f"bods:{record_id}", True)
        person_rows.append({"id": parties[record_id].id, "record_id": record_id,
                            "name": name or record_id})  # fmt: skip

    holdings: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    closed: list[str] = []
    for record_id, s in relationships.items():
        details = s.get("recordDetails") or {}
        subject_ref = details.get("subject")
        subject = parties.get(subject_ref) if isinstance(subject_ref, str) else None
        party_ref = details.get("interestedParty")
        holder = parties.get(party_ref) if isinstance(party_ref, str) else None
        if s.get("recordStatus") == "closed":
            closed.append(record_id)
            continue
        if subject is None or subject.is_person:
            summary.skipped.append(Skipped(record_id, "subject is not an entity of this file"))
            continue
        if holder is None:
            summary.skipped.append(Skipped(record_id, "interested party unknown or unspecified"))
            continue
        interests = [i for i in details.get("interests") or [] if i.get("type") == "shareholding"]
        direct = [i for i in interests if i.get("directOrIndirect", "direct") == "direct"]
        if interests and not direct:
            summary.skipped.append(Skipped(
                record_id, "indirect shareholding: the chain is imported link by link",
            ))  # fmt: skip
            continue
        current = [i for i in direct if not _ended(i, today)]
        if direct and not current:
            closed.append(record_id)
            continue
        shares = [_share(i) for i in current]
        if not current or any(x is None for x in shares):
            summary.skipped.append(Skipped(record_id, "no shareholding with a stated share"))
            continue
        pct = min(100.0, sum(x for x in shares if x is not None))
        start = min((str(i["startDate"])[:10] for i in current if i.get("startDate")), default=None)
        holdings[holder.is_person].append({
            "holder_id": holder.id, "enterprise_id": subject.id, "pct": pct,
            "since": date.fromisoformat(start) if start else None, "record_id": record_id,
        })  # fmt: skip

    def work(tx: ManagedTransaction) -> int:
        tx.run(q.MERGE_ENTERPRISES, rows=enterprise_rows).consume()
        tx.run(q.MERGE_PERSONS, rows=person_rows).consume()
        tx.run(q.MERGE_HOLDINGS_BY_ENTERPRISE, rows=holdings[False]).consume()
        tx.run(q.MERGE_HOLDINGS_BY_PERSON, rows=holdings[True]).consume()
        record = tx.run(q.DELETE_HOLDINGS, record_ids=closed).single()
        return int(record["deleted"]) if record else 0

    with driver.session(database=database) as session:
        summary.closed = session.execute_write(work)
    summary.enterprises = len(enterprise_rows)
    summary.persons = len(person_rows)
    summary.holdings = len(holdings[True]) + len(holdings[False])
    return summary


def import_file(driver: Driver, database: str, path: Path) -> BodsSummary:
    """Import one BODS 0.4 file (JSON array or JSON Lines)."""
    return import_statements(driver, database, read_statements(path))
