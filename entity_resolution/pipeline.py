"""Resolving the source records in the graph: what `chainlens ingest` and `chainlens resolve` run.

Known enterprises (not made by entity resolution) are master records that anchor clusters;
every `SourceRecord` is resolved with them and the stored human decisions, and linked
`RESOLVES_TO` its enterprise with a score and an explanation. A run is incremental: when no
record is unresolved, changed since it was resolved, or named by a newer decision, nothing
is done; otherwise the resolution is computed over all records (decisions and new records can
move settled ones) and only the pending records and those whose entity changed are written.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from neo4j import Driver

from entity_resolution.records import EnterpriseRecord
from entity_resolution.resolver import Decision, resolve_records
from entity_resolution.store import load_decisions, write_resolution
from graph.queries import resolution as q

ProgressCallback = Callable[[str, int, int | None], None]
MASTER_SOURCE = "master"
MASTER_PREFIX = "M-"
_STAGE = "entity resolution"


@dataclass(slots=True)
class ResolveSummary:
    """What one run did; `line()` is the summary the CLI prints."""

    records: int = 0  # source records in the graph (masters not counted)
    masters: int = 0
    pending: int = 0  # unresolved, changed or named by a newer decision
    written: int = 0  # links written (pending plus records whose entity changed)
    linked_known: int = 0  # source records linked to a known enterprise
    unmatched: int = 0  # source records that matched no known enterprise (entity made by ER)
    flagged_uscc: int = 0  # source records whose USCC was flagged (kept, not proof)
    entities: int = 0
    orphans_deleted: int = 0
    full: bool = False
    run_id: str = ""
    persons: PersonSummary | None = None
    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        persons = (f"; {self.persons.duplicates:,} duplicate persons linked SAME_AS"
                   if self.persons is not None else "")  # fmt: skip
        if self.pending == 0 and not self.full:
            return (f"entity resolution: {self.records:,} records, all resolved and "
                    f"unchanged{persons}")  # fmt: skip
        return persons.join((
            f"entity resolution: {self.records:,} records, {self.pending:,} pending, "
            f"{self.written:,} links written; {self.linked_known:,} linked to known "
            f"enterprises, {self.unmatched:,} unmatched (own entity), "
            f"{self.flagged_uscc:,} flagged USCCs",
            f"; {self.seconds:.1f}s",
        ))


@dataclass(frozen=True, slots=True)
class _State:
    record: EnterpriseRecord
    raw: str | None
    entity_id: str | None
    at: datetime | None
    explained: bool


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def master_record(row: dict[str, Any]) -> EnterpriseRecord:
    """An enterprise read from the graph (id, names, USCC, legal form, region code, address,
    phone) as its master record (`M-<id>`, source `master`)."""
    return EnterpriseRecord(
        record_id=MASTER_PREFIX + row["id"], source=MASTER_SOURCE, name=_text(row["name"]),
        name_en=_text(row["name_en"]), uscc=_text(row["uscc"]),
        legal_form=_text(row["legal_form"]), region_code=_text(row["region_code"]),
        address=_text(row["address"]), phone=_text(row["phone"]), enterprise_id=row["id"],
    )  # fmt: skip


def master_records(driver: Driver, database: str) -> list[EnterpriseRecord]:
    """Known enterprises as master records (`M-<id>`, source `master`)."""
    return [master_record(row) for row in q.read_master_enterprises(driver, database)]


def _source_states(
    driver: Driver, database: str, masters: dict[str, _State], page: int = 10_000
) -> Iterator[_State]:
    """Every non-master source record's state; master records' states go into ``masters``."""
    after = ""
    while True:
        rows = q.read_source_record_state_page(driver, database, after, page)
        if not rows:
            return
        for row in rows:
            after = row["record_id"]
            at = row["at"].to_native() if hasattr(row["at"], "to_native") else row["at"]
            rec = EnterpriseRecord.from_fields(row["record_id"], _text(row["source"]), row)
            state = _State(rec, row["raw"], row["entity_id"], at, bool(row["explained"]))
            if row["source"] == MASTER_SOURCE:
                masters[rec.record_id] = state
            else:
                yield state


def resolve_graph(
    driver: Driver,
    database: str,
    *,
    full: bool = False,
    progress: ProgressCallback | None = None,
    decisions: list[Decision] | None = None,
) -> ResolveSummary:
    """Resolve the graph's source records against its enterprises (see the module docstring);
    ``full`` rewrites every link."""
    started = time.perf_counter()

    def report(done: int) -> None:
        if progress is not None:
            progress(_STAGE, done, 4)

    report(0)
    persons = resolve_person_nodes(driver, database)
    masters = master_records(driver, database)
    master_states: dict[str, _State] = {}
    states = list(_source_states(driver, database, master_states))
    decisions = load_decisions(driver, database) if decisions is None else decisions
    report(1)
    summary = ResolveSummary(records=len(states), masters=len(masters), full=full,
                             persons=persons)  # fmt: skip
    current: dict[str, str | None] = {s.record.record_id: s.entity_id for s in states}
    pending: set[str] = set()
    link_at: dict[str, datetime | None] = {}
    for s in states:
        link_at[s.record.record_id] = s.at
        if full or s.entity_id is None or not s.explained or s.raw != s.record.raw_json():
            pending.add(s.record.record_id)
    for m in masters:
        ms = master_states.get(m.record_id)
        current[m.record_id] = ms.entity_id if ms else None
        link_at[m.record_id] = ms.at if ms else None
        if full or ms is None or ms.entity_id is None or ms.raw != m.raw_json():
            pending.add(m.record_id)
    for d in decisions:
        for r in (d.record_a, d.record_b):
            at = link_at.get(r)
            if r in current and (at is None or (d.at is not None and d.at > at)):
                pending.add(r)
    summary.pending = len([r for r in pending if not r.startswith(MASTER_PREFIX)])
    if not pending or not states:  # without source records there is nothing to resolve
        summary.seconds = time.perf_counter() - started
        report(4)
        return summary
    records = masters + [s.record for s in states]
    resolution = resolve_records(records, decisions=decisions, keep_index=False)
    report(2)
    entity_of = resolution.entity_of()
    write = {r for r, e in entity_of.items() if r in pending or current.get(r) != e}
    summary.run_id = uuid.uuid4().hex
    counts = write_resolution(driver, database, resolution, summary.run_id, only=write)
    report(3)
    known = {m.enterprise_id for m in masters}
    for s in states:
        rid = s.record.record_id
        if entity_of[rid] in known:
            summary.linked_known += 1
        else:
            summary.unmatched += 1
        if any(p.startswith("uscc") for p in resolution.flags.get(rid, ())):
            summary.flagged_uscc += 1
    summary.written = len([r for r in write if not r.startswith(MASTER_PREFIX)])
    summary.entities = len(resolution.entities)
    summary.orphans_deleted = counts["orphans_deleted"]
    summary.stats = resolution.stats
    summary.seconds = time.perf_counter() - started
    report(4)
    return summary


@dataclass(frozen=True, slots=True)
class PersonSummary:
    persons: int
    duplicates: int  # person nodes linked SAME_AS to another
    removed: int  # SAME_AS edges of earlier runs no longer found


def resolve_person_nodes(driver: Driver, database: str) -> PersonSummary:
    """Link duplicate `Person` nodes (same id_hash; or same name and a shared enterprise, no
    conflicting hash) `SAME_AS` the canonical node of their group (smallest id)."""
    import json

    from entity_resolution.persons import PERSON_FACTS, PersonRecord, resolve_persons

    rows = q.read_persons(driver, database)
    res = resolve_persons(
        PersonRecord(record_id=r["id"], source="persons", name=r["name"],
                     id_hash=r["id_hash"] or "", enterprise_ids=tuple(r["enterprises"]),
                     **{k: r[k] or "" for k in PERSON_FACTS})
        for r in rows
    )  # fmt: skip
    why = {link.record_id: link.explanation for link in res.links}
    same: list[dict[str, Any]] = []
    for members in res.persons.values():
        canonical, *duplicates = sorted(members)
        for d in duplicates:
            same.append({"duplicate": d, "canonical": canonical,
                         "reason": str(why[d].get("reason", "")),
                         "explanation": json.dumps(why[d], ensure_ascii=False, sort_keys=True)})
    removed = q.write_same_as(driver, database, same, run_id=uuid.uuid4().hex,
                              at=datetime.now(UTC))  # fmt: skip
    return PersonSummary(len(rows), len(same), removed)
