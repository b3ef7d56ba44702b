"""The loader against the real Neo4j: graph shapes, rejects, idempotence, SUPPLIES, the
entity-resolution seam, and resuming after the loader or Neo4j is killed mid-load."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from chainlens.settings import PROJECT_ROOT, Settings
from graph.maintenance import count_by_label, count_by_relationship
from graph.server import ManagedNeo4j
from ingest.errors import FolderRefused
from ingest.loader import ingest_folder, recompute_supplies
from ingest.records import EnterpriseRecord, ResolvedRecord
from tests.ingest.conftest import ChainFolder, write_chain
from tests.neo4j_test_server import slot_server

GOOD_NODES = {
    "Address": 2, "Asset": 1, "Contract": 1, "Enterprise": 4, "Financing": 1, "Goods": 2,
    "IngestBatch": 19, "Invoice": 4, "Payment": 1, "Person": 2, "Phone": 1, "Sensor": 1,
    "Shipment": 1, "SourceRecord": 2, "Warehouse": 1,
    "SecurityInterest": 2,  # the live loaded financing's two pledges, registered
}  # fmt: skip
GOOD_RELS = {
    "ASSIGNED_TO": 1, "BORROWER": 1, "BUYER": 4, "COVERS": 2, "DEBTOR": 2, "DELIVERS": 1,
    "FOR": 2, "FROM": 1,
    "GUARANTEES": 2, "HAS_PHONE": 2, "HOLDS": 2, "INPUT_TO": 1, "INSTALLED_AT": 1,
    "LOCATED_AT": 3, "MONITORS": 1, "OF": 2, "OPERATES": 1, "OWNS": 1, "PAID_BY": 1,
    "PAID_TO": 1, "PARTY": 2, "PLEDGED_TO": 1, "ROLE": 1, "SELLER": 4, "SETTLES": 1,
    "STORED_AT": 2, "SUPPLIES": 2, "TO": 1, "UNDER": 3,
}  # fmt: skip


def _one(driver: Driver, database: str, query: str, **params: Any) -> Any:
    records, _, _ = driver.execute_query(query, params, database_=database)
    return records[0][0] if records else None


def _dump(driver: Driver, database: str) -> tuple[list[str], list[str]]:
    """Every node and relationship with its properties, as sortable text."""
    nodes, _, _ = driver.execute_query(
        "MATCH (n) RETURN labels(n) AS l, properties(n) AS p", database_=database
    )
    rels, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN a.id AS a, type(r) AS t, b.id AS b, properties(r) AS p",
        database_=database,
    )
    return (
        sorted(json.dumps([r["l"], r["p"]], sort_keys=True, default=str) for r in nodes),
        sorted(
            json.dumps([r["a"], r["t"], r["b"], r["p"]], sort_keys=True, default=str) for r in rels
        ),
    )


def _rejects(folder: Path, name: str) -> list[dict[str, Any]]:
    path = folder / "_rejects" / f"{name}.rejects.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_good_folder_builds_the_documented_graph(
    db: Driver, database: str, good_folder: Path
) -> None:
    calls: list[tuple[str, int, int | None]] = []
    summary = ingest_folder(db, database, good_folder, progress=lambda *a: calls.append(a))
    assert summary.rejected == 0 and summary.refused_files == [] and summary.ignored_files == []
    assert summary.loaded == 32 and summary.manifest is not None
    assert count_by_label(db, database) == GOOD_NODES
    assert count_by_relationship(db, database) == GOOD_RELS
    assert not (good_folder / "_rejects").exists()
    assert summary.registry is not None
    assert (summary.registry.covered, summary.registry.registered) == (2, 2)

    e1 = _one(db, database, "MATCH (e:Enterprise {id: 'E1'}) RETURN properties(e)")
    assert e1["registered_capital"] == 500_000_000_000 and e1["is_core"] is True
    assert e1["founded_on"].to_native() == date(2003, 5, 12) and e1["uscc_valid"] is True
    assert e1["source_file"] == "enterprises.csv" and e1["loaded_at"].tzinfo is not None
    e3 = _one(db, database, "MATCH (e:Enterprise {id: 'E3'}) RETURN properties(e)")
    assert e3["uscc_valid"] is False and e3["uscc_problem"].startswith("check_character")
    assert (
        _one(db, database, "MATCH (:Enterprise {id:'E3'})-[:HAS_PHONE]->(p) RETURN count(p)") == 0
    )
    assert _one(db, database, "MATCH (w:Warehouse) RETURN w.geo.latitude") == pytest.approx(40.8424)
    for_qty = "MATCH (:Invoice {id:'I1'})-[f:FOR]->(:Goods {id:'G2'}) RETURN f.qty"
    assert _one(db, database, for_qty) == 12.5
    assert (
        _one(db, database, "MATCH (:Enterprise {id:'E2'})-[r:PARTY]->(:Contract) RETURN r.role")
        == "seller"
    )
    holds = "MATCH (:Person {id:'R1'})-[h:HOLDS]->(:Enterprise {id:'E1'}) RETURN h.pct"
    assert _one(db, database, holds) == 51.5
    shipment = _one(
        db, database,
        "MATCH (s:Shipment {id:'S1'})-[:UNDER]->(:Contract {id:'C1'}),"
        " (s)-[:DELIVERS]->(:Invoice {id:'I1'}), (s)-[o:OF]->(:Goods {id:'G2'}),"
        " (s)-[:FROM]->(:Enterprise {id:'E2'}),"
        " (s)-[:TO]->(:Enterprise {id:'E1'}) RETURN o.qty",
    )  # fmt: skip
    assert shipment == 12.5
    assert _one(db, database, "MATCH (:Payment)-[:PAID_BY]->(e) RETURN e.id") == "E1"
    record = _one(db, database, "MATCH (r:SourceRecord {id:'CUS-7'}) RETURN properties(r)")
    assert record["uscc"] == "9115O1OOABCDEF127E" and record["source"] == "customs"

    supplies = {
        (r["a"], r["b"]): r["p"]
        for r in db.execute_query(
            "MATCH (a)-[s:SUPPLIES]->(b) RETURN a.id AS a, b.id AS b, properties(s) AS p",
            database_=database,
        ).records
    }
    e2e1, e3e2 = supplies[("E2", "E1")], supplies[("E3", "E2")]
    assert (e2e1["amount_12m"], e2e1["invoices_12m"], e2e1["amount_total"]) == (
        3_000_000,
        2,
        3_000_000,
    )
    assert e2e1["first_on"].to_native() == date(2025, 1, 10)
    assert e2e1["last_on"].to_native() == date(2025, 6, 1)
    # I3 is older than 12 months before the latest invoice (2025-06-01); I4 is void.
    assert (e3e2["amount_12m"], e3e2["invoices_12m"], e3e2["invoices_total"]) == (0, 0, 1)
    assert e3e2["amount_total"] == 500_000

    stages = {c[0] for c in calls}
    assert {"enterprises", "invoices", "supplies"} <= stages
    assert ("invoices", 4, 4) in calls


def test_same_input_twice_gives_the_same_graph(
    db: Driver, database: str, good_folder: Path
) -> None:
    ingest_folder(db, database, good_folder, batch_size=3)
    first = _dump(db, database)
    again = ingest_folder(db, database, good_folder, batch_size=3, resume=False)
    assert again.file("invoices").batches_written == 2
    assert _dump(db, database) == first
    assert again.registry is not None and again.registry.registered == 0  # registered once
    resumed = ingest_folder(db, database, good_folder, batch_size=3)
    assert resumed.file("invoices").batches_written == 0
    assert resumed.file("invoices").batches_skipped == 2 and resumed.loaded == 32
    assert _dump(db, database) == first


def test_changed_references_replace_the_old_relationships(
    db: Driver, database: str, good_folder: Path, tmp_path: Path
) -> None:
    """A row loaded again with another seller, contract party or owner points at the new one
    only; a reference the row no longer has is dropped."""
    ingest_folder(db, database, good_folder)
    later = tmp_path / "later"
    later.mkdir()
    (later / "invoices.csv").write_text(
        "id,seller_id,buyer_id,contract_id,amount,issued_on\n"
        "I1,E3,E1,,1000000,2025-01-10\n",  # seller E2 -> E3, contract C1 and goods G2 gone
        encoding="utf-8",
    )
    (later / "contracts.csv").write_text(
        "id,kind,seller_id,buyer_id,amount,signed_on\nC1,supply,E4,E1,3000000,2025-01-01\n",
        encoding="utf-8",
    )
    (later / "assets.csv").write_text(
        "id,kind,owner_id,quantity,unit\nAS1,livestock,E3,120,head\n", encoding="utf-8"
    )
    summary = ingest_folder(db, database, later)
    assert summary.rejected == 0

    def ends(query: str) -> list[tuple[str, str]]:
        records, _, _ = db.execute_query(query, database_=database)
        return sorted((r[0], r[1]) for r in records)

    # (its pledge, ASSIGNED_TO, comes from the pledges file and stays)
    assert ends("MATCH (:Invoice {id: 'I1'})-[r]->(x) RETURN type(r), x.id") == [
        ("ASSIGNED_TO", "F1"), ("BUYER", "E1"), ("SELLER", "E3")]  # fmt: skip
    assert ends("MATCH (x)-[r:PARTY]->(:Contract {id: 'C1'}) RETURN r.role, x.id") == [
        ("buyer", "E1"), ("seller", "E4")]  # fmt: skip
    assert ends("MATCH (x)-[r:OWNS]->(:Asset {id: 'AS1'}) RETURN type(r), x.id") == [
        ("OWNS", "E3")]  # fmt: skip
    assert ends("MATCH (:Asset {id: 'AS1'})-[r]->(x) RETURN type(r), x.id") == [
        ("PLEDGED_TO", "F1")]  # goods and warehouse gone, the pledge stays  # fmt: skip
    # Untouched rows keep their links, and SUPPLIES follows the moved invoice.
    assert ends("MATCH (:Invoice {id: 'I2'})-[r:SELLER|UNDER]->(x) RETURN type(r), x.id") == [
        ("SELLER", "E2"), ("UNDER", "C1")]  # fmt: skip
    e3e1 = _one(db, database, "MATCH (:Enterprise {id:'E3'})-[s:SUPPLIES]->(:Enterprise "
                "{id:'E1'}) RETURN s.invoices_total")  # fmt: skip
    assert e3e1 == 1


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(text)


def test_bad_rows_are_rejected_with_reasons_and_good_rows_load(
    db: Driver, database: str, good_folder: Path
) -> None:
    _append(good_folder / "enterprises.csv",
            "E5,坏代码公司,,9115010012345678,,,,,,,,,,\n"  # malformed USCC: rejected
            "E1,重复的公司,,,,,,,,,,,,\n"  # duplicate key
            "E6,无地址公司,,,,,,,,,,,A9,\n")  # dangling address  # fmt: skip
    _append(good_folder / "invoices.csv",
            "I5,E404,E1,,,,100,,,2025-01-01,,\n"  # seller nowhere
            "I6,E5,E1,,,,100,,,2025-01-01,,\n"  # seller was rejected
            "I1,E2,E1,,,,100,,,2025-01-01,,\n"  # duplicate id
            "I7,E2,E1,,,,-100,,,2025-01-01,,\n"
            "I8,E2,E1,,,,100.5,,,2025-01-01,,\n"
            "I9,E2,E1,,,,100,,,2025-02-30,,\n"
            "I10,E2,E1,,,,100,,,2025-02-03,,lost\n")  # fmt: skip
    (good_folder / "holdings.csv").write_text(
        "holder_id,holder_kind,enterprise_id,pct,since,comment\n"
        "R1,person,E1,51.5,2003-05-12,founder\n"
        "E1,enterprise,E2,100,2010-09-01,\n"
        "R1,enterprise,E2,10,,\n",  # R1 is a person, not an enterprise
        encoding="utf-8",
    )
    (good_folder / "notes.txt").write_text("not data")
    summary = ingest_folder(db, database, good_folder)

    ent = summary.file("enterprises")
    assert (ent.rows, ent.loaded, ent.rejected) == (7, 4, 3)
    by_id = {r["raw"]["id"]: r for r in _rejects(good_folder, "enterprises")}
    assert by_id["E5"]["field"] == "uscc" and "malformed USCC" in by_id["E5"]["reason"]
    assert (
        by_id["E1"]["reason"] == "duplicate key 'E1' (first at line 2)" and by_id["E1"]["line"] == 7
    )
    assert by_id["E6"]["field"] == "address_id" and "dangling reference" in by_id["E6"]["reason"]

    inv = summary.file("invoices")
    assert (inv.rows, inv.loaded, inv.rejected) == (11, 4, 7)
    rejects = {r["raw"]["id"]: r for r in _rejects(good_folder, "invoices")}
    assert rejects["I5"]["field"] == "seller_id" and "'E404'" in rejects["I5"]["reason"]
    assert rejects["I6"]["field"] == "seller_id" and "or it was rejected" in rejects["I6"]["reason"]
    assert "duplicate key" in rejects["I1"]["reason"]
    assert rejects["I7"]["reason"] == "negative amount -100"
    assert "decimal point" in rejects["I8"]["reason"]
    assert rejects["I9"]["field"] == "issued_on"
    assert rejects["I10"]["field"] == "status"
    assert all(r["file"] == "invoices.csv" and r["line"] > 1 for r in rejects.values())

    hold = summary.file("holdings")
    assert hold.unknown_columns == ["comment"] and (hold.loaded, hold.rejected) == (2, 1)
    assert summary.ignored_files == ["notes.txt"]
    assert count_by_label(db, database)["Enterprise"] == 4
    assert count_by_label(db, database)["Invoice"] == 4
    assert "ignored unknown columns: comment" in summary.rows()[13]["notes"]


def test_references_resolve_against_the_graph(db: Driver, database: str, good_folder: Path,
                                              tmp_path: Path) -> None:  # fmt: skip
    ingest_folder(db, database, good_folder)
    later = tmp_path / "later"
    later.mkdir()
    (later / "invoices.csv").write_text(
        "id,seller_id,buyer_id,amount,issued_on\n"
        "J1,E2,E1,400,2025-07-01\n"
        "J2,E2,E999,400,2025-07-01\n",
        encoding="utf-8",
    )
    summary = ingest_folder(db, database, later)
    assert summary.file("invoices").loaded == 1
    assert _rejects(later, "invoices")[0]["raw"]["id"] == "J2"
    # The new invoice moved the 12-month window: SUPPLIES was recomputed over the graph.
    query = "MATCH (:Enterprise {id:'E2'})-[s:SUPPLIES]->(:Enterprise {id:'E1'}) RETURN s"
    e2e1 = _one(db, database, query)
    assert (e2e1["invoices_total"], e2e1["amount_total"]) == (3, 3_000_400)
    assert e2e1["as_of"].to_native() == date(2025, 7, 1)


def test_refused_files_and_folders(db: Driver, database: str, good_folder: Path) -> None:
    (good_folder / "contracts.csv").write_text(
        "id,kind,seller_id,amount,signed_on\nC1,supply,E2,100,2025-01-01\n", encoding="utf-8"
    )
    (good_folder / "persons.csv").write_bytes("id,name\nR1,张伟\nR2,李娜\n".encode("gbk"))
    (good_folder / "goods_inputs.jsonl").write_text('{"input_id": "G1", "output_id": "G2"}\n')
    summary = ingest_folder(db, database, good_folder)
    refused = {f.name: f.error for f in summary.refused_files}
    assert set(refused) == {"contracts", "persons", "goods_inputs"}
    assert refused["goods_inputs"] == "both goods_inputs.csv and goods_inputs.jsonl given"
    assert "missing required column buyer_id" in (refused["contracts"] or "")
    assert "not UTF-8" in (refused["persons"] or "") and "byte offset 11" in (
        refused["persons"] or ""
    )
    assert _rejects(good_folder, "persons")[0]["reason"].startswith("file refused: not UTF-8")
    # Rows that reference the refused files are dangling; everything else loads.
    assert summary.file("invoices").rejected == 2  # I1, I2 are under contract C1
    assert summary.file("roles").rejected == 1
    labels = count_by_label(db, database)
    assert "Contract" not in labels and "Person" not in labels and labels["Enterprise"] == 4

    (good_folder / "manifest.json").write_text(
        json.dumps({"format": "chainlens-ingest", "version": 9})
    )
    before = count_by_label(db, database)
    with pytest.raises(FolderRefused, match="version 9"):
        ingest_folder(db, database, good_folder)
    assert count_by_label(db, database) == before


class _ByUscc:
    """A stand-in resolver: links a record to the enterprise with the same USCC."""

    name = "by-uscc"

    def __init__(self, uscc_to_id: dict[str, str]) -> None:
        self.uscc_to_id = uscc_to_id

    def resolve(self, batch: list[EnterpriseRecord]) -> list[ResolvedRecord]:
        return [ResolvedRecord(r, self.uscc_to_id.get(r.uscc or ""), 1.0, "uscc") for r in batch]


def test_resolver_seam_links_records(db: Driver, database: str, good_folder: Path) -> None:
    ingest_folder(db, database, good_folder)
    assert count_by_relationship(db, database).get("RESOLVES_TO") is None
    summary = ingest_folder(db, database, good_folder,
                            resolver=_ByUscc({"91150100MA1X2Y3NX2": "E1"}))  # fmt: skip
    assert summary.file("enterprise_records").batches_written == 1
    links = db.execute_query(
        "MATCH (r:SourceRecord)-[l:RESOLVES_TO]->(e:Enterprise) RETURN r.id, e.id, l.method",
        database_=database,
    ).records
    assert [tuple(r) for r in links] == [("KYC-1", "E1", "uscc")]


def test_supplies_as_of_and_recompute_is_idempotent(db: Driver, database: str,
                                                     good_folder: Path) -> None:  # fmt: skip
    ingest_folder(db, database, good_folder, as_of=date(2025, 2, 28))
    e2e1 = _one(db, database, "MATCH (:Enterprise {id:'E2'})-[s:SUPPLIES]->() RETURN s")
    assert (e2e1["invoices_total"], e2e1["amount_12m"]) == (1, 1_000_000)  # I2 is after as_of
    e3e2 = _one(db, database, "MATCH (:Enterprise {id:'E3'})-[s:SUPPLIES]->() RETURN s")
    assert (e3e2["invoices_12m"], e3e2["amount_12m"]) == (1, 500_000)  # I3 is within a year
    first = _dump(db, database)
    again = recompute_supplies(db, database, as_of=date(2025, 2, 28), batch_size=1)
    assert (again.sellers, again.edges) == (2, 2)
    assert _dump(db, database) == first
    db.execute_query("MATCH (i:Invoice {id:'I3'}) SET i.status = 'void'", database_=database)
    recompute_supplies(db, database, as_of=date(2025, 2, 28))
    assert _one(db, database, "MATCH (:Enterprise {id:'E3'})-[s:SUPPLIES]->() RETURN count(s)") == 0


# ---- crashes ------------------------------------------------------------------------------
def _loader_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "NEO4J_URI": settings.effective_neo4j_uri(),
        "NEO4J_PASSWORD": settings.effective_neo4j_password().get_secret_value(),
        "NEO4J_DATABASE": settings.neo4j_database,
        "PYTHONPATH": str(PROJECT_ROOT),
        "CHAINLENS_LOG_LEVEL": "WARNING",
    }


def _start_loader(settings: Settings, folder: Path, batch_size: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ingest.loader", str(folder), "--batch-size", str(batch_size)],
        env=_loader_env(settings), cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def _wait_for_batches(driver: Driver, database: str, file: str, at_least: int,
                      process: subprocess.Popen[bytes], timeout: float = 60) -> int:  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = _one(driver, database, "MATCH (b:IngestBatch {file: $f}) RETURN count(b)", f=file)
        if n >= at_least:
            return int(n)
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        time.sleep(0.05)
    raise AssertionError(f"the loader did not commit {at_least} {file} batches in {timeout}s")


def _assert_complete(driver: Driver, database: str, chain: ChainFolder, batch_size: int) -> None:
    nodes = {**chain.nodes, "IngestBatch": chain.expected_batches(batch_size)}
    assert count_by_label(driver, database) == nodes
    assert count_by_relationship(driver, database) == chain.rels


@pytest.mark.slow
def test_killed_loader_resumes_to_exactly_the_expected_graph(
    db: Driver, database: str, neo4j_settings: Settings, tmp_path: Path
) -> None:
    chain = write_chain(tmp_path / "chain", enterprises=100, invoices=1500)
    batch_size = 25
    loader = _start_loader(neo4j_settings, chain.path, batch_size)
    try:
        _wait_for_batches(db, database, "invoices", 10, loader)
        loader.send_signal(signal.SIGKILL)
        loader.wait(10)
    finally:
        if loader.poll() is None:
            loader.kill()
    partial = count_by_label(db, database)
    assert partial.get("Invoice", 0) < chain.nodes["Invoice"]
    assert partial["Invoice"] % batch_size == 0  # only whole batches were committed
    summary = ingest_folder(db, database, chain.path, batch_size=batch_size)
    assert summary.file("invoices").batches_skipped >= 10
    assert summary.file("enterprises").batches_written == 0
    _assert_complete(db, database, chain, batch_size)


@pytest.mark.slow
def test_killed_neo4j_resumes_to_exactly_the_expected_graph(
    db: Driver, database: str, neo4j_settings: Settings, tmp_path: Path
) -> None:
    assert slot_server() is not None, "this test kills the managed test server; unset NEO4J_URI"
    # Recovery after SIGKILL can be slow on a busy machine: allow more than the usual start.
    server = ManagedNeo4j(neo4j_settings.model_copy(update={"neo4j_start_timeout_s": 300.0}))
    chain = write_chain(tmp_path / "chain", enterprises=100, invoices=1500, seed=2)
    batch_size = 25
    loader = _start_loader(neo4j_settings, chain.path, batch_size)
    try:
        _wait_for_batches(db, database, "invoices", 10, loader)
        pid = server.pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while server.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.1)  # SIGKILL is asynchronous; pid() reaps our own child
        server.start()  # recovers the store from its transaction log
        loader.wait(120)  # the loader's retries either finish the load or give up
    finally:
        if loader.poll() is None:
            loader.kill()
    summary = ingest_folder(db, database, chain.path, batch_size=batch_size)
    assert summary.rejected == 0
    _assert_complete(db, database, chain, batch_size)
