"""The cases file (docs/ingest-format.md, "cases"): good rows become `Case` nodes that
CONCERN their enterprise; unknown enterprises, future dates, duplicate cases and unknown
outcomes are rejected row by row into `_rejects/cases.rejects.jsonl`, and nothing else is
lost."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from neo4j import Driver

from ingest.loader import ingest_folder, load_cases

HEADER = "id,enterprise_id,outcome,decided_on,source,alert_id,note\n"


def _firms(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "enterprises.csv").write_text(
        "id,name\nE1,甲公司\nE2,乙公司\nE3,丙公司\n", encoding="utf-8"
    )


def test_a_cases_file_loads_good_rows_and_rejects_bad_ones(
    db: Driver, database: str, tmp_path: Path
) -> None:
    _firms(tmp_path / "world")
    ingest_folder(db, database, tmp_path / "world")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    cases = tmp_path / "bank" / "cases_2025.csv"
    cases.parent.mkdir()
    cases.write_text(
        HEADER
        + "C1,E1,fan_in,2025-03-01,sar,AL-1,structuring\n"
        + "C2,E2,cleared,2025-04-01,alert_review,AL-2,\n"
        + "C3,E3,default,2025-05-01,credit_book,,\n"
        + "C4,E404,ring,2025-05-02,sar,,\n"  # unknown enterprise
        + f"C5,E1,shell,{tomorrow},sar,,\n"  # decided in the future
        + "C1,E2,ring,2025-05-03,sar,,\n"  # duplicate id
        + "C6,E1,fan_in,2025-03-01,sar,AL-1,again\n"  # the same case under another id
        + "C7,E2,laundering,2025-05-04,sar,,\n",  # unknown outcome
        encoding="utf-8",
    )
    summary = load_cases(db, database, cases)
    f = summary.file("cases")
    assert (f.rows, f.loaded, f.rejected) == (8, 3, 5)
    rejects = [json.loads(x) for x in (cases.parent / "_rejects" / "cases.rejects.jsonl")
               .read_text(encoding="utf-8").splitlines()]  # fmt: skip
    by_line = {r["line"]: (r["field"], r["reason"]) for r in rejects}
    assert by_line[5][0] == "enterprise_id" and "E404" in by_line[5][1]
    assert by_line[6][0] == "decided_on" and "future" in by_line[6][1]
    assert by_line[7][0] == "id" and "duplicate" in by_line[7][1]
    assert by_line[8][0] == "enterprise_id" and "line 2" in by_line[8][1]
    assert by_line[9][0] == "outcome" and "laundering" in by_line[9][1]
    assert all(r["raw"] for r in rejects)  # the original row is kept

    rows = db.execute_query(
        "MATCH (c:Case)-[:CONCERNS]->(e:Enterprise) RETURN c.id AS id, e.id AS firm, "
        "c.outcome AS outcome, c.decided_on AS on, c.alert_id AS alert ORDER BY id",
        database_=database,
    ).records
    assert [(r["id"], r["firm"], r["outcome"]) for r in rows] == [
        ("C1", "E1", "fan_in"), ("C2", "E2", "cleared"), ("C3", "E3", "default"),
    ]  # fmt: skip
    assert rows[0]["on"].to_native() == date(2025, 3, 1) and rows[0]["alert"] == "AL-1"
    # Nothing else was touched: the firms are all still there.
    firms = db.execute_query("MATCH (e:Enterprise) RETURN count(e) AS n", database_=database)
    assert firms.records[0]["n"] == 3
    # Loading the same file again changes nothing (keyed, idempotent).
    again = load_cases(db, database, cases).file("cases")
    assert again.loaded == 3
    count = db.execute_query("MATCH (c:Case) RETURN count(c) AS n", database_=database)
    assert count.records[0]["n"] == 3


def test_a_folder_may_carry_its_cases_file(db: Driver, database: str, tmp_path: Path) -> None:
    folder = tmp_path / "world"
    _firms(folder)
    (folder / "cases.csv").write_text(HEADER + "C1,E1,ring,2025-01-02,sar,,\n", encoding="utf-8")
    summary = ingest_folder(db, database, folder)
    assert summary.file("cases").loaded == 1
