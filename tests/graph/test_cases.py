"""Dispositions on alerts and enterprises (`graph.cases`): the alert names the enterprise, a
case never moves to another firm, history is appended, and a case under review is no label."""

from __future__ import annotations

from pathlib import Path

import pytest
from neo4j import Driver

from graph.cases import record_disposition
from graph.errors import InvalidArgument, NotFound
from graph.model import DispositionKind
from graph.queries.cases import labelled_cases
from ingest.loader import ingest_folder


@pytest.fixture
def firms(db: Driver, database: str, tmp_path: Path) -> Driver:
    (tmp_path / "enterprises.csv").write_text("id,name\nE1,甲公司\nE2,乙公司\n", encoding="utf-8")
    ingest_folder(db, database, tmp_path)
    db.execute_query(
        "MATCH (a:Enterprise {id: 'E1'}), (b:Enterprise {id: 'E2'}) "
        "CREATE (:Alert {id: 'AL1', kind: 'test', status: 'open'})-[:ABOUT]->(a) "
        "CREATE (two:Alert {id: 'AL2', kind: 'test', status: 'open'})-[:ABOUT]->(a) "
        "CREATE (two)-[:ABOUT]->(b)", database_=database,
    )  # fmt: skip
    return db


def test_a_disposition_on_an_alert_is_a_case_about_its_enterprise(
    firms: Driver, database: str
) -> None:
    case = record_disposition(firms, database, disposition=DispositionKind.FALSE_POSITIVE,
                              by="anna", alert_id="AL1", note="a real group")  # fmt: skip
    assert (case.id, case.enterprise_id, case.outcome) == ("alert:AL1", "E1", "cleared")
    linked = firms.execute_query(
        "MATCH (c:Case {id: 'alert:AL1'})-[:ON_ALERT]->(a:Alert) RETURN a.id AS id",
        database_=database,
    ).records
    assert [r["id"] for r in linked] == ["AL1"]
    again = record_disposition(firms, database, disposition=DispositionKind.UNDER_REVIEW,
                               by="otto", alert_id="AL1")  # fmt: skip
    assert again.outcome is None and [d.by for d in again.history] == ["anna", "otto"]
    assert labelled_cases(firms, database) == []  # under review again: no label


def test_refusals(firms: Driver, database: str) -> None:
    with pytest.raises(InvalidArgument, match="2 enterprises"):
        record_disposition(firms, database, disposition=DispositionKind.CONFIRMED, by="anna",
                           alert_id="AL2")  # fmt: skip
    with pytest.raises(NotFound):
        record_disposition(firms, database, disposition=DispositionKind.CONFIRMED, by="anna",
                           alert_id="NOPE")  # fmt: skip
    with pytest.raises(NotFound):
        record_disposition(firms, database, disposition=DispositionKind.CONFIRMED, by="anna",
                           enterprise_id="E404")  # fmt: skip
    case = record_disposition(firms, database, disposition=DispositionKind.CONFIRMED,
                              by="anna", alert_id="AL2", enterprise_id="E2",
                              typology="fan_in")  # fmt: skip
    assert (case.enterprise_id, case.outcome) == ("E2", "fan_in")
    with pytest.raises(InvalidArgument, match="concerns"):
        record_disposition(firms, database, disposition=DispositionKind.CONFIRMED, by="anna",
                           case_id=case.id, enterprise_id="E1")  # fmt: skip
    with pytest.raises(InvalidArgument, match="typology"):
        record_disposition(firms, database, disposition=DispositionKind.FALSE_POSITIVE,
                           by="anna", enterprise_id="E1", typology="ring")  # fmt: skip
    [row] = labelled_cases(firms, database)
    assert (row["enterprise_id"], row["outcome"]) == ("E2", "fan_in")
