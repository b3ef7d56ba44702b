"""Fuzzing the API as a hostile client would: schemathesis against the OpenAPI spec and
hypothesis-graphql against the GraphQL schema, over the real app and a small real graph.

Properties: no 500 and no internal error for any generated request, no secret in any answer
(password hashes, JWT secret, tracebacks), and a role never reads a field it is not granted
(admin-only and full-scan fields answer FORBIDDEN with no data). Example counts are small so
that the whole module stays under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Any

import httpx
import hypothesis_graphql as hg
import pytest
import schemathesis
from graphql import build_schema as parse_sdl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from neo4j import Driver

from api.graphql.schema import build_schema
from api.security import Role
from chainlens.settings import Settings
from graph.maintenance import clear_database
from tests.api.serving import serve, token_headers

EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
SCALARS = {
    "BigInt": st.integers(-(2**40), 2**40).map(nodes.Int),
    "Date": st.dates().map(nodes.String),
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(lambda d: nodes.String(d.isoformat())),
    "JSON": st.just(nodes.String("{}")),
}
LEAKS = ("$argon2", "Traceback", "password_hash", "passwordHash", "jwt_secret", "neo4j.exceptions")


@pytest.fixture(scope="module")
def fuzz_env(
    api_settings: Settings, driver: Driver, database: str
) -> Iterator[tuple[str, dict[Role, dict[str, str]], Settings]]:
    """Its own app (a rate limit that fuzzing cannot reach), a small graph, one user a role."""
    settings = api_settings.model_copy(
        update={"rate_limit_per_minute": 100_000, "rate_limit_burst": 100_000,
                "graphql_cost_per_minute": 100_000_000}
    )
    clear_database(driver, database)
    driver.execute_query(
        """
        CREATE (a:Enterprise {id: 'E1', name: '包钢集团', uscc: '91150100MA0N0X1X2A',
                is_core: true})
        CREATE (b:Enterprise {id: 'E2', name: '包头稀土', fraud_score: 0.4})
        CREATE (c:Enterprise {id: 'E3', name: '呼和浩特物流'})
        CREATE (b)-[:SUPPLIES {amount_12m: 1000000, invoices_12m: 4}]->(a)
        CREATE (c)-[:SUPPLIES {amount_12m: 50000, invoices_12m: 2}]->(b)
        CREATE (b)-[:GUARANTEES {id: 'G1', amount: 10}]->(c)
        CREATE (c)-[:GUARANTEES {id: 'G2', amount: 10}]->(b)
        CREATE (:Person {id: 'P1', name: '李四'})-[:HOLDS {pct: 60.0}]->(a)
        """,
        database_=database,
    )
    with serve(settings, driver) as url, httpx.Client(base_url=url, timeout=60) as client:
        users = {
            role: token_headers(client, driver, database, f"fuzz-{role.value}", role)
            for role in (Role.ANALYST, Role.RELATIONSHIP_MANAGER, Role.SERVICE, Role.ADMIN)
        }
        yield url, users, settings


def text_of(response: Any) -> str:
    """The body as text; a binary answer (an XLSX download) decoded with replacements."""
    return bytes(response.content).decode("utf-8", "replace")


def assert_clean(status: int, text: str) -> None:
    assert status < 500, text[:2000]
    for secret in LEAKS:
        assert secret not in text, (secret, text[:2000])


@pytest.mark.slow
def test_openapi_operations_never_fail_or_leak(
    fuzz_env: tuple[str, dict[Role, dict[str, str]], Settings],
) -> None:
    url, users, _ = fuzz_env
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    operations = [op.ok() for op in schema.get_all_operations()]
    assert {(o.method.upper(), o.path) for o in operations} >= {
        ("POST", "/auth/token"), ("GET", "/health"), ("GET", "/me"), ("GET", "/metrics"),
    }  # fmt: skip
    for operation in operations:

        @EXAMPLES
        @given(case=operation.as_strategy(), as_admin=st.booleans())
        def check(case: schemathesis.Case, as_admin: bool) -> None:
            headers = dict(case.headers or {})
            if as_admin:
                headers.update(users[Role.ADMIN])
            response = case.call(base_url=url, headers=headers)
            assert_clean(response.status_code, text_of(response))

        check()


def graphql_sdl(settings: Settings) -> str:
    return str(build_schema(settings))


def query_fields(sdl: str) -> list[str]:
    query = parse_sdl(sdl).query_type
    assert query is not None
    return sorted(query.fields)


# Fields a role may not read; every other Query field is open to every reader role.
ADMIN_ONLY = {"users", "auditEvents"}
SCANS = {"guaranteeCircles", "circularTrade", "duplicatePledges"}


@pytest.mark.slow
def test_generated_queries_never_fail_or_leak(
    fuzz_env: tuple[str, dict[Role, dict[str, str]], Settings],
) -> None:
    url, users, settings_ = fuzz_env
    sdl = graphql_sdl(settings_)
    fields = [f for f in query_fields(sdl) if f not in ADMIN_ONLY]
    with httpx.Client(base_url=url, timeout=60) as client:

        @EXAMPLES
        @given(query=hg.queries(sdl, fields=fields, custom_scalars=SCALARS, allow_x00=False))
        def check(query: str) -> None:
            response = client.post("/graphql", json={"query": query}, headers=users[Role.ANALYST])
            assert_clean(response.status_code, text_of(response))
            body = response.json()
            codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
            assert "INTERNAL" not in codes, body

        check()


@pytest.mark.parametrize(
    ("role", "fields"),
    [
        (Role.ANALYST, sorted(ADMIN_ONLY)),
        (Role.SERVICE, sorted(ADMIN_ONLY | SCANS)),
        (Role.RELATIONSHIP_MANAGER, sorted(ADMIN_ONLY | SCANS)),
    ],
)
def test_no_role_reads_what_it_is_not_granted(
    fuzz_env: tuple[str, dict[Role, dict[str, str]], Settings], role: Role, fields: list[str]
) -> None:
    url, users, settings_ = fuzz_env
    sdl = graphql_sdl(settings_)
    present = [f for f in fields if f in query_fields(sdl)]
    assert "users" in present and "auditEvents" in present
    with httpx.Client(base_url=url, timeout=60) as client:

        @EXAMPLES
        @given(query=hg.queries(sdl, fields=present, custom_scalars=SCALARS, allow_x00=False))
        def check(query: str) -> None:
            response = client.post("/graphql", json={"query": query}, headers=users[role])
            assert_clean(response.status_code, text_of(response))
            body = response.json()
            data = body.get("data") or {}
            assert not any(data.get(f) for f in present), body
            codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or []}
            # Denied, or rejected before running (a generated argument out of range).
            assert codes and codes <= {"FORBIDDEN", "BAD_REQUEST", "COST_LIMIT", None}, body

        check()
    # The admin does read them.
    admin = httpx.post(
        url + "/graphql",
        json={"query": "{ users { username } auditEvents(first: 1) { edges { cursor } } }"},
        headers=users[Role.ADMIN],
        timeout=60,
    ).json()
    assert admin["data"]["users"] and "errors" not in admin
