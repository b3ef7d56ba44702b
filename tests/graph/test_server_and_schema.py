"""The managed server and the schema, against the real Neo4j."""

from __future__ import annotations

from neo4j import Driver

from graph.maintenance import count_by_label
from graph.schema import apply_schema, schema_statements
from tests.neo4j_test_server import slot_server


def test_schema_is_idempotent(db: Driver, database: str) -> None:
    apply_schema(db, database)
    apply_schema(db, database)
    records, _, _ = db.execute_query("SHOW CONSTRAINTS YIELD name RETURN name", database_=database)
    names = {r["name"] for r in records}
    assert "enterprise_id_unique" in names
    assert "user_username_unique" in names
    assert len(schema_statements()) > 20


def test_uniqueness_is_enforced(db: Driver, database: str) -> None:
    db.execute_query("CREATE (:Enterprise {id: 'E1'})", database_=database)
    try:
        db.execute_query("CREATE (:Enterprise {id: 'E1'})", database_=database)
    except Exception as e:  # neo4j.exceptions.ConstraintError
        assert "already exists" in str(e)
    else:
        raise AssertionError("a duplicate Enterprise id was accepted")
    assert count_by_label(db, database) == {"Enterprise": 1}


def test_status_tells_the_truth(driver: Driver) -> None:
    server = slot_server()
    if server is None:  # external NEO4J_URI: nothing is managed
        return
    status = server.status()
    assert status.installed and status.running and status.answers
    assert status.pid is not None
    # the pid file names a live Neo4j process of this home
    with open(f"/proc/{status.pid}/cmdline") as cmdline:
        assert str(server.home) in cmdline.read()
