"""Storing resolutions and human decisions in the graph (through `graph.queries.resolution`).

The driver is passed in; nothing here opens connections or writes Cypher.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from typing import Any

from neo4j import Driver

from entity_resolution.errors import InvalidRecord, UnknownRecord
from entity_resolution.records import EnterpriseRecord
from entity_resolution.resolver import Decision, Resolution
from graph.queries import resolution as q


def write_resolution(
    driver: Driver,
    database: str,
    resolution: Resolution,
    run_id: str | None = None,
    *,
    only: Collection[str] | None = None,
) -> dict[str, int]:
    """Write source records, entities, RESOLVES_TO links (replacing earlier ones) and
    BRANCH_OF edges; entities an earlier run made and that lost all records are removed, and
    so are the BRANCH_OF edges of earlier runs that this resolution no longer finds (it is
    expected to cover every record, as `resolve_graph`'s does).

    ``only`` limits the records (and the entities they reach) written, for incremental runs;
    entity aliases still come from every record of the resolution.
    """
    run_id = run_id or uuid.uuid4().hex
    at = datetime.now(UTC)
    entity_of = resolution.entity_of()
    names: dict[str, set[str]] = {}
    records: list[dict[str, Any]] = []
    raws = {r.record_id: r for r in resolution.records}
    for link in resolution.links:
        raw: EnterpriseRecord | None = raws.get(link.record_id)
        if raw is not None:
            names.setdefault(entity_of[link.record_id], set()).update(
                n for n in (raw.name.strip(), raw.name_en.strip()) if n
            )
    chosen = [link for link in resolution.links if only is None or link.record_id in only]
    touched = {link.entity_id for link in chosen}
    for link in chosen:
        raw = raws.get(link.record_id)
        problems = list(resolution.flags.get(link.record_id, ()))
        records.append(
            {
                "id": link.record_id,
                "source": link.source,
                "raw": raw.raw_json() if raw else None,
                "name": raw.name if raw else None,
                "uscc_valid": not any(p.startswith("uscc") for p in problems),
                "problems": problems,
            }
        )
    entities = [
        {
            "id": e.entity_id,
            "name": e.name,
            "name_en": e.name_en or None,
            "uscc": e.uscc or None,
            "uscc_valid": e.uscc_valid,
            "aliases": sorted(names.get(e.entity_id, set())),
            "is_branch": e.is_branch,
        }
        for e in resolution.entities.values()
        if e.entity_id in touched
    ]
    links = [
        {
            "record_id": link.record_id,
            "entity_id": link.entity_id,
            "score": float(link.score),
            "explanation": json.dumps(link.explanation, ensure_ascii=False, sort_keys=True),
        }
        for link in chosen
    ]
    branches = [{"branch": b, "parent": p} for b, p in resolution.branch_of]
    return q.write_resolution_rows(
        driver, database, records=records, entities=entities, links=links, branches=branches,
        run_id=run_id, at=at,
    )


def decision_id(record_a: str, record_b: str) -> str:
    """One decision per unordered pair: a later decision replaces an earlier one."""
    a, b = sorted((record_a, record_b))
    return "ERD-" + hashlib.blake2b(f"{a}\x00{b}".encode(), digest_size=10).hexdigest()


def record_decision(
    driver: Driver, database: str, record_a: str, record_b: str, same: bool, by: str
) -> Decision:
    """Store a person's judgement that two source records are (not) the same entity.

    Later runs of `resolve_records` given `load_decisions(...)` respect it: "same" pairs are
    merged whatever the model says, "not same" pairs never share an entity.
    """
    if record_a == record_b:
        raise InvalidRecord("a decision needs two different records")
    if not by.strip():
        raise InvalidRecord("a decision must name who made it")
    missing = q.missing_records(driver, database, [record_a, record_b])
    if missing:
        raise UnknownRecord(f"unknown source records: {', '.join(missing)}")
    at = datetime.now(UTC)
    q.write_decision(
        driver, database, decision_id=decision_id(record_a, record_b), record_a=record_a,
        record_b=record_b, same=same, by=by, at=at,
    )
    return Decision(record_a, record_b, same, by, at)


def load_decisions(driver: Driver, database: str) -> list[Decision]:
    out = []
    for row in q.read_decisions(driver, database):
        at = row["at"].to_native() if hasattr(row["at"], "to_native") else row["at"]
        out.append(Decision(row["record_a"], row["record_b"], bool(row["same"]), row["by"], at))
    return out


def entity_sources(
    driver: Driver, database: str, entity_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Each entity's source records with the score and explanation of each link (for the
    API, which batches the entities of one request)."""
    found = q.read_entity_sources(driver, database, entity_ids)
    for rows in found.values():
        for row in rows:
            row["explanation"] = json.loads(row["explanation"]) if row["explanation"] else {}
            if hasattr(row.get("at"), "to_native"):
                row["at"] = row["at"].to_native()
    return found


def stored_records(driver: Driver, database: str, page: int = 10_000) -> Iterator[EnterpriseRecord]:
    """Every stored source record, rebuilt from its raw JSON (for a full re-run)."""
    after = ""
    while True:
        rows = q.read_source_records_page(driver, database, after, page)
        if not rows:
            return
        for row in rows:
            yield EnterpriseRecord(**json.loads(row["raw"]))
        after = rows[-1]["record_id"]


def entity_branches(
    driver: Driver, database: str, entity_ids: list[str]
) -> dict[str, tuple[list[str], list[str]]]:
    """(the entities it is a branch of, its branches) along BRANCH_OF, for each entity."""
    return q.read_branch_of(driver, database, entity_ids)
