"""Analytics over GraphQL: pagination, limits, errors and roles, on a small hand-built graph."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from neo4j import Driver

from api.security import Role
from tests.api.conftest import gql

SEED = """
UNWIND ['C', 'A', 'B', 'D', 'E', 'F', 'G'] AS id
CREATE (:Enterprise {id: id, name: 'Firm ' + id});
UNWIND [['A', 'C', 600], ['B', 'C', 400], ['D', 'A', 100], ['D', 'B', 50], ['E', 'A', 300],
        ['F', 'E', 10], ['G', 'D', 20]] AS t
MATCH (s:Enterprise {id: t[0]}), (b:Enterprise {id: t[1]})
CREATE (s)-[:SUPPLIES {amount_12m: t[2], invoices_12m: 12, first_on: date('2024-01-05'),
                       last_on: date('2025-06-20')}]->(b);
MATCH (a:Enterprise {id: 'A'}), (b:Enterprise {id: 'B'})
CREATE (p:Person {id: 'P1', name: '王建国'})-[:HOLDS {pct: 60.0}]->(a)
CREATE (a)-[:HOLDS {pct: 50.0}]->(b)
CREATE (a)-[:GUARANTEES {id: 'G1', amount: 100}]->(b)
CREATE (b)-[:GUARANTEES {id: 'G2', amount: 200}]->(a)
"""

TIERS = """
query($id: ID!, $first: Int!, $after: String, $depth: Int!) {
  tiers(id: $id, depth: $depth, first: $first, after: $after) {
    focalId perTier truncated
    firms { totalCount pageInfo { endCursor hasNextPage }
            edges { cursor node { id tier volume share links { counterpartyId amount12m } } } }
  }
}
"""


def _seed(db: Driver, database: str) -> None:
    for statement in SEED.split(";"):
        if statement.strip():
            db.execute_query(statement, database_=database)


def _data(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, response.text
    return dict(body["data"])


def test_tiers_paginate_with_cursors(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    _seed(db, database)
    headers = login(Role.ANALYST)
    first = _data(gql(client, headers, TIERS, id="C", first=4, depth=5))["tiers"]
    assert first["perTier"] == [2, 2, 2, 0, 0]
    page = first["firms"]
    assert page["totalCount"] == 6 and page["pageInfo"]["hasNextPage"]
    assert [e["node"]["id"] for e in page["edges"]] == ["A", "B", "E", "D"]
    assert page["edges"][0]["node"]["volume"] == 600
    rest = _data(gql(client, headers, TIERS, id="C", first=4, depth=5,
                     after=page["pageInfo"]["endCursor"]))["tiers"]["firms"]  # fmt: skip
    assert [e["node"]["id"] for e in rest["edges"]] == ["G", "F"]
    assert not rest["pageInfo"]["hasNextPage"]


def test_limits_and_unknown_ids_are_clear_errors(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    _seed(db, database)
    headers = login(Role.ANALYST)
    for variables, code in (
        ({"id": "C", "first": 10, "depth": 6}, "BAD_REQUEST"),
        ({"id": "C", "first": 201, "depth": 5}, "BAD_REQUEST"),
        ({"id": "NOPE", "first": 10, "depth": 5}, "NOT_FOUND"),
    ):
        body = gql(client, headers, TIERS, **variables).json()
        assert body["errors"][0]["extensions"]["code"] == code, body
    paths = gql(client, headers, "{ tradePaths(fromId: \"G\", toId: \"C\", maxLength: 9) "
                "{ totalCount } }").json()  # fmt: skip
    assert paths["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_ownership_guarantees_and_roles(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    _seed(db, database)
    analyst = login(Role.ANALYST)
    query = """{ ownership(id: "B") { totalCount edges { node { id kind effectivePct ultimate } } }
                 actualController(id: "B") { controller { holderId } stopped }
                 guaranteeCircle(id: "A") { id members totalAmount cycles { members } }
                 tradePaths(fromId: "G", toId: "C") { totalCount edges { node { ids } } } }"""
    data = _data(gql(client, analyst, query))
    owners = {e["node"]["id"]: e["node"] for e in data["ownership"]["edges"]}
    assert owners["P1"]["effectivePct"] == "30.0000" and owners["P1"]["ultimate"]
    # A holds 50% of B (largest, no majority), P1 holds 60% of A (majority)
    assert data["actualController"] == {"controller": {"holderId": "P1"}, "stopped": "top"}
    assert data["guaranteeCircle"] == {"id": "GC-A", "members": ["A", "B"], "totalAmount": 300,
                                       "cycles": [{"members": ["A", "B"]}]}  # fmt: skip
    assert [e["node"]["ids"] for e in data["tradePaths"]["edges"]] == [
        ["G", "D", "A", "C"], ["G", "D", "B", "C"],
    ]  # fmt: skip

    manager = login(Role.RELATIONSHIP_MANAGER)
    scan = "{ guaranteeCircles { totalCount } }"
    denied = gql(client, manager, scan)
    assert denied.status_code == 403
    assert _data(gql(client, analyst, scan))["guaranteeCircles"]["totalCount"] == 1
    prospects = _data(gql(client, manager, '{ prospects(coreId: "C") { id tier reason } }'))
    assert [p["id"] for p in prospects["prospects"]] == ["E", "D", "G", "F"]
