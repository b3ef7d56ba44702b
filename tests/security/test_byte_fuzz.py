"""Byte-level fuzzing (issue 25), in CI with the rest of the suite: lone surrogates, invalid
UTF-8, huge strings and numbers and deeply nested JSON, sent as every argument of every query
and mutation (generated from the schema) and to every REST route (from the app's routes).

Properties: no answer is a 5xx or an internal error; afterwards the audit trail has stored
what it was given (nothing pending, failing or dead-lettered, and a marker request made after
the fuzzing is in the graph), and telemetry has stored exactly what it acknowledged. Bounded:
the payloads are a fixed list plus a few dozen hypothesis-chosen byte strings, all sent as an
admin (who passes every role check, so nothing is refused before the inputs are read).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from graphql import GraphQLArgument, GraphQLNonNull, get_named_type, is_leaf_type
from graphql.pyutils import Undefined
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import Driver

from api.app import create_app
from api.security import Role
from chainlens.settings import Settings
from sensors.model import AssetInfo, SensorInfo, SensorKind
from sensors.registry import register_collateral, register_sensors
from sensors.store import query as store_query
from tests.api.serving import token_headers
from tests.security.test_permission_matrix import SCHEMA, literal

# Raw JSON texts for one variable: what a hostile or broken client sends.
PAYLOADS: tuple[bytes, ...] = (
    b'"\\ud800"',  # a lone high surrogate
    b'"x\\udfffy"',  # a lone low surrogate inside text
    b'"\xff\xfe\xc3("',  # bytes that are not UTF-8
    b'"' + b"A" * 100_000 + b'"',  # a huge string
    b"1e400",  # a number no float holds
    b"123456789012345678901234567890",  # beyond 64 bits
    b"-1e309",
    b"[" * 40 + b"]" * 40,  # nested deeper than the body limit
    b'{"a":' * 40 + b"1" + b"}" * 40,
    b"[" + b",".join([b'"\\ud83d"'] * 500) + b"]",  # a list of lone surrogates
)
BAD = {"INTERNAL"}


def fields() -> Iterator[tuple[str, str, str, GraphQLArgument, str]]:
    """(kind, field, argument, its definition, the other required arguments as literals)."""
    schema = SCHEMA._schema
    for kind, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            for arg_name, arg in field.args.items():
                others = ", ".join(
                    f"{a}: {literal(a, other.type)}"
                    for a, other in field.args.items()
                    if a != arg_name
                    and isinstance(other.type, GraphQLNonNull)
                    and other.default_value is Undefined
                )
                selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
                call = f"{name}({arg_name}: $v{', ' + others if others else ''})"
                yield kind, name, arg_name, arg, f"{kind}($v: {arg.type}) {{ {call}{selection} }}"


def check(response: httpx.Response, what: object) -> None:
    assert response.status_code < 500, (what, response.status_code, response.text[:500])
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        errors = body.get("errors") if isinstance(body, dict) else None
        codes = {(e.get("extensions") or {}).get("code") for e in errors or []}
        assert not codes & BAD, (what, body)


@pytest.fixture
def fuzz_app(
    own_app: Callable[..., httpx.Client], db: Driver, database: str, tmp_path: Path
) -> tuple[httpx.Client, dict[str, str], Path]:
    register_collateral(
        db, database, [AssetInfo("COLD-F", "inventory", Decimal(10), "t", owner_id="E-F")]
    )
    register_sensors(db, database, [SensorInfo("TH-F", SensorKind.THERMOMETER, "COLD-F")])
    data_dir = tmp_path / "sensors"
    http = own_app(sensors_dir=data_dir, sensors_registry_refresh_s=0.0)
    return http, token_headers(http, db, database, "fuzz-admin", Role.ADMIN), data_dir


def post_graphql(
    http: httpx.Client, headers: dict[str, str], query: str, raw: bytes
) -> httpx.Response:
    body = b'{"query": ' + json.dumps(query).encode() + b', "variables": {"v": ' + raw + b"}}"
    return http.post(
        "/graphql", content=body, headers={**headers, "content-type": "application/json"}
    )


def rest_routes(api_settings: Settings, driver: Driver) -> list[tuple[str, str]]:
    app = create_app(api_settings, driver=driver)
    out = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            out += [(method, route.path) for method in sorted(route.methods or ())]
    return out


def audit_stored(db: Driver, database: str) -> int:
    records, _, _ = db.execute_query(
        "MATCH (a:AuditEvent) RETURN count(a) AS n", database_=database
    )
    return int(records[0]["n"])


def metric(http: httpx.Client, name: str) -> float:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric {name}")


@pytest.mark.slow
def test_bytes_on_every_argument_and_route_break_nothing(
    fuzz_app: tuple[httpx.Client, dict[str, str], Path], api_settings: Settings,
    db: Driver, database: str,
) -> None:  # fmt: skip
    http, admin, data_dir = fuzz_app
    started = time.monotonic()
    sent = 0
    # Every argument of every query and mutation, as a variable and (strings) as a literal.
    for _kind, name, arg_name, arg, query in fields():
        for raw in PAYLOADS:
            check(post_graphql(http, admin, query, raw), (name, arg_name, raw[:30]))
            sent += 1
        if get_named_type(arg.type).name in ("String", "ID"):
            text = query.replace(f"($v: {arg.type})", "").replace("$v", '"\\ud800\\u0000"')
            check(http.post("/graphql", json={"query": text}, headers=admin), (name, "literal"))
    # Every REST route and method, with and without a token, each payload as the body; path
    # parameters get undecodable and huge values.
    telemetry_accepted = 0
    for method, path in rest_routes(api_settings, db):
        url = path.replace("{", "").replace("}", "") if "{" not in path else (
            path.split("{")[0] + "%ff%fe" + "B" * 5_000
        )  # fmt: skip
        for headers in ({}, admin):
            for raw in (*PAYLOADS, b"\x00\xff" * 100, b""):
                response = http.request(
                    method, url, content=raw,
                    headers={**headers, "content-type": "application/json"},
                )  # fmt: skip
                check(response, (method, path, raw[:30]))
                if path == "/api/v1/telemetry" and response.status_code == 200:
                    telemetry_accepted += int(response.json().get("accepted", 0))
                sent += 1
    assert sent > 1_000
    # Random bytes inside a JSON string, for a text, an id and a request id.
    targets = [q for q in fields() if (q[1], q[2]) in {
        ("searchEnterprises", "text"), ("enterprise", "id"), ("drawdown", "requestId"),
    }]  # fmt: skip
    assert len(targets) == 3

    @settings(max_examples=40, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.sampled_from(targets), st.binary(max_size=48))
    def random_bytes(target: tuple[str, str, str, GraphQLArgument, str], data: bytes) -> None:
        raw = b'"' + data.replace(b'"', b"").replace(b"\\", b"") + b'"'
        check(post_graphql(http, admin, target[4], raw), (target[1], data))

    random_bytes()
    # A good reading is still taken, and telemetry stored exactly what it acknowledged.
    at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 60))
    good = {"sensor_id": "TH-F", "ts": at, "kind": "temperature", "value": -18.0, "unit": "C",
            "seq": 1}  # fmt: skip
    response = http.post("/api/v1/telemetry", json=[good], headers=admin)
    assert response.status_code == 200 and response.json()["accepted"] == 1, response.text
    stored = store_query(data_dir, "SELECT count(*) FROM readings")[0][0]
    assert stored == telemetry_accepted + 1
    # The audit trail was not silenced: a marker request made now is stored, nothing is left
    # pending, failing or dead-lettered.
    marker = "query FuzzMarker { stats { nodes { name } } }"
    check(http.post("/graphql", json={"query": marker}, headers=admin), "marker")
    deadline = time.monotonic() + 30
    while metric(http, "chainlens_audit_pending_events") > 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert metric(http, "chainlens_audit_pending_events") == 0
    assert metric(http, "chainlens_audit_failing") == 0
    assert metric(http, "chainlens_audit_dead_letters") == 0
    records, _, _ = db.execute_query(
        "MATCH (a:AuditEvent {operation: 'FuzzMarker'}) RETURN count(a) AS n", database_=database
    )
    assert records[0]["n"] == 1
    assert audit_stored(db, database) >= sent // 4
    assert http.get("/health").status_code == 200
    assert time.monotonic() - started < 60
