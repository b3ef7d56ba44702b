"""Guards on what one request may cost the database (issue 25): the cost model prices
``explore`` by the nodes and hops it may reach, so the traversal that ran 3.3 s is refused
before it starts (alone, aliased or batched), and every read the API makes for a client ends
on the server after ``CHAINLENS_NEO4J_TX_TIMEOUT_S``."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver, RoutingControl

from api.read_timeout import QueryTimedOut, ReadTimeoutDriver
from api.security import Role
from tests.api.test_limits import cost_of

EXPLORE = """query($n: Int!, $h: Int!) {
  explore(ids: ["E1"], maxNodes: $n, hops: $h) { nodes { id } truncated } }"""
ROOT = Path(__file__).resolve().parents[2]
# Counting two billion rows takes far longer than any timeout here.
ENDLESS = "UNWIND range(1, 2000000000) AS x RETURN count(x) AS n"


def codes(body: dict[str, Any]) -> list[str]:
    return [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]


def test_explore_is_priced_by_its_reach() -> None:
    small = cost_of('{ explore(ids: ["E1"]) { nodes { id } } }')
    assert small < 300
    assert cost_of(EXPLORE, {"n": 20_000, "h": 4}) > 20_000 > cost_of(EXPLORE, {"n": 5_000, "h": 2})
    # The web explorer's own query (api/web/src/queries.js) at its deepest setting still fits.
    text = (ROOT / "api" / "web" / "src" / "queries.js").read_text(encoding="utf-8")
    subgraph = re.search(r"const SUBGRAPH = `([^`]*)`", text)
    explorer = re.search(r"export const EXPLORE = `([^`]*)`", text)
    max_nodes = re.search(r"const MAX_NODES = (\d+);", (ROOT / "api/web/src/main.js").read_text())
    assert subgraph and explorer and max_nodes
    query = explorer.group(1).replace("${SUBGRAPH}", subgraph.group(1))
    variables = {"ids": ["E1"], "hops": 3, "maxNodes": int(max_nodes.group(1))}
    assert cost_of(query, variables) <= 20_000


def test_an_over_cost_traversal_is_refused_before_it_runs(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    db.execute_query("CREATE (:Enterprise {id: 'E1', name: '包头钢铁'})", database_=database)
    analyst = login(Role.ANALYST, username="guard-analyst")
    big = client.post("/graphql", json={"query": EXPLORE, "variables": {"n": 20_000, "h": 4}},
                      headers=analyst)  # fmt: skip
    assert big.status_code < 500
    body = big.json()
    assert body.get("data") is None and codes(body) == ["COST_LIMIT"], body
    error = body["errors"][0]
    assert error["extensions"]["cost"] > error["extensions"]["limit"] == 20_000
    assert "estimated cost" in error["message"] and "smaller" in error["message"]
    # The same traversal within the budget runs.
    fine = client.post("/graphql", json={"query": EXPLORE, "variables": {"n": 5_000, "h": 2}},
                       headers=analyst).json()  # fmt: skip
    assert "errors" not in fine and fine["data"]["explore"]["nodes"] == [{"id": "E1"}]
    # Three aliases of a traversal that fits alone, in a batch of two: every operation is
    # refused, nothing runs.
    aliased = (
        "{ "
        + " ".join(
            f'a{i}: explore(ids: ["E1"], maxNodes: 20000, hops: 2) {{ nodes {{ id }} }}'
            for i in range(3)
        )
        + " }"
    )
    batch = client.post("/graphql", json=[{"query": aliased}, {"query": aliased}],
                        headers=analyst)  # fmt: skip
    assert batch.status_code < 500
    answers = batch.json()
    assert len(answers) == 2
    assert all(a.get("data") is None and codes(a) == ["COST_LIMIT"] for a in answers), answers


@pytest.mark.parametrize("how", ["execute_query", "execute_read"])
def test_a_runaway_read_is_stopped_by_the_server(driver: Driver, database: str, how: str) -> None:
    guarded = ReadTimeoutDriver(driver, timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(QueryTimedOut, match=r"longer than 0\.5 s"):
        if how == "execute_query":
            guarded.execute_query(ENDLESS, database_=database, routing_=RoutingControl.READ)
        else:
            with guarded.session(database=database) as session:
                session.execute_read(lambda tx: tx.run(ENDLESS).single())
    # Neo4j checks timeouts every couple of seconds; without one this runs for minutes.
    assert time.monotonic() - started < 20
    # Writes and quick reads are untouched.
    ok = guarded.execute_query("RETURN 1 AS n", database_=database, routing_=RoutingControl.READ)
    assert ok.records[0]["n"] == 1
