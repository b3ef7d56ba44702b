"""A real GraphQL client (gql, over httpx) runs the README's example queries exactly as written,
against the app over a small hand-built chain with known answers:

    T3 -> T2 -> T1 -> CORE (SUPPLIES, 10 invoices a year since January)
    T1 <-> G (guarantees each other: a circle of two)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from neo4j import Driver

from api.graphql.schema import build_schema
from api.security import Role
from chainlens.settings import PROJECT_ROOT, Settings


def readme_queries() -> dict[str, str]:
    """The ```graphql blocks of the README's "Example queries" section, by operation name."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Example queries", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```graphql\n(.*?)```", section, flags=re.S)
    named = {}
    for block in blocks:
        match = re.search(r"^query (\w+)", block, flags=re.M)
        assert match, block
        named[match.group(1)] = block
    return named


def seed(db: Driver, database: str) -> None:
    db.execute_query(
        """
        CREATE (core:Enterprise {id: 'CORE', name: '伊利乳业核心厂', uscc: '91150100MA0N0X1X2A',
                is_core: true, registered_capital: 800000000000, founded_on: date('1993-06-01'),
                fraud_score: 0.02, default_score: 0.05})
        CREATE (t1:Enterprise {id: 'T1', name: '呼和浩特奶源公司', fraud_score: 0.1})
        CREATE (t2:Enterprise {id: 'T2', name: '土默特左旗牧场', fraud_score: 0.2})
        CREATE (t3:Enterprise {id: 'T3', name: '武川饲草合作社', fraud_score: 0.1})
        CREATE (g:Enterprise {id: 'G', name: '托克托担保企业'})
        WITH *
        UNWIND [[t1, core, 9000000], [t2, t1, 3000000], [t3, t2, 800000]] AS link
        WITH link[0] AS s, link[1] AS b, link[2] AS amount, t1, g
        CREATE (s)-[:SUPPLIES {amount_12m: amount, invoices_12m: 10,
                first_on: date('2025-01-10'), last_on: date('2025-12-10')}]->(b)
        WITH DISTINCT t1, g
        CREATE (t1)-[:GUARANTEES {id: 'GU1', amount: 5000000}]->(g)
        CREATE (g)-[:GUARANTEES {id: 'GU2', amount: 4000000}]->(t1)
        """,
        database_=database,
    )
    db.execute_query("CALL db.awaitIndexes(60)", database_=database)


@functools.cache
def sdl() -> str:
    """The schema as `chainlens schema` prints it (introspection is off outside development)."""
    return str(build_schema(Settings()))


def run(url: str, headers: dict[str, str], query: str, **variables: Any) -> dict[str, Any]:
    transport = HTTPXTransport(url=url + "/graphql", headers=headers, timeout=60)
    with Client(transport=transport, schema=sdl()) as session:
        # The client validates the query against the app's schema before sending it.
        result: dict[str, Any] = session.execute(GraphQLRequest(query, variable_values=variables))
    return result


def test_readme_has_the_example_queries() -> None:
    assert set(readme_queries()) == {
        "Search", "EnterpriseCard", "Upstream", "PathToCore", "Explore", "Prospects", "Denied",
    }  # fmt: skip


def test_readme_queries_run_in_the_gql_client(
    api_url: str, db: Driver, database: str, login: Callable[..., dict[str, str]]
) -> None:
    seed(db, database)
    queries = readme_queries()
    analyst = login(Role.ANALYST)
    rm = login(Role.RELATIONSHIP_MANAGER)
    admin = login(Role.ADMIN, username="client-admin")

    found = run(api_url, analyst, queries["Search"], text="伊利")["searchEnterprises"]
    assert [e["node"]["id"] for e in found["edges"]] == ["CORE"]
    assert run(api_url, analyst, queries["Search"], text="91150100MA0N0X1X2A")["searchEnterprises"][
        "edges"
    ][0]["node"]["isCore"]

    card = run(api_url, analyst, queries["EnterpriseCard"], id="T1")
    assert card["enterprise"]["name"] == "呼和浩特奶源公司"
    assert {n["id"] for n in card["enterprise"]["neighbourhood"]} == {"CORE", "T2", "G"}
    assert card["guaranteeCircle"]["size"] == 2
    assert set(card["guaranteeCircle"]["members"]) == {"T1", "G"}
    assert card["groupExposure"]["total"] >= 0
    core_card = run(api_url, analyst, queries["EnterpriseCard"], id="CORE")["enterprise"]
    assert core_card["registeredCapital"] == 800000000000 and core_card["foundedOn"] == "1993-06-01"

    up = run(api_url, analyst, queries["Upstream"], id="CORE")["tiers"]
    assert up["perTier"] == [1, 1, 1]
    assert [(e["node"]["id"], e["node"]["tier"]) for e in up["firms"]["edges"]] == [
        ("T1", 1), ("T2", 2), ("T3", 3)]  # fmt: skip
    assert up["firms"]["edges"][0]["node"]["volume"] == 9000000

    path = run(api_url, analyst, queries["PathToCore"], **{"from": "T3", "to": "CORE"})
    assert path["shortestTradePath"]["ids"] == ["T3", "T2", "T1", "CORE"]
    assert path["shortestTradePath"]["length"] == 3

    graph = run(api_url, analyst, queries["Explore"], id="T1")["explore"]
    assert {n["id"] for n in graph["nodes"]} == {"T1", "CORE", "T2", "G", "T3"}
    assert {"source": "G", "target": "T1", "type": "GUARANTEES", "amount": 4000000} in graph[
        "edges"
    ]

    prospects = run(api_url, rm, queries["Prospects"], core="CORE")["prospects"]
    assert [(p["id"], p["tier"]) for p in prospects] == [("T2", 2), ("T3", 3)]
    assert all(p["reason"] for p in prospects)

    # The analyst may not read the audit log; its attempt is what the admin then finds.
    with pytest.raises(TransportQueryError) as denied:
        run(api_url, analyst, queries["Denied"])
    assert denied.value.errors and denied.value.errors[0]["extensions"]["code"] == "FORBIDDEN"
    events = run(api_url, admin, queries["Denied"])["auditEvents"]["edges"]
    assert any(
        e["node"]["username"] == "user-analyst" and e["node"]["fields"] == ["auditEvents"]
        for e in events
    )
