"""The permission matrix (issue 25): every query and mutation field x every role, against the
table in `docs/api.md`, which is generated from the fields' own declarations
(`api/graphql/permission_matrix.py`).

A new root field without a role declaration fails here, so does a table that no longer says
what the code declares, and so does a field whose check does not hold over HTTP: each role
sends every field with the smallest valid arguments and must be refused (FORBIDDEN, the
field-level message) exactly where the matrix says so.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
)
from graphql.pyutils import Undefined

from api.graphql.permission_matrix import ROLES, Entry, documented, markdown, matrix
from api.graphql.permissions import HasRole
from api.graphql.schema import build_schema
from api.security import Role
from chainlens.settings import Environment, Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
SCHEMA = build_schema(Settings(environment=Environment.TEST))
ENTRIES = matrix(SCHEMA)
SCALAR_LITERALS = {
    "ID": '"PM-1"',
    "String": '"x"',
    "Int": "1",
    "Float": "1.0",
    "Decimal": '"1"',
    "Boolean": "false",
    "BigInt": "1",
    "Date": '"2026-01-02"',
    "DateTime": '"2026-01-02T00:00:00+00:00"',
    "JSON": '"{}"',
    # A literal is no file: uploadSignedContract answers BAD_REQUEST to the allowed roles.
    "Upload": '"x"',
}
NAMED_LITERALS = {"currency": '"CNY"'}  # ISO 4217 is checked before any resolver


def literal(name: str, type_: GraphQLInputType) -> str:
    """The smallest valid literal of an argument or input field of this type."""
    if isinstance(type_, GraphQLNonNull):
        return literal(name, type_.of_type)
    if isinstance(type_, GraphQLList):
        return f"[{literal(name, type_.of_type)}]"
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        fields = [
            f"{n}: {literal(n, f.type)}"
            for n, f in type_.fields.items()
            if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined
        ]
        return "{" + ", ".join(fields) + "}"
    assert isinstance(type_, GraphQLScalarType)
    return NAMED_LITERALS.get(name, SCALAR_LITERALS[type_.name])


def operation(kind: str, name: str, field: GraphQLField) -> str:
    args = [
        f"{a}: {literal(a, arg.type)}"
        for a, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
    ]
    call = name + (f"({', '.join(args)})" if args else "")
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    return f"{kind} {{ {call}{selection} }}"


def roots() -> list[tuple[Entry, str]]:
    schema = SCHEMA._schema
    out = []
    for entry in ENTRIES:
        root: GraphQLObjectType | None = {
            "Query": schema.query_type, "Mutation": schema.mutation_type,
        }.get(entry.type_name)  # fmt: skip
        if root is not None:
            kind = "query" if entry.type_name == "Query" else "mutation"
            out.append((entry, operation(kind, entry.field, root.fields[entry.field])))
    return out


def test_every_root_field_declares_its_roles() -> None:
    schema = SCHEMA._schema
    names = {
        f"{t.name}.{f}"
        for t in (schema.query_type, schema.mutation_type, schema.subscription_type)
        if t is not None
        for f in t.fields
    }
    assert names == {e.name for e in ENTRIES if e.type_name in ("Query", "Mutation",
                                                                 "Subscription")}  # fmt: skip
    undeclared = [e.name for e in ENTRIES if not e.declared]
    assert undeclared == [], f"fields with no requires(...): {undeclared}"


def test_docs_table_is_the_declared_matrix() -> None:
    table = documented(DOC.read_text(encoding="utf-8"))
    assert table, "docs/api.md has no permission matrix"
    assert table == markdown(ENTRIES), (
        "docs/api.md's permission matrix differs from the declarations; regenerate it with "
        "`.venv/bin/python -m api.graphql.permission_matrix`"
    )


def test_the_matrix_sees_a_missing_declaration() -> None:
    # The seam this test exists for: a root field added without requires(...).
    import strawberry

    @strawberry.type
    class Query:
        @strawberry.field
        def open_door(self) -> int:
            return 1

    entries = matrix(strawberry.Schema(query=Query))
    assert [(e.name, e.declared) for e in entries] == [("Query.openDoor", False)]


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_each_role_is_allowed_and_refused_as_the_matrix_says(
    client: httpx.Client, login: Callable[..., dict[str, str]], role: Role
) -> None:
    headers = login(role, username=f"matrix-{role.value}")
    wrong: list[str] = []
    for entry, query in roots():
        response = client.post("/graphql", json={"query": query}, headers=headers)
        assert response.status_code < 500, (entry.name, query, response.text)
        body = response.json()
        errors = body.get("errors") or []
        denied = any(e.get("message") == HasRole.message for e in errors)
        codes = {(e.get("extensions") or {}).get("code") for e in errors}
        assert "INTERNAL" not in codes, (entry.name, query, body)
        if role in entry.allowed:
            if denied:
                wrong.append(f"{entry.name}: refused to {role.value}, the matrix allows it")
        elif not denied or (body.get("data") or {}).get(entry.field) is not None:
            wrong.append(f"{entry.name}: answered {role.value}, the matrix refuses it: {body}")
        elif codes != {"FORBIDDEN"} or response.status_code != 403:
            wrong.append(f"{entry.name}: refused with {codes} {response.status_code}")
    assert wrong == []
