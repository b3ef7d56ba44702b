"""API hardening over HTTP: GraphQL depth, token, alias and cost limits, bounded batches,
introspection and masking in production, per-user rate limits, and the admin's audit log.

The app under test has tight limits of its own, so each limit is reached with a few requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, parse
from neo4j import Driver
from pydantic import SecretStr

from api.graphql.schema import build_schema
from api.limits import RateLimited, RateLimiter, estimate_cost
from api.security import Role
from chainlens.settings import Environment, Settings
from graph.driver import create_driver
from tests.api.conftest import PASSWORD
from tests.api.serving import serve, token_headers

TIGHT = {
    "graphql_max_depth": 4,
    "graphql_max_tokens": 120,
    "graphql_max_aliases": 2,
    "graphql_max_cost": 100,
    "graphql_max_batch": 3,
    "rate_limit_per_minute": 6,
    "rate_limit_burst": 8,
    "audit_flush_s": 0.2,
}


@pytest.fixture(scope="module")
def tight_settings(api_settings: Settings) -> Settings:
    return api_settings.model_copy(update=TIGHT)


@pytest.fixture(scope="module")
def tight_url(tight_settings: Settings, driver: Driver) -> Iterator[str]:
    with serve(tight_settings, driver) as url:
        yield url


@pytest.fixture
def tight(tight_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tight_url, timeout=30) as c:
        yield c


def seed(db: Driver, database: str) -> None:
    db.execute_query(
        """
        CREATE (a:Enterprise {id: 'E1', name: '包头钢铁', is_core: true})
        CREATE (b:Enterprise {id: 'E2', name: '包头稀土', is_core: false})
        CREATE (b)-[:SUPPLIES {amount_12m: 100}]->(a)
        """,
        database_=database,
    )


def post(client: httpx.Client, headers: dict[str, str], query: str, **variables: object) -> dict:  # type: ignore[type-arg]
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code in (200, 400, 403), response.text
    return response.json()  # type: ignore[no-any-return]


def messages(body: dict) -> str:  # type: ignore[type-arg]
    return " | ".join(e["message"] for e in body.get("errors", []))


def cost_of(query: str, variables: dict[str, object] | None = None) -> int:
    schema = build_schema(Settings(environment=Environment.TEST))._schema
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return estimate_cost(schema, document, operation, variables or {})


def test_cost_estimate_multiplies_by_page_sizes() -> None:
    query = """{ searchEnterprises(text: "x", first: 2) {
        edges { node { id neighbourhood(limit: 3) { id name } } } } }"""
    # id 1 + neighbourhood (1 + 3 x 2) = 8; node 1 + 8; edges 1 + 9; search 1 + 2 x 10.
    assert cost_of(query) == 21
    by_variable = """query($n: Int!) { searchEnterprises(text: "x", first: $n) {
        edges { node { id neighbourhood(limit: 3) { id name } } } } }"""
    assert cost_of(by_variable, {"n": 2}) == 21
    assert cost_of(by_variable, {"n": 200}) == 1 + 200 * 10
    # Defaults count: neighbourhood's limit defaults to 100.
    assert cost_of('{ enterprise(id: "E1") { neighbourhood { id } } }') == 1 + 1 + 100
    # Fragments are followed; scans carry their weight.
    with_fragment = """{ enterprise(id: "E1") { ...F } stats { nodes { name } } }
        fragment F on Enterprise { id name }"""
    assert cost_of(with_fragment) == (1 + 2) + (1 + 20 + 2)


def test_depth_tokens_aliases_and_cost_are_rejected_before_running(
    tight: httpx.Client, db: Driver, database: str
) -> None:
    seed(db, database)
    headers = token_headers(tight, db, database, "limits-analyst", Role.ANALYST)
    ok = post(tight, headers, '{ enterprise(id: "E1") { id name } }')
    assert ok["data"]["enterprise"]["name"] == "包头钢铁"

    too_deep = (
        '{ tiers(id: "E1", first: 1) { firms { edges { node { links { counterpartyId } } } } } }'
    )
    deep = post(tight, headers, too_deep)
    assert deep.get("data") is None and "exceeds maximum operation depth" in messages(deep)

    long_query = '{ enterprise(id: "E1") { ' + " ".join(["id"] * 150) + " } }"
    tokens = post(tight, headers, long_query)
    assert tokens.get("data") is None and "token" in messages(tokens).lower()

    aliases = post(tight, headers, '{ a: stats { nodes { name } } b: stats { nodes { name } } '
                                   'c: stats { nodes { name } } }')  # fmt: skip
    assert aliases.get("data") is None and "aliases" in messages(aliases)

    costly = post(
        tight, headers, 'query Big { enterprise(id: "E1") { neighbourhood(limit: 200) { id } } }'
    )
    assert costly.get("data") is None
    error = costly["errors"][0]
    assert error["extensions"]["code"] == "COST_LIMIT" and error["extensions"]["cost"] == 202
    cheap = post(tight, headers, '{ enterprise(id: "E1") { neighbourhood(limit: 5) { id } } }')
    assert [n["id"] for n in cheap["data"]["enterprise"]["neighbourhood"]] == ["E2"]
    # Validation is cached per document; the cost, which depends on the variables, is not.
    # (Another user: this one has spent its burst of requests.)
    headers = token_headers(tight, db, database, "limits-cache", Role.ANALYST)
    by_variable = 'query($n: Int!) { enterprise(id: "E1") { neighbourhood(limit: $n) { id } } }'
    for n, rejected in ((5, False), (500, True), (5, False), (500, True)):
        body = post(tight, headers, by_variable, n=n)
        codes = [e["extensions"]["code"] for e in body.get("errors", [])]
        assert codes == (["COST_LIMIT"] if rejected else []), (n, body)
    # A cached invalid document stays invalid.
    for _ in range(2):
        assert "exceeds maximum operation depth" in messages(post(tight, headers, too_deep))


def test_batches_are_bounded(tight: httpx.Client, db: Driver, database: str) -> None:
    seed(db, database)
    headers = token_headers(tight, db, database, "batch-analyst", Role.ANALYST)
    op = {"query": '{ enterprise(id: "E1") { id } }'}
    two = tight.post("/graphql", json=[op, op], headers=headers)
    assert two.status_code == 200
    assert [r["data"]["enterprise"]["id"] for r in two.json()] == ["E1", "E1"]
    too_many = tight.post("/graphql", json=[op] * 4, headers=headers)
    assert too_many.status_code == 400
    assert "too many operations" in too_many.text.lower()


def test_rate_limit_per_user_answers_429_with_retry_after(
    tight: httpx.Client, db: Driver, database: str
) -> None:
    alice = token_headers(tight, db, database, "rl-alice", Role.ANALYST)
    bob = token_headers(tight, db, database, "rl-bob", Role.ANALYST)
    query = {"query": "{ __typename }"}
    statuses = [tight.post("/graphql", json=query, headers=alice).status_code for _ in range(9)]
    assert statuses == [200] * 8 + [429]  # a burst of 8, then 6 a minute
    limited = tight.post("/graphql", json=query, headers=alice)
    assert limited.status_code == 429
    # One token every 10 s: the wait is 10 s less the time the requests above took (well
    # under 5 s even on a loaded machine), rounded up.
    assert 5 <= int(limited.headers["Retry-After"]) <= 10
    # Another user has a bucket of its own.
    assert tight.post("/graphql", json=query, headers=bob).status_code == 200


def test_failed_logins_are_rate_limited_per_username(
    tight: httpx.Client, db: Driver, database: str
) -> None:
    token_headers(tight, db, database, "guessed", Role.ANALYST)
    wrong = {"username": "guessed", "password": PASSWORD + "!"}
    statuses = []
    while len(statuses) < 15 and 429 not in statuses:
        statuses.append(tight.post("/auth/token", json=wrong).status_code)
    # 10 at once, then 10 a minute: argon2 makes each attempt slow enough to earn a few more.
    assert statuses[-1] == 429 and 10 <= statuses.count(401) <= 13
    blocked = tight.post("/auth/token", json={"username": "guessed", "password": PASSWORD})
    assert blocked.status_code == 429 and "Retry-After" in blocked.headers


def test_audit_log_records_decisions_and_is_admin_only(
    tight: httpx.Client, db: Driver, database: str
) -> None:
    seed(db, database)
    analyst = token_headers(tight, db, database, "audited", Role.ANALYST)
    admin = token_headers(tight, db, database, "auditor", Role.ADMIN)
    post(tight, analyst, 'query Card { enterprise(id: "E1") { id } }')
    denied = post(tight, analyst, "query Who { users { username } }")
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    post(tight, analyst, 'query Missing { enterprise(id: "NOPE") { id } }')
    query = """query($u: String) { auditEvents(username: $u, first: 8) {
        edges { node { username kind operation fields decision detail correlationId } } } }"""
    forbidden = post(tight, analyst, query, u="audited")
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = post(tight, admin, query, u="audited")
    events = [e["node"] for e in body["data"]["auditEvents"]["edges"]]
    by_op = {e["operation"]: e for e in events if e["kind"] == "graphql"}
    assert by_op["Card"]["decision"] == "allowed" and by_op["Card"]["fields"] == ["enterprise"]
    assert by_op["Who"]["decision"] == "denied" and by_op["Who"]["fields"] == ["users"]
    assert by_op["Missing"]["decision"] == "allowed" and by_op["Missing"]["detail"] == "NOT_FOUND"
    # The analyst's own forbidden look at the audit log is itself audited.
    assert by_op[None]["decision"] == "denied" and by_op[None]["fields"] == ["auditEvents"]
    logins = [e for e in events if e["kind"] == "login"]
    assert logins and logins[0]["decision"] == "allowed"
    assert all(e["correlationId"] for e in events)


@pytest.fixture(scope="module")
def production_url(api_settings: Settings, driver: Driver) -> Iterator[tuple[str, Driver]]:
    settings = api_settings.model_copy(
        update={
            "environment": Environment.PRODUCTION,
            "jwt_secret": SecretStr("p" * 40),
            "neo4j_uri": api_settings.effective_neo4j_uri(),
            "neo4j_password": api_settings.effective_neo4j_password(),
        }
    )
    with serve(settings, driver) as url:
        yield url, driver


def test_production_turns_off_introspection_and_graphiql(
    production_url: tuple[str, Driver], db: Driver, database: str, client: httpx.Client
) -> None:
    url, _ = production_url
    with httpx.Client(base_url=url, timeout=30) as prod:
        headers = token_headers(prod, db, database, "prod-analyst", Role.ANALYST)
        body = post(prod, headers, "{ __schema { types { name } } }")
        assert body.get("data") is None and "introspection" in messages(body).lower()
        page = prod.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code in (401, 404) and "graphiql" not in page.text.lower()
        assert prod.get("/docs").status_code == 404
    # Only development turns it on (tests/security/test_headers.py); tools that need the
    # schema read `chainlens schema`, and the fuzzers build it from the code.
    headers = token_headers(client, db, database, "test-analyst", Role.ANALYST)
    body = post(client, headers, "{ __schema { queryType { name } } }")
    assert body.get("data") is None and "introspection" in messages(body).lower()


def test_production_masks_internal_errors_with_the_correlation_id(
    api_settings: Settings, db: Driver, database: str
) -> None:
    closed = create_driver(api_settings)
    closed.close()  # every query now fails inside the driver: an internal error

    class Broken:
        """Users (login, token checks) still answer; every other query fails."""

        def execute_query(self, query: str, *args: Any, **kwargs: Any) -> Any:
            if "(u:User" in query:
                return db.execute_query(query, *args, **kwargs)
            return closed.execute_query(query, *args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(closed, name)

    broken = Broken()
    settings = api_settings.model_copy(
        update={"environment": Environment.PRODUCTION, "jwt_secret": SecretStr("q" * 40),
                "neo4j_uri": api_settings.effective_neo4j_uri(),
                "neo4j_password": api_settings.effective_neo4j_password()}
    )  # fmt: skip
    with serve(settings, broken) as url, httpx.Client(base_url=url, timeout=30) as prod:
        headers = token_headers(prod, db, database, "masked", Role.ANALYST)
        response = prod.post(
            "/graphql",
            json={"query": "{ stats { nodes { name } } }"},
            headers={**headers, "x-request-id": "cid-123"},
        )
        error = response.json()["errors"][0]
        assert error["message"] == "internal error (correlation id cid-123)"
        assert error["extensions"] == {"code": "INTERNAL", "correlation_id": "cid-123"}
        assert "closed" not in response.text.lower() and "neo4j" not in response.text.lower()


def test_token_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    bucket = RateLimiter(per_minute=120, burst=2, clock=lambda: now[0])
    bucket.take("u")
    bucket.take("u")
    with pytest.raises(RateLimited) as raised:
        bucket.take("u")
    assert raised.value.retry_after == pytest.approx(0.5)
    now[0] = 0.5
    bucket.take("u")
    bucket.check("v")  # a look does not spend
    now[0] = 100.0
    bucket.take("u")
    bucket.take("u")  # refilled up to the burst, no more
    with pytest.raises(RateLimited):
        bucket.take("u")
