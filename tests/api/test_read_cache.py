"""The API's read cache of enterprise cards (graph/cache.py) over HTTP, on an app of its own
with the cache on: a card is served from the cache until a write; a write through the API
(a GraphQL mutation, a write request outside GraphQL) shows in the very next card read; a
write made behind the API's back (another process) shows only when the entry expires."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from neo4j import Driver
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from api.read_cache import WritesEmptyReadCache
from api.security import Role
from chainlens.settings import Settings
from graph.cache import ReadCache
from tests.api.conftest import gql
from tests.api.serving import CountingDriver, serve, token_headers
from tests.finance.conftest import CHAIN, build

pytestmark = pytest.mark.neo4j

# The card of bench/api.py.
CARD = """query Card($id: ID!) {
  enterprise(id: $id) { id name uscc fraudScore defaultScore registeredCapital
    neighbourhood(limit: 20) { relationship outgoing id name } }
  groupExposure(id: $id, first: 5) { financings financed total }
}"""
ENTERPRISE_PART = """query($id: ID!) { enterprise(id: $id) { id name
  neighbourhood(limit: 20) { relationship id } } }"""
GRANT = """mutation($input: GrantCreditLineInput!) { grantCreditLine(input: $input) { id } }"""


@pytest.fixture
def cached_api(api_settings: Settings, db: Driver) -> Iterator[httpx.Client]:
    """An app whose card cache keeps entries a minute: a stale answer cannot expire during
    the test, so only invalidation can make a write show."""
    settings = api_settings.model_copy(update={"read_cache_ttl_s": 60.0})
    with serve(settings, db) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def card(client: httpx.Client, headers: dict[str, str], eid: str) -> dict[str, Any]:
    response = gql(client, headers, CARD, id=eid)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def test_a_write_through_the_api_shows_in_the_next_card_read(
    cached_api: httpx.Client, db: Driver, database: str
) -> None:
    build(db, database, CHAIN)
    reader = token_headers(cached_api, db, database, "card-reader", Role.ANALYST, Role.SERVICE)
    admin = token_headers(cached_api, db, database, "card-admin", Role.ADMIN)
    first = card(cached_api, reader, "T1")
    assert first["groupExposure"]["financed"] == 0
    assert "GRANTED_TO" not in {n["relationship"] for n in first["enterprise"]["neighbourhood"]}

    # Behind the API's back (as the CLI or another worker would write): the cached card
    # stays as it was, which is what shows that cards are served from the cache.
    db.execute_query("""
        MATCH (e:Enterprise {id: 'T1'}) SET e.name = 'Renamed Elsewhere'
        CREATE (:Financing {id: 'F-ELSEWHERE', status: 'active', outstanding_minor: 300000000})
               -[:BORROWER]->(e)""", database_=database)  # fmt: skip
    stale = card(cached_api, reader, "T1")
    assert stale["enterprise"]["name"] == "Tier One Parts"
    assert stale["groupExposure"]["financed"] == 0

    # A mutation: the line granted to T1 is in its neighbourhood at the next read, and the
    # write made elsewhere shows too (the whole cache is emptied): firmographics, group
    # exposure and neighbourhood alike.
    grant = gql(cached_api, admin, GRANT, input={
        "id": "L-T1", "enterpriseId": "T1", "kind": "enterprise", "limit": 900_000_000,
        "currency": "CNY", "expiresOn": date(2099, 1, 1).isoformat()})  # fmt: skip
    assert "errors" not in grant.json(), grant.text
    fresh = card(cached_api, reader, "T1")
    assert fresh["enterprise"]["name"] == "Renamed Elsewhere"
    assert fresh["groupExposure"]["financings"] == 1
    assert fresh["groupExposure"]["financed"] == 300_000_000
    assert {("GRANTED_TO", "L-T1"), ("BORROWER", "F-ELSEWHERE")} <= {
        (n["relationship"], n["id"]) for n in fresh["enterprise"]["neighbourhood"]
    }

def test_a_write_request_outside_graphql_empties_the_cache() -> None:
    cache = ReadCache(ttl_s=60)

    async def ok(_: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def fails(_: Request) -> PlainTextResponse:
        raise RuntimeError("half-way")

    app = Starlette(routes=[
        Route("/documents", ok, methods=["GET", "POST"]), Route("/graphql", ok, methods=["POST"]),
        Route("/auth/token", ok, methods=["POST"]), Route("/broken", fails, methods=["POST"]),
    ])  # fmt: skip
    client = TestClient(WritesEmptyReadCache(app, cache), raise_server_exceptions=False)
    cache.put("card", 1, cache.generation)
    client.get("/documents")
    client.post("/graphql")  # its mutations are the extension's; its queries write nothing
    client.post("/auth/token")
    assert cache.get("card") == (True, 1)
    client.post("/documents")
    assert cache.get("card") == (False, None)
    cache.put("card", 2, cache.generation)
    assert client.post("/broken").status_code == 500  # a failed write may have written a part
    assert cache.get("card") == (False, None)


def test_the_cards_enterprise_and_neighbourhood_are_one_round_trip_then_none(
    api_settings: Settings, db: Driver, database: str
) -> None:
    build(db, database, CHAIN)
    # The audit trail and the token check stay out of the window being counted.
    settings = api_settings.model_copy(update={"read_cache_ttl_s": 60.0, "audit_flush_s": 3600.0,
                                               "token_version_cache_s": 3600.0})  # fmt: skip
    proxy = CountingDriver(db)
    with serve(settings, proxy) as url, httpx.Client(base_url=url, timeout=30) as client:
        reader = token_headers(client, db, database, "card-counter", Role.ANALYST)
        gql(client, reader, ENTERPRISE_PART, id="C")  # the token's first check, outside
        counts = []
        for _ in range(2):
            proxy.reset()
            body = gql(client, reader, ENTERPRISE_PART, id="T1").json()
            assert "errors" not in body, body
            counts.append(proxy.calls)
    assert body["data"]["enterprise"]["name"] == "Tier One Parts"
    assert {("SUPPLIES", "C"), ("SUPPLIES", "T2")} <= {
        (n["relationship"], n["id"]) for n in body["data"]["enterprise"]["neighbourhood"]
    }
    assert counts == [1, 0]  # one query, then the cache
