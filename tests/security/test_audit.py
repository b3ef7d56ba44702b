"""The audit trail cannot be silenced (issue 25, finding 1): a lone UTF-16 surrogate in a
GraphQL variable or a login name, secrets nested deep in the variables, an event the graph
refuses, a database that stops answering."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver

from api.audit import AuditLog, new_event
from api.security import Role
from chainlens.settings import Settings
from graph.queries.audit import AuditEvent, read_audit_events
from tests.api.serving import serve, token_headers
from tests.security.conftest import raw_graphql

pytestmark = pytest.mark.neo4j

SEARCH = "query Poison($t: String!) { searchEnterprises(text: $t) { edges { node { id } } } }"
EVENTS = """query($u: String) { auditEvents(username: $u, first: 50) {
  edges { node { username kind operation decision detail variables } } } }"""


def audit_events(http: httpx.Client, admin: dict[str, str], username: str) -> list[dict[str, Any]]:
    response = http.post("/graphql", json={"query": EVENTS, "variables": {"u": username}},
                         headers=admin)  # fmt: skip
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return [e["node"] for e in body["data"]["auditEvents"]["edges"]]


def test_a_lone_surrogate_does_not_silence_the_audit_trail(
    own_app: Callable[..., httpx.Client], db: Driver, database: str
) -> None:
    http = own_app()
    analyst = token_headers(http, db, database, "surrogate-analyst", Role.ANALYST)
    admin = token_headers(http, db, database, "surrogate-admin", Role.ADMIN)
    # The surrogate travels as a JSON escape, nested under a secret-looking key as well.
    variables = '{"t": "\\ud800", "extra": {"deep": {"apiToken": "s3cr3t", "x": "\\udfff"}}}'
    poisoned = http.post(
        "/graphql",
        content=raw_graphql(SEARCH, variables),
        headers={**analyst, "content-type": "application/json"},
    )
    assert poisoned.status_code == 200
    assert poisoned.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    # A login name holding one is refused as invalid input (422, ASCII JSON), not a crash.
    login = http.post(
        "/auth/token",
        content=b'{"username": "\\ud800root", "password": "whatever-it-is"}',
        headers={"content-type": "application/json"},
    )
    assert login.status_code == 422 and login.json()["detail"]
    after = http.post("/graphql", json={"query": "query After { __typename }"}, headers=analyst)
    assert after.status_code == 200

    events = audit_events(http, admin, "surrogate-analyst")
    by_operation = {e["operation"]: e for e in events}
    assert by_operation["After"]["decision"] == "allowed"  # stored after the poison
    poison = by_operation["Poison"]
    assert poison["decision"] == "rejected"
    # Kept, escaped, and the nested secret hidden.
    assert "\\\\ud800" in poison["variables"] and "s3cr3t" not in poison["variables"]
    assert json.loads(poison["variables"])["extra"]["deep"]["apiToken"] == "***"
    assert http.get("/health").status_code == 200


def test_events_the_graph_refuses_are_isolated_and_the_rest_stored(
    db: Driver, database: str, tmp_path: Path
) -> None:
    """Defence in depth behind the normalising: an event built around `new_event` that Neo4j
    cannot take is written escaped, or dead-lettered, and never blocks its batch."""
    dead = tmp_path / "dead.jsonl"
    trail = AuditLog(db, database, batch=50, dead_letter=dead)
    good = [new_event(username=f"u{i}", roles=[], kind="graphql", decision="allowed")
            for i in range(5)]  # fmt: skip
    base = new_event(username="bad", roles=[], kind="graphql", decision="allowed")
    escapable = AuditEvent(**{**base.row(), "id": "escapable", "roles": (),
                              "fields": ("a\ud800",), "variables": '{"t": "\ud800"}'})  # fmt: skip
    hopeless = AuditEvent(**{**base.row(), "id": "hopeless", "roles": (), "fields": (),
                             "duration_ms": 2**70})  # fmt: skip
    for event in [*good[:2], escapable, hopeless, *good[2:]]:
        trail.record(event)
    assert trail.flush() == 6
    stored = {e.id: e for e in read_audit_events(db, database, limit=50)}
    assert {e.id for e in good} <= set(stored)
    assert stored["escapable"].variables == '{"t": "\\ud800"}'
    assert "hopeless" not in stored
    lines = [json.loads(line) for line in dead.read_text().splitlines()]
    assert [row["id"] for row in lines] == ["hopeless"]
    health = trail.health()
    assert health.dead_letters == 1 and health.pending == 0 and health.ok
    # Nothing is retried forever: the next flush has nothing left.
    assert trail.flush() == 0


class AuditWritesFail:
    """A driver whose sessions (the audit writer's transactions) fail; queries work."""

    def __init__(self, driver: Driver) -> None:
        self._driver = driver

    def session(self, *args: Any, **kwargs: Any) -> Any:
        from neo4j.exceptions import ServiceUnavailable

        raise ServiceUnavailable("the audit store is down")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)


def test_failing_audit_writes_show_in_health_and_metrics_and_events_are_kept(
    api_settings: Settings, db: Driver, database: str
) -> None:
    settings = api_settings.model_copy(update={"audit_flush_s": 0.1})
    with serve(settings, AuditWritesFail(db)) as url, httpx.Client(base_url=url) as http:
        analyst = token_headers(http, db, database, "unaudited", Role.ANALYST)
        assert http.post("/graphql", json={"query": "{ __typename }"}, headers=analyst).is_success
        deadline = time.monotonic() + 10
        while (health := http.get("/health")).status_code != 503:
            assert time.monotonic() < deadline, health.text
            time.sleep(0.1)
        audit = health.json()["audit"]
        assert audit["status"] == "failing" and audit["pending"] >= 2  # login + query kept
        assert "audit store is down" in audit["last_error"]
        metrics = http.get("/metrics").text
        assert "chainlens_audit_failing 1.0" in metrics
    # They were held for the next try, never half-written (the last flush failed too).
    assert not read_audit_events(db, database, username="unaudited", limit=5)


def test_secrets_are_hidden_at_every_depth_and_values_bounded() -> None:
    event = new_event(
        username="x" * 1000, roles=["analyst"], kind="graphql", decision="allowed",
        variables={"input": {"list": [{"Password": "p"}] * 3, "note": "n" * 10_000,
                             "nested": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {}}}}}}}}}},
    )  # fmt: skip
    assert event.variables is not None and '"p"' not in event.variables
    variables = json.loads(event.variables.rstrip("…"))
    assert variables["input"]["list"][0]["Password"] == "***"
    assert len(variables["input"]["note"]) <= 201
    assert len(event.username) <= 201
