"""BODS 0.4 import: mapping, USCC matching, indirect interests skipped, idempotence, closing,
and the effective ownership computed on what was imported."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from graph.analytics.ownership import effective_ownership
from ingest import bods
from ingest.errors import FileRefused, IngestError

USCC = "91110000600037341L"


def _statement(
    record_id: str, record_type: str, details: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "statementId": f"s-{record_id}-{extra.get('statementDate', '2024-01-01')}",
        "statementDate": "2024-01-01",
        "publicationDetails": {"publicationDate": "2024-01-02", "bodsVersion": "0.4",
                               "publisher": {"name": "test register"}},
        "recordId": record_id, "recordStatus": "new", "recordType": record_type,
        "recordDetails": details, **extra,
    }  # fmt: skip


def _shareholding(
    subject: str, party: Any, share: dict[str, float], how: str = "direct"
) -> dict[str, Any]:
    interest = {"type": "shareholding", "directOrIndirect": how, "share": share,
                "beneficialOwnershipOrControl": True, "startDate": "2020-05-01"}  # fmt: skip
    return {"isComponent": False, "subject": subject, "interestedParty": party,
            "interests": [interest]}  # fmt: skip


_REGISTERED = {"isComponent": False, "entityType": {"type": "registeredEntity"}}
_UNKNOWN = {"reason": "subjectUnableToConfirmOrIdentifyBeneficialOwner"}

STATEMENTS = [
    _statement("ent-a", "entity", {**_REGISTERED, "name": "北京甲公司",
               "identifiers": [{"scheme": "CN-SAIC", "id": USCC}]}),
    _statement("ent-b", "entity", {**_REGISTERED, "name": "乙控股有限公司", "identifiers": []}),
    _statement("per-p", "person", {"isComponent": False, "personType": "knownPerson",
               "names": [{"type": "legal", "fullName": "王五"}]}),
    _statement("rel-pb", "relationship", _shareholding("ent-b", "per-p", {"exact": 60})),
    _statement("rel-ba", "relationship",
               _shareholding("ent-a", "ent-b", {"minimum": 40, "maximum": 50})),
    _statement("rel-pa", "relationship",
               _shareholding("ent-a", "per-p", {"exact": 27}, "indirect")),
    _statement("rel-xa", "relationship", _shareholding("ent-a", _UNKNOWN, {"exact": 10})),
]  # fmt: skip


def _holds(db: Driver, database: str) -> list[tuple[str, str, float]]:
    records, _, _ = db.execute_query(
        "MATCH (h)-[r:HOLDS]->(e) RETURN h.id AS h, e.id AS e, r.pct AS pct ORDER BY h, e",
        database_=database,
    )
    return [(r["h"], r["e"], r["pct"]) for r in records]


def test_import_maps_statements_and_is_idempotent(db: Driver, database: str) -> None:
    db.execute_query(
        "CREATE (:Enterprise {id: 'E1', name: '甲', uscc: $u})", u=USCC, database_=database
    )
    s = bods.import_statements(db, database, STATEMENTS)
    assert (s.enterprises, s.matched_by_uscc, s.persons, s.holdings) == (2, 1, 1, 2)
    summary = s
    assert sorted(s.record_id for s in summary.skipped) == ["rel-pa", "rel-xa"]
    assert _holds(db, database) == [("bods:ent-b", "E1", 45.0), ("bods:per-p", "bods:ent-b", 60.0)]
    # the existing enterprise kept its id and name
    records, _, _ = db.execute_query(
        "MATCH (e:Enterprise {id: 'E1'}) RETURN e.name AS n", database_=database
    )
    assert records[0]["n"] == "甲"

    bods.import_statements(db, database, STATEMENTS)
    assert len(_holds(db, database)) == 2

    owners = effective_ownership(db, database, "E1").ultimate_owners
    assert [(h.id, h.effective_pct) for h in owners] == [("bods:per-p", Decimal("27.0000"))]


def test_closing_a_relationship_removes_its_holding(
    db: Driver, database: str, tmp_path: Path
) -> None:
    path = tmp_path / "bods.json"
    path.write_text(json.dumps(STATEMENTS), encoding="utf-8")
    bods.import_file(db, database, path)
    closing = _statement("rel-pb", "relationship", _shareholding("ent-b", "per-p", {"exact": 60}),
                         statementDate="2025-01-01", recordStatus="closed")  # fmt: skip
    lines = tmp_path / "update.jsonl"
    lines.write_text("\n".join(json.dumps(s) for s in [*STATEMENTS, closing]), encoding="utf-8")
    summary = bods.import_file(db, database, lines)
    assert summary.closed == 1
    assert _holds(db, database) == [("bods:ent-b", "bods:ent-a", 45.0)]


def test_refuses_what_it_cannot_read(tmp_path: Path, db: Driver, database: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[{not json", encoding="utf-8")
    with pytest.raises(FileRefused):
        bods.read_statements(bad)
    old = dict(STATEMENTS[0], publicationDetails={"bodsVersion": "0.2"})
    with pytest.raises(IngestError):
        bods.import_statements(db, database, [old])
