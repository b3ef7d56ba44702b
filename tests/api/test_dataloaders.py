"""List queries make a bounded number of database round trips, whatever the list's length.

The app under test gets a driver that counts every `execute_query` and every transaction it
runs; the same query over 3 and over 30 enterprises must cost the same few round trips.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from neo4j import Driver

from api.security import Role
from chainlens.settings import Settings
from tests.api.serving import CountingDriver, serve, token_headers

LIST_QUERY = """query($t: String!, $n: Int!) {
  searchEnterprises(text: $t, first: $n) {
    edges { node { id name neighbourhood(limit: 10) { id relationship } } } } }"""


@pytest.fixture(scope="module")
def counting(api_settings: Settings, driver: Driver) -> Iterator[tuple[str, CountingDriver]]:
    # The audit trail flushes on its own thread, and the token check reads the user once a
    # cache period: keep both out of the window being counted.
    settings = api_settings.model_copy(
        update={"audit_flush_s": 3600.0, "token_version_cache_s": 3600.0}
    )
    proxy = CountingDriver(driver)
    with serve(settings, proxy) as url:
        yield url, proxy


def seed_chain(db: Driver, database: str, n: int) -> None:
    """n suppliers named 链条企业 i, each supplying the core and holding a person."""
    db.execute_query(
        """
        CREATE (core:Enterprise {id: 'CORE', name: '核心总厂', is_core: true})
        WITH core
        UNWIND range(1, $n) AS i
        CREATE (s:Enterprise {id: 'S' + i, name: '链条企业' + i, is_core: false})
        CREATE (s)-[:SUPPLIES {amount_12m: i * 1000}]->(core)
        CREATE (:Person {id: 'P' + i, name: '股东' + i})-[:HOLDS {pct: 60.0}]->(s)
        """,
        n=n,
        database_=database,
    )
    db.execute_query("CALL db.awaitIndexes(60)", database_=database)


def round_trips(
    client: httpx.Client, proxy: CountingDriver, headers: dict[str, str], n: int
) -> tuple[int, list[dict[str, object]]]:
    proxy.reset()
    response = client.post(
        "/graphql", json={"query": LIST_QUERY, "variables": {"t": "链条企业", "n": n}},
        headers=headers,
    )  # fmt: skip
    body = response.json()
    assert "errors" not in body, body
    return proxy.reset(), [e["node"] for e in body["data"]["searchEnterprises"]["edges"]]


def test_list_query_round_trips_do_not_grow_with_the_list(
    counting: tuple[str, CountingDriver], db: Driver, database: str
) -> None:
    url, proxy = counting
    seed_chain(db, database, 30)
    with httpx.Client(base_url=url, timeout=30) as client:
        headers = token_headers(client, db, database, "loader-analyst", Role.ANALYST)
        small, few = round_trips(client, proxy, headers, 3)
        large, many = round_trips(client, proxy, headers, 30)
    assert len(few) == 3 and len(many) == 30
    # Every supplier shows its two relationships: the core it supplies and its holder.
    for node in many:
        assert {(x["relationship"], x["id"][0]) for x in node["neighbourhood"]} == {  # type: ignore[index, union-attr]
            ("SUPPLIES", "C"), ("HOLDS", "P")}  # fmt: skip
    # search + one batched enterprise load + one batched neighbourhood load.
    assert small == large == 3


def test_explore_costs_one_round_trip_per_hop_plus_two(
    counting: tuple[str, CountingDriver], db: Driver, database: str
) -> None:
    url, proxy = counting
    seed_chain(db, database, 12)
    query = """query($ids: [ID!]!, $hops: Int!) {
      explore(ids: $ids, layers: [TRADE, EQUITY], hops: $hops, maxNodes: 1000) {
        nodes { id hop } edges { source target type } truncated } }"""
    with httpx.Client(base_url=url, timeout=30) as client:
        headers = token_headers(client, db, database, "explore-analyst", Role.ANALYST)
        proxy.reset()
        body = client.post(
            "/graphql", json={"query": query, "variables": {"ids": ["CORE"], "hops": 2}},
            headers=headers,
        ).json()  # fmt: skip
        calls = proxy.reset()
    graph = body["data"]["explore"]
    hops = {n["id"]: n["hop"] for n in graph["nodes"]}
    assert hops["CORE"] == 0 and hops["S1"] == 1 and hops["P1"] == 2
    assert len(hops) == 1 + 12 + 12 and graph["truncated"] is False
    assert {"source": "P3", "target": "S3", "type": "HOLDS"} in graph["edges"]
    assert len(graph["edges"]) == 24
    assert calls == 1 + 2 + 1  # the seeds, one per hop, the links among the last hop


LINEAGE_QUERY = """query($t: String!, $n: Int!) {
  searchEnterprises(text: $t, first: $n) {
    edges { node { id sourceRecords { recordId score } branchOf { id } branches { id } } } } }"""


def test_lineage_fields_of_a_list_are_batched(
    counting: tuple[str, CountingDriver], db: Driver, database: str
) -> None:
    """`sourceRecords`, `branchOf` and `branches` load for the whole list at once."""
    url, proxy = counting
    seed_chain(db, database, 30)
    db.execute_query(
        """
        MATCH (s:Enterprise) WHERE s.id STARTS WITH 'S'
        CREATE (:SourceRecord {id: 'R-' + s.id, source: 'registry', name: s.name})
               -[:RESOLVES_TO {score: 0.97}]->(s)
        WITH s WHERE s.id IN ['S2', 'S3']
        MATCH (parent:Enterprise {id: 'S1'})
        CREATE (s)-[:BRANCH_OF]->(parent)
        """,
        database_=database,
    )
    with httpx.Client(base_url=url, timeout=30) as client:
        headers = token_headers(client, db, database, "lineage-analyst", Role.ANALYST)
        calls = {}
        for n in (3, 30):
            proxy.reset()
            body = client.post(
                "/graphql", json={"query": LINEAGE_QUERY, "variables": {"t": "链条企业", "n": n}},
                headers=headers,
            ).json()  # fmt: skip
            calls[n] = proxy.reset()
            assert "errors" not in body, body
    nodes = {e["node"]["id"]: e["node"] for e in body["data"]["searchEnterprises"]["edges"]}
    assert len(nodes) == 30
    assert all(n["sourceRecords"] == [{"recordId": f"R-{i}", "score": 0.97}]
               for i, n in nodes.items())  # fmt: skip
    assert {b["id"] for b in nodes["S1"]["branches"]} == {"S2", "S3"}
    assert nodes["S2"]["branchOf"] == {"id": "S1"} and nodes["S4"]["branchOf"] is None
    # Search, the listed enterprises, their source records, their branch links, and the
    # linked enterprises not listed already: at most five, for 3 enterprises as for 30 (at 30
    # the branches are in the list, so the last one is not needed).
    assert calls[3] <= 5 and calls[30] <= 5, calls
