"""Each user's budget of estimated cost (issue 25's load probe): one client sending the
heaviest operations the cost limit allows is slowed to the budget's rate with 429 and a
Retry-After, while another user's requests are not touched."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import httpx
import pytest
from neo4j import Driver

from api.security import Role
from chainlens.settings import Settings
from tests.api.serving import serve, token_headers
from tests.api.test_limits import cost_of

pytestmark = pytest.mark.neo4j

# Each explore below costs about 400 of a budget of 1,000 that refills at 60 a minute (one a
# second): two pass at once, the third waits. Operations under 100 spend nothing.
BUDGET = {"graphql_max_cost": 1_000, "graphql_cost_burst": 1_000, "graphql_cost_per_minute": 60,
          "graphql_cost_budget_from": 100}  # fmt: skip
HEAVY = """query Heavy { explore(ids: ["E1"], maxNodes: 500, hops: 2) { nodes { id } } }"""
LIGHT = """query Light { enterprise(id: "E1") { id } }"""


@pytest.fixture(scope="module")
def budget_url(api_settings: Settings, driver: Driver) -> Iterator[str]:
    with serve(api_settings.model_copy(update=BUDGET), driver) as url:
        yield url


def test_a_user_past_its_cost_budget_waits_and_others_do_not(
    budget_url: str, db: Driver, database: str
) -> None:
    db.execute_query("CREATE (:Enterprise {id: 'E1', name: '包头钢铁'})", database_=database)
    heavy_cost = cost_of(HEAVY)
    assert 300 < heavy_cost <= 500 and cost_of(LIGHT) < 10
    with httpx.Client(base_url=budget_url, timeout=30) as client:
        heavy = token_headers(client, db, database, "budget-heavy", Role.ANALYST)
        other = token_headers(client, db, database, "budget-other", Role.ANALYST)
        started = time.monotonic()
        answers = [client.post("/graphql", json={"query": HEAVY}, headers=heavy)
                   for _ in range(3)]  # fmt: skip
        elapsed = time.monotonic() - started
        assert [a.status_code for a in answers] == [200, 200, 429]
        refused = answers[-1].json()
        assert refused["data"] is None
        error = refused["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert f"costs {heavy_cost}" in error["message"] and "retry in" in error["message"]
        # 1,000 - 2 x cost left; one unit a second: the wait is what is missing, less what
        # refilled while the three requests ran (at most `elapsed` units), rounded up.
        missing = heavy_cost - (1_000 - 2 * heavy_cost)
        retry_after = int(answers[-1].headers["Retry-After"])
        assert max(1, missing - math.ceil(elapsed)) <= retry_after <= missing + 1, (
            retry_after, missing, elapsed)  # fmt: skip
        assert error["extensions"]["retry_after"] == retry_after
        # Another user's budget is its own, and cheap queries spend nothing: many still pass.
        assert client.post("/graphql", json={"query": HEAVY}, headers=other).status_code == 200
        for _ in range(20):
            light = client.post("/graphql", json={"query": LIGHT}, headers=heavy)
            assert light.status_code == 200 and light.json()["data"]["enterprise"] == {"id": "E1"}
