"""Entity resolution over HTTP, against the real Neo4j: a hand-made folder of dirty duplicates
is ingested and resolved; an enterprise shows its source records with explanations and its
branches; a credit officer (not an analyst) records a "not same" decision, and the next run
reverses the merge."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver

from api.security import Role
from entity_resolution.pipeline import resolve_graph
from ingest.loader import ingest_folder
from tests.api.conftest import gql
from tests.entity_resolution.cases import U_HAINAN, U_TUOBO, U_TWIN, records

pytestmark = pytest.mark.neo4j

ENTERPRISES = [
    {"id": "E-TUOBO", "name": "宁波拓搏国际贸易有限公司", "uscc": U_TUOBO, "region_code": "330200"},
    {"id": "E-TWIN", "name": "宁波拓博国际贸易有限公司", "uscc": U_TWIN, "region_code": "330200"},
    {"id": "E-HAINAN", "name": "海南拓搏国际贸易有限公司", "uscc": U_HAINAN,
     "region_code": "460100"},
]  # fmt: skip
RECORD_IDS = ("t1", "t2", "t3", "t4", "h1", "w1", "w2", "b1")

SOURCES = """
query($id: ID!) {
  enterprise(id: $id) {
    id
    sourceRecords {
      recordId source name raw usccValid score runId at
      explanation { reason matchedRecord score agreed disagreed contributions }
    }
    branches { id name branchOf { id } }
  }
}
"""
DECIDE = """
mutation($a: ID!, $b: ID!, $same: Boolean!) {
  recordMatchDecision(recordA: $a, recordB: $b, same: $same) { recordA recordB same by at }
}
"""


def _folder(path: Path) -> Path:
    with (path / "enterprises.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, ["id", "name", "uscc", "region_code"])
        w.writeheader()
        w.writerows(ENTERPRISES)
    with (path / "enterprise_records.jsonl").open("w", encoding="utf-8") as f:
        for rec in records():
            if rec.record_id in RECORD_IDS:
                f.write(json.dumps({"record_id": rec.record_id, **json.loads(rec.raw_json())},
                                   ensure_ascii=False) + "\n")  # fmt: skip
    return path


def _sources(client: httpx.Client, headers: dict[str, str], eid: str) -> dict[str, Any]:
    response = gql(client, headers, SOURCES, id=eid)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return {s["recordId"]: s for s in body["data"]["enterprise"]["sourceRecords"]}


def test_source_records_decisions_and_reversal(
    client: httpx.Client, db: Driver, database: str, login: Callable[..., dict[str, str]],
    tmp_path: Path,
) -> None:  # fmt: skip
    summary = ingest_folder(db, database, _folder(tmp_path))
    assert summary.rejected == 0
    first = resolve_graph(db, database)
    assert first.records == len(RECORD_IDS) and first.pending == len(RECORD_IDS)
    assert first.linked_known == 7 and first.unmatched == 1  # the branch is its own entity

    analyst = login(Role.ANALYST)
    sources = _sources(client, analyst, "E-TUOBO")
    assert set(sources) == {"M-E-TUOBO", "t1", "t2", "t3", "t4"}
    t3 = sources["t3"]
    assert t3["raw"] == {"record_id": "t3", "name": "NINGBO TUOBO INTL TRDG CO LTD",
                         "phone": "057487654321", "source": "erp"}  # fmt: skip
    why = t3["explanation"]
    assert why["reason"] == "matched" and why["matchedRecord"] in sources
    assert "phone_same" in why["agreed"] and why["contributions"]
    assert 0.5 < t3["score"] <= 1 and t3["runId"] == first.run_id and t3["at"]
    assert sources["M-E-TUOBO"]["source"] == "master"
    assert sources["M-E-TUOBO"]["raw"]["enterprise_id"] == "E-TUOBO"
    assert sources["t1"]["usccValid"] is True
    # The Shanghai branch became its own enterprise, BRANCH_OF the firm.
    branches = gql(client, analyst, SOURCES, id="E-TUOBO").json()["data"]["enterprise"]["branches"]
    assert [b["branchOf"]["id"] for b in branches] == ["E-TUOBO"]
    assert "上海分公司" in branches[0]["name"]
    assert set(_sources(client, analyst, "E-TWIN")) == {"M-E-TWIN", "w1", "w2"}

    denied = gql(client, analyst, DECIDE, a="t3", b="t1", same=False)
    assert denied.status_code == 403
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    officer = login(Role.CREDIT_OFFICER, username="olga")
    unknown = gql(client, officer, DECIDE, a="t3", b="nope", same=False).json()
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    invalid = gql(client, officer, DECIDE, a="t3", b="t3", same=False).json()
    assert invalid["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    # Nothing has been decided yet: a run finds nothing to do.
    assert resolve_graph(db, database).pending == 0

    response = gql(client, officer, DECIDE, a="t3", b="M-E-TUOBO", same=False)
    assert response.status_code == 200, response.text
    decision = response.json()["data"]["recordMatchDecision"]
    assert decision["by"] == "olga" and decision["same"] is False

    again = resolve_graph(db, database)
    assert again.pending == 1 and again.written >= 1  # t3 (the master is not counted)
    after = _sources(client, analyst, "E-TUOBO")
    # t3 leaves; t2 (traditional + English name) may follow its best match, t3.
    assert "t3" not in after and {"M-E-TUOBO", "t1", "t4"} <= set(after)
    rows, _, _ = db.execute_query(
        "MATCH (:SourceRecord {id: 't3'})-[:RESOLVES_TO]->(e:Enterprise) RETURN e.id AS e",
        database_=database,
    )
    assert len(rows) == 1 and rows[0]["e"] != "E-TUOBO"
    # Idempotent: ingesting the folder again and resolving changes no link.
    ingest_folder(db, database, tmp_path)
    assert resolve_graph(db, database).pending == 0
    assert set(_sources(client, analyst, "E-TUOBO")) == set(after)
