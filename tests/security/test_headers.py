"""Hardened defaults (issue 25, finding 9): security headers on every answer, no-store on
API answers, GraphiQL, /docs and introspection only in development, and /metrics labels
from a fixed set whatever methods and paths clients invent."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from neo4j import Driver

from api.app import WEB_DIST
from api.security import Role
from chainlens.settings import Environment
from tests.api.serving import token_headers

pytestmark = pytest.mark.neo4j

INTROSPECT = "{ __schema { queryType { name } } }"


def test_api_answers_carry_security_headers_and_no_store(
    client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    analyst = login(Role.ANALYST, username="headers-analyst")
    answers = [
        client.post("/graphql", json={"query": "{ __typename }"}, headers=analyst),
        client.post("/graphql", json={"query": "{ __typename }"}),  # 401
        client.get("/me", headers=analyst),
        client.get("/health"),
        client.post("/auth/token", json={"username": "nobody", "password": "x" * 12}),
        client.post("/graphql", content=b"\xff", headers={"content-type": "application/json"}),
    ]
    for response in answers:
        h = response.headers
        assert h["x-content-type-options"] == "nosniff", response.url
        assert h["x-frame-options"] == "DENY"
        assert h["referrer-policy"] == "no-referrer"
        assert h["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert h["cache-control"] == "no-store"


def test_the_explorer_page_has_a_policy_that_lets_it_work(client: httpx.Client) -> None:
    page = client.get("/")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "worker-src 'self' blob:" in csp  # the ForceAtlas2 layout runs in a blob worker
    assert "'unsafe-eval'" not in csp and "script-src 'self' 'unsafe-inline'" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    if (WEB_DIST / "index.html").is_file():
        assert page.status_code == 200
        asset = next((WEB_DIST / "assets").glob("*.js")).name
        script = client.get(f"/assets/{asset}")
        assert script.status_code == 200 and script.headers["x-content-type-options"] == "nosniff"


def test_introspection_graphiql_and_docs_only_in_development(
    client: httpx.Client,
    login: Callable[..., dict[str, str]],
    own_app: Callable[..., httpx.Client],
    db: Driver,
    database: str,
) -> None:
    analyst = login(Role.ANALYST, username="introspecting-analyst")
    refused = client.post("/graphql", json={"query": INTROSPECT}, headers=analyst).json()
    assert refused.get("data") is None and "introspection" in refused["errors"][0]["message"]
    assert client.get("/docs").status_code == 404
    page = client.get("/graphql", headers={"accept": "text/html"})
    assert "graphiql" not in page.text.lower()

    dev = own_app(environment=Environment.DEVELOPMENT)
    headers = token_headers(dev, db, database, "dev-analyst", Role.ANALYST)
    body = dev.post("/graphql", json={"query": INTROSPECT}, headers=headers).json()
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
    assert dev.get("/docs").status_code == 200
    assert "graphiql" in dev.get("/graphql", headers={"accept": "text/html"}).text.lower()


def test_metrics_labels_stay_a_fixed_set(own_app: Callable[..., httpx.Client]) -> None:
    http = own_app()
    for i in range(50):
        http.request(f"FOO{i}", f"/made-up/{i}")
        http.get(f"/nowhere-{i}")
        http.post(f"/graphql/{i}", json={})
    http.request("PROPFIND", "/graphql")
    metrics = http.get("/metrics").text
    assert "FOO" not in metrics and "PROPFIND" not in metrics
    assert "made-up" not in metrics and "nowhere" not in metrics and "/graphql/1" not in metrics
    methods = set(re.findall(r'method="([^"]*)"', metrics))
    routes = set(re.findall(r'route="([^"]*)"', metrics))
    assert "other" in methods and methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
                                              "OPTIONS", "other"}  # fmt: skip
    # Route templates of the app, "/" for the explorer's files, "unmatched" for the rest.
    assert routes <= {"/graphql", "/metrics", "/health", "/me", "/auth/token", "/", "unmatched",
                      "/api/v1/telemetry", "/openapi.json"}, routes  # fmt: skip
    assert len(metrics) < 100_000
