"""The API skeleton over HTTP: authentication, roles, core queries, health and metrics."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from neo4j import Driver

from api.security import Role
from tests.api.conftest import PASSWORD, gql

ENTERPRISE_QUERY = """
query($id: ID!) { enterprise(id: $id) { id name uscc isCore registeredCapital foundedOn
  neighbourhood { relationship outgoing label id name properties } } }
"""


def seed(db: Driver, database: str) -> None:
    db.execute_query(
        """
        CREATE (a:Enterprise {id: 'E1', name: '内蒙古草原牧歌牧业有限公司',
                name_en: 'Caoyuan Muge Co., Ltd.',
                uscc: '91150100MA0N0X1X2A', is_core: true, registered_capital: 500000000000,
                founded_on: date('2003-05-01')})
        CREATE (b:Enterprise {id: 'E2', name: '锡林郭勒牧歌肉业有限公司', is_core: false})
        CREATE (c:Enterprise {id: 'E3', name: '宁波拓博贸易有限公司', is_core: false})
        CREATE (b)-[:SUPPLIES {amount_12m: 1200000}]->(a)
        CREATE (p:Person {id: 'P1', name: '王建国'})-[:HOLDS {pct: 51.0}]->(a)
        """,
        database_=database,
    )


def test_unauthenticated_requests_get_401(client: httpx.Client, db: Driver) -> None:
    response = client.post("/graphql", json={"query": "{ stats { nodes { name count } } }"})
    assert response.status_code == 401
    assert client.get("/me").status_code == 401
    bad = client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": "Bearer not-a-jwt"}
    )
    assert bad.status_code == 401


def test_wrong_password_gets_401(
    client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    login(Role.ANALYST, username="alice")
    response = client.post("/auth/token", json={"username": "alice", "password": PASSWORD + "x"})
    assert response.status_code == 401
    assert (
        client.post("/auth/token", json={"username": "nobody", "password": PASSWORD}).status_code
        == 401
    )


def test_password_is_stored_hashed(
    db: Driver, database: str, login: Callable[..., dict[str, str]]
) -> None:
    login(Role.ANALYST, username="bob")
    records, _, _ = db.execute_query(
        "MATCH (u:User {username: 'bob'}) RETURN u.password_hash AS h", database_=database
    )
    assert records[0]["h"].startswith("$argon2id$")
    assert PASSWORD not in records[0]["h"]


def test_wrong_role_gets_403(client: httpx.Client, login: Callable[..., dict[str, str]]) -> None:
    query = "{ users { username roles } }"
    analyst = login(Role.ANALYST)
    denied = gql(client, analyst, query)
    assert denied.status_code == 403
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    admin = login(Role.ADMIN, username="root")
    allowed = gql(client, admin, query)
    assert allowed.status_code == 200
    users = {u["username"]: u["roles"] for u in allowed.json()["data"]["users"]}
    assert users["root"] == ["admin"] and users["user-analyst"] == ["analyst"]


def test_enterprise_with_neighbourhood(
    client: httpx.Client, db: Driver, database: str, login: Callable[..., dict[str, str]]
) -> None:
    seed(db, database)
    headers = login(Role.ANALYST)
    response = gql(client, headers, ENTERPRISE_QUERY, id="E1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    e = body["data"]["enterprise"]
    assert e["name"] == "内蒙古草原牧歌牧业有限公司"
    assert e["isCore"] is True
    assert e["registeredCapital"] == 500000000000  # beyond 32-bit Int: BigInt
    assert e["foundedOn"] == "2003-05-01"
    by_id = {n["id"]: n for n in e["neighbourhood"]}
    assert by_id["E2"]["relationship"] == "SUPPLIES" and by_id["E2"]["outgoing"] is False
    assert by_id["P1"]["relationship"] == "HOLDS" and by_id["P1"]["properties"]["pct"] == 51.0


def test_unknown_enterprise_is_a_clear_error(
    client: httpx.Client, db: Driver, login: Callable[..., dict[str, str]]
) -> None:
    headers = login(Role.ANALYST)
    body = gql(client, headers, ENTERPRISE_QUERY, id="NOPE").json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == "no enterprise with id 'NOPE'"
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_search_with_cursor_pagination(
    client: httpx.Client, db: Driver, database: str, login: Callable[..., dict[str, str]]
) -> None:
    seed(db, database)
    db.execute_query("CALL db.awaitIndexes(60)", database_=database)
    headers = login(Role.RELATIONSHIP_MANAGER)
    query = """query($t: String!, $after: String) {
      searchEnterprises(text: $t, first: 1, after: $after) {
      edges { cursor node { id name } } pageInfo { endCursor hasNextPage } } }"""
    first = gql(client, headers, query, t="牧歌").json()["data"]["searchEnterprises"]
    assert len(first["edges"]) == 1 and first["pageInfo"]["hasNextPage"] is True
    second = gql(client, headers, query, t="牧歌", after=first["pageInfo"]["endCursor"]).json()
    page2 = second["data"]["searchEnterprises"]
    assert len(page2["edges"]) == 1 and page2["pageInfo"]["hasNextPage"] is False
    ids = {first["edges"][0]["node"]["id"], page2["edges"][0]["node"]["id"]}
    assert ids == {"E1", "E2"}
    by_uscc = gql(client, headers, query, t="91150100MA0N0X1X2A").json()["data"][
        "searchEnterprises"
    ]
    assert [e["node"]["id"] for e in by_uscc["edges"]] == ["E1"]
    bad = gql(client, headers, query, t="牧歌", after="%%%").json()
    assert bad["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_stats_counts_labels(
    client: httpx.Client, db: Driver, database: str, login: Callable[..., dict[str, str]]
) -> None:
    seed(db, database)
    headers = login(Role.CREDIT_OFFICER)
    body = gql(
        client, headers, "{ stats { nodes { name count } relationships { name count } } }"
    ).json()
    nodes = {c["name"]: c["count"] for c in body["data"]["stats"]["nodes"]}
    rels = {c["name"]: c["count"] for c in body["data"]["stats"]["relationships"]}
    assert nodes["Enterprise"] == 3 and nodes["Person"] == 1 and nodes["User"] == 1
    assert rels == {"SUPPLIES": 1, "HOLDS": 1}


def test_health_and_metrics(client: httpx.Client, db: Driver) -> None:
    assert client.get("/health").json() == {"status": "ok", "neo4j": "ok"}
    client.get("/health")
    metrics = client.get("/metrics").text
    assert 'chainlens_http_requests_total{method="GET",route="/health",status="200"}' in metrics


def test_every_response_carries_its_correlation_id(client: httpx.Client) -> None:
    given = client.get("/health", headers={"x-request-id": "cid-given-1"})
    assert given.headers["x-request-id"] == "cid-given-1"
    made = {client.get("/health").headers["x-request-id"] for _ in range(2)}
    assert len(made) == 2 and all(len(c) == 32 and int(c, 16) >= 0 for c in made)
    unknown = client.get("/no-such-route")
    assert unknown.status_code == 404 and unknown.headers["x-request-id"]
    metrics = client.get("/metrics").text
    assert 'chainlens_http_requests_total{method="GET",route="unmatched",status="404"}' in metrics
