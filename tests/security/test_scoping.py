"""Every root field declares whose data it reads or writes (`api/graphql/scoping.py`).

The schema is introspected: a query, mutation or subscription without a scope fails here
(and is refused at run time), so does a scope for a field that no longer exists, and so does
an OWNED scope or an enterprise narrowing that names an argument the field does not take.
"""

from __future__ import annotations

from graphql import GraphQLInputObjectType, GraphQLNonNull, get_named_type

from api.graphql.schema import build_schema
from api.graphql.scoping import FILTERED, SCOPES, Scope
from chainlens.settings import Environment, Settings

SCHEMA = build_schema(Settings(environment=Environment.TEST))._schema


def _root_fields() -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for root in (SCHEMA.query_type, SCHEMA.mutation_type, SCHEMA.subscription_type):
        if root is None:
            continue
        for name, field in root.fields.items():
            out[f"{root.name}.{name}"] = dict(field.args)
    return out


def _has_arg(args: dict[str, object], path: str) -> bool:
    head, _, rest = path.partition(".")
    if head not in args:
        return False
    if not rest:
        return True
    type_ = get_named_type(args[head].type)  # type: ignore[attr-defined]
    assert isinstance(type_, GraphQLInputObjectType)
    return _has_arg(dict(type_.fields), rest)


def test_every_root_field_declares_its_scope() -> None:
    fields = _root_fields()
    missing = sorted(set(fields) - set(SCOPES))
    assert not missing, f"root fields without a data scope in api/graphql/scoping.py: {missing}"


def test_no_scope_names_a_field_that_is_gone() -> None:
    assert not sorted(set(SCOPES) - set(_root_fields()))


def test_owned_and_narrowed_scopes_name_real_arguments() -> None:
    fields = _root_fields()
    for name, scoping in SCOPES.items():
        if scoping.scope is Scope.OWNED:
            assert scoping.label is not None and scoping.arg is not None, name
            assert _has_arg(fields[name], scoping.arg), (name, scoping.arg)
            arg = fields[name][scoping.arg.split(".")[0]]
            assert isinstance(arg.type, GraphQLNonNull), name  # type: ignore[attr-defined]
        if scoping.party not in (None, FILTERED):
            assert _has_arg(fields[name], str(scoping.party)), (name, scoping.party)


def test_the_book_is_never_shared() -> None:
    """Fields that read or write a funder's book are not declared SHARED."""
    book = ("application", "financing", "creditLine", "trialBalance", "account",
            "reviewQueue", "portfolio", "drawdown", "disburse", "repay")  # fmt: skip
    for name, scoping in SCOPES.items():
        field = name.split(".")[1]
        if any(field.lower().startswith(b.lower()) or field.lower().endswith(b.lower())
               for b in book):  # fmt: skip
            assert scoping.scope is not Scope.SHARED, name
